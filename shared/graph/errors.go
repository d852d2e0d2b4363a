package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/seatwise/seatwise/shared/domain"
)

// mapError turns a failure of an operation on a tenant into a *domain.Error, keeping the original as its cause:
//
//   - the authority refused the credentials (bad secret, consent revoked, unknown tenant), or Graph answered
//     401/403 → EUnauthorized
//   - 429 after the retries → EThrottled
//   - 5xx after the retries, an unreachable service, an unusable answer, or the context's deadline → EUpstream
//   - 404 → ENotFound; 400 → EInvalid; 409/412 → EConflict
//
// Messages name the tenant and carry Graph's request-id when there is one.
func (c *Client) mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}

	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) {
		return c.mapAuthError(err, authErr)
	}

	var odataErr *odataerrors.ODataError
	var apiErr abs.ApiErrorable
	if errors.As(err, &odataErr) {
		apiErr = odataErr
	} else if !errors.As(err, &apiErr) {
		apiErr = nil
	}
	if apiErr != nil {
		status := apiErr.GetStatusCode()
		detail := fmt.Sprintf("HTTP %d", status)
		if odataErr != nil {
			if main := odataErr.GetErrorEscaped(); main != nil {
				detail += ": " + deref(main.GetCode())
				if m := deref(main.GetMessage()); m != "" {
					detail += ": " + m
				}
			}
		} else if e, ok := apiErr.(error); ok {
			detail += ": " + e.Error()
		}
		if id := requestID(apiErr, odataErr); id != "" {
			detail += " (request-id " + id + ")"
		}
		switch {
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return domain.Wrap(err, domain.EUnauthorized, fmt.Sprintf("Microsoft Graph refused the credentials for tenant %s: %s", c.tenantID, detail))
		case status == http.StatusTooManyRequests:
			return domain.Wrap(err, domain.EThrottled, fmt.Sprintf("Microsoft Graph kept throttling %s for tenant %s: %s", op, c.tenantID, detail))
		case status == http.StatusNotFound:
			return domain.Wrap(err, domain.ENotFound, fmt.Sprintf("Microsoft Graph found nothing for %s in tenant %s: %s", op, c.tenantID, detail))
		case status == http.StatusConflict || status == http.StatusPreconditionFailed:
			return domain.Wrap(err, domain.EConflict, fmt.Sprintf("Microsoft Graph reported a conflict for %s in tenant %s: %s", op, c.tenantID, detail))
		case status == http.StatusBadRequest:
			return domain.Wrap(err, domain.EInvalid, fmt.Sprintf("Microsoft Graph rejected %s for tenant %s: %s", op, c.tenantID, detail))
		default:
			return domain.Wrap(err, domain.EUpstream, fmt.Sprintf("Microsoft Graph failed %s for tenant %s: %s", op, c.tenantID, detail))
		}
	}

	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return domain.Wrap(err, domain.EUpstream, fmt.Sprintf("Microsoft Graph did not answer %s for tenant %s in time", op, c.tenantID))
	}
	return domain.Wrap(err, domain.EUpstream, fmt.Sprintf("Microsoft Graph could not be reached for %s in tenant %s", op, c.tenantID))
}

// mapAuthError classifies a token failure: a refusal by the authority is EUnauthorized; no answer, or a 429/5xx
// from it, is EThrottled/EUpstream.
func (c *Client) mapAuthError(err error, authErr *azidentity.AuthenticationFailedError) error {
	res := authErr.RawResponse
	if res == nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return domain.Wrap(err, domain.EUpstream, fmt.Sprintf("Microsoft Entra ID did not issue a token for tenant %s in time", c.tenantID))
		}
		return domain.Wrap(err, domain.EUpstream, fmt.Sprintf("Microsoft Entra ID could not be reached for a token for tenant %s", c.tenantID))
	}
	detail := fmt.Sprintf("HTTP %d", res.StatusCode)
	if body, perr := runtime.Payload(res); perr == nil { // Payload keeps the body readable for authErr.Error()
		var aad struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &aad) == nil && aad.Error != "" {
			desc, _, _ := strings.Cut(aad.Description, "\r\n") // drop the Trace ID / Correlation ID / Timestamp lines
			detail += ": " + aad.Error + ": " + strings.TrimSpace(desc)
		}
	}
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		return domain.Wrap(err, domain.EThrottled, fmt.Sprintf("Microsoft Entra ID throttled token requests for tenant %s: %s", c.tenantID, detail))
	case res.StatusCode >= 500:
		return domain.Wrap(err, domain.EUpstream, fmt.Sprintf("Microsoft Entra ID failed to issue a token for tenant %s: %s", c.tenantID, detail))
	default:
		return domain.Wrap(err, domain.EUnauthorized, fmt.Sprintf("Microsoft Graph refused the credentials for tenant %s: %s", c.tenantID, detail))
	}
}

// requestID finds Graph's request-id: the response header, else the error body's innerError.
func requestID(apiErr abs.ApiErrorable, odataErr *odataerrors.ODataError) string {
	if h := apiErr.GetResponseHeaders(); h != nil {
		if v := h.Get("request-id"); len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	if odataErr != nil {
		if main := odataErr.GetErrorEscaped(); main != nil && main.GetInnerError() != nil {
			return deref(main.GetInnerError().GetRequestId())
		}
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

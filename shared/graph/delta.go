package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/seatwise/seatwise/shared/domain"
)

// RemovedUser is a user a delta query reports as removed.
type RemovedUser struct {
	ID string
	// Reason is RemovedSoftDeleted or RemovedDeleted.
	Reason string
}

// Reasons of a RemovedUser, as Graph's "@removed" gives them.
const (
	// RemovedSoftDeleted: the user was deleted but can be restored (for 30 days).
	RemovedSoftDeleted = "changed"
	// RemovedDeleted: the user was deleted permanently.
	RemovedDeleted = "deleted"
)

// ErrResyncRequired is wrapped by the error Delta returns when Graph no longer accepts the stored deltaLink (410
// Gone, or a syncStateNotFound / resyncRequired error): the caller must drop it and start over with a full delta
// (link ""), treating users it does not see again as gone. Test with errors.Is; the domain code is EConflict.
var ErrResyncRequired = errors.New("graph: the delta token is no longer valid, a full resync is required")

// DeltaPageSize is the page size a delta query asks for (Prefer: odata.maxpagesize).
const DeltaPageSize = 999

// Delta reads the changes to the tenant's users: with link "" a full round (every user, $select of UserFields),
// else the changes since link, a deltaLink returned by an earlier call. It calls fn once per page, in order, with
// the users changed or added (all selected properties) and those removed, and returns the new deltaLink to store
// for the next call. A user may be reported changed twice across rounds: callers upsert.
//
// Graph's delta does not track licenseAssignmentStates: licences a user inherits from a group change without the
// user appearing here, so a periodic full read (PageUsers) is still needed for them.
//
// Errors: an error wrapping ErrResyncRequired (EConflict) when the link is no longer valid; EInvalid (a link not on
// the Graph host); EUnauthorized, EThrottled, EUpstream; or fn's error, as is.
func (c *Client) Delta(ctx context.Context, link string, fn func(changed []domain.GraphUser, removed []RemovedUser) error) (string, error) {
	for n := 1; ; n++ {
		if n > maxPages {
			return "", domain.Errorf(domain.EUpstream, "Microsoft Graph returned more than %d delta pages for tenant %s", maxPages, c.tenantID)
		}
		page, err := c.DeltaPage(ctx, link)
		if err != nil {
			return "", err
		}
		if err := fn(page.Changed, page.Removed); err != nil {
			return "", err
		}
		if page.DeltaLink != "" {
			return page.DeltaLink, nil
		}
		link = page.NextLink
	}
}

// DeltaPage is one page of a delta round.
type DeltaPage struct {
	Changed []domain.GraphUser
	Removed []RemovedUser
	// NextLink is the link of the next page; "" on the last page, which carries DeltaLink instead.
	NextLink  string
	DeltaLink string
}

// DeltaPage reads one page of a delta round: link "" starts a full round; a nextLink continues a round (so that a
// caller can checkpoint between pages and resume after a crash); a deltaLink starts a round of the changes since.
// Errors are those of Delta.
func (c *Client) DeltaPage(ctx context.Context, link string) (DeltaPage, error) {
	const op = "read user changes"
	headers := abs.NewRequestHeaders()
	headers.Add("Prefer", "odata.maxpagesize="+strconv.Itoa(DeltaPageSize))
	b := users.NewDeltaRequestBuilderInternal(c.pathParams(), c.adapter)
	var (
		resp users.DeltaGetResponseable
		err  error
	)
	if link == "" {
		resp, err = b.GetAsDeltaGetResponse(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
			Headers:         headers,
			QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: UserFields},
		})
	} else {
		if err := c.checkNextLink(op, link, 0); err != nil {
			return DeltaPage{}, err
		}
		resp, err = b.WithUrl(link).GetAsDeltaGetResponse(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{Headers: headers})
	}
	if err != nil {
		return DeltaPage{}, c.mapDeltaError(op, err)
	}
	if resp == nil {
		return DeltaPage{}, c.mapError(op, fmt.Errorf("empty answer"))
	}
	var page DeltaPage
	page.Changed, page.Removed = splitDelta(resp.GetValue())
	if d := deref(resp.GetOdataDeltaLink()); d != "" {
		if err := c.checkNextLink(op, d, 0); err != nil {
			return DeltaPage{}, err
		}
		page.DeltaLink = d
		return page, nil
	}
	page.NextLink = deref(resp.GetOdataNextLink())
	switch {
	case page.NextLink == "":
		return DeltaPage{}, domain.Errorf(domain.EUpstream, "Microsoft Graph ended a delta query for tenant %s without a deltaLink", c.tenantID)
	case page.NextLink == link:
		return DeltaPage{}, domain.Errorf(domain.EUpstream, "Microsoft Graph returned the same delta link twice for tenant %s", c.tenantID)
	}
	if err := c.checkNextLink(op, page.NextLink, 1); err != nil {
		return DeltaPage{}, err
	}
	return page, nil
}

// DeltaPage reads one page of a tenant's user changes (see Client.DeltaPage).
func (f *Factory) DeltaPage(ctx context.Context, tenantID, link string) (DeltaPage, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return DeltaPage{}, err
	}
	return c.DeltaPage(ctx, link)
}

// Delta reads the changes to a tenant's users (see Client.Delta).
func (f *Factory) Delta(ctx context.Context, tenantID, link string, fn func(changed []domain.GraphUser, removed []RemovedUser) error) (string, error) {
	c, err := f.Tenant(tenantID)
	if err != nil {
		return "", err
	}
	return c.Delta(ctx, link, fn)
}

// splitDelta separates the removed users ("@removed", which msgraph-sdk-go leaves in AdditionalData) from the
// changed ones.
func splitDelta(us []models.Userable) (changed []domain.GraphUser, removed []RemovedUser) {
	changed = make([]domain.GraphUser, 0, len(us))
	for _, u := range us {
		if reason, ok := removedReason(u); ok {
			removed = append(removed, RemovedUser{ID: deref(u.GetId()), Reason: reason})
			continue
		}
		changed = append(changed, convertUser(u))
	}
	return changed, removed
}

// removedReason reads a delta item's "@removed": {"reason": "changed"|"deleted"}. A removal without a reason
// counts as permanent.
func removedReason(u models.Userable) (string, bool) {
	v, ok := u.GetAdditionalData()["@removed"]
	if !ok {
		return "", false
	}
	reason := ""
	if m, ok := v.(map[string]any); ok {
		switch r := m["reason"].(type) {
		case *string:
			reason = deref(r)
		case string:
			reason = r
		}
	}
	if reason == "" {
		reason = RemovedDeleted
	}
	return reason, true
}

// mapDeltaError maps an unusable delta token to ErrResyncRequired, and anything else as mapError does.
func (c *Client) mapDeltaError(op string, err error) error {
	var odataErr *odataerrors.ODataError
	if errors.As(err, &odataErr) {
		code := ""
		if main := odataErr.GetErrorEscaped(); main != nil {
			code = strings.ToLower(deref(main.GetCode()))
		}
		if odataErr.GetStatusCode() == http.StatusGone || strings.HasPrefix(code, "syncstate") || strings.HasPrefix(code, "resync") {
			mapped := c.mapError(op, err) // for the detail (status, code, message, request-id)
			return domain.Wrap(fmt.Errorf("%w: %w", ErrResyncRequired, err), domain.EConflict,
				fmt.Sprintf("Microsoft Graph no longer accepts the stored delta link of tenant %s, a full resync is required: %s",
					c.tenantID, detailOf(mapped)))
		}
	}
	return c.mapError(op, err)
}

// detailOf returns the part of a mapped error's message after its first ": " (the Graph detail).
func detailOf(err error) string {
	msg := domain.ErrorMessage(err)
	if _, d, ok := strings.Cut(msg, ": "); ok {
		return d
	}
	return msg
}

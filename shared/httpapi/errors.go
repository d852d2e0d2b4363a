package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
)

// statusOf is the one place that maps domain error codes to HTTP statuses.
var statusOf = map[string]int{
	domain.EInvalid:      http.StatusBadRequest,
	domain.ENotFound:     http.StatusNotFound,
	domain.EConflict:     http.StatusConflict,
	domain.EForbidden:    http.StatusForbidden,
	domain.EUnauthorized: http.StatusUnauthorized,
	domain.EUpstream:     http.StatusBadGateway,
	domain.EThrottled:    http.StatusTooManyRequests,
	domain.EInternal:     http.StatusInternalServerError,
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// fromEchoError turns echo's own errors (unknown route, wrong method, body too large) into domain errors.
func fromEchoError(he *echo.HTTPError) error {
	msg, _ := he.Message.(string)
	switch he.Code {
	case http.StatusNotFound:
		return domain.Errorf(domain.ENotFound, "no such route")
	case http.StatusMethodNotAllowed:
		return domain.Errorf(domain.EInvalid, "method not allowed on this route")
	case http.StatusRequestEntityTooLarge:
		return &domain.Error{Code: domain.EInvalid, Message: "request body too large",
			Fields: map[string]string{"body": "larger than the limit of this route"}}
	case http.StatusUnauthorized:
		return domain.Errorf(domain.EUnauthorized, "%s", orText(msg, "authentication required"))
	}
	return &domain.Error{Code: domain.EInternal, Message: "internal error", Err: he}
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// errorHandler writes every error as {"error":{code,message,fields}}; internal errors are logged with the request id
// and shown as "internal error".
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			err = fromEchoError(he)
		}
		code := domain.ErrorCode(err)
		status, ok := statusOf[code]
		if !ok {
			code, status = domain.EInternal, http.StatusInternalServerError
		}
		body := errorDetail{Code: code, Message: domain.ErrorMessage(err)}
		var de *domain.Error
		if errors.As(err, &de) {
			body.Fields = de.Fields
		}
		reqID := c.Response().Header().Get(echo.HeaderXRequestID)
		if code == domain.EInternal {
			body.Message = "internal error"
			log.ErrorContext(c.Request().Context(), "request failed", "requestId", reqID,
				"method", c.Request().Method, "path", c.Path(), "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, errorBody{Error: body})
	}
}

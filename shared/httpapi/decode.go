package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
)

// maxBody is the largest JSON body a route accepts.
const maxBody = 64 << 10

// decodeJSON reads the request body into v: at most maxBody bytes, one JSON object, no unknown fields. Every
// rejection is an EInvalid error that says what is wrong.
func decodeJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBody+1))
	if err != nil {
		return domain.Wrap(err, domain.EInvalid, "could not read the request body")
	}
	if len(body) > maxBody {
		return &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("request body larger than %d bytes", maxBody),
			Fields: map[string]string{"body": fmt.Sprintf("at most %d bytes", maxBody)}}
	}
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return &domain.Error{Code: domain.EInvalid, Message: "the request body must be application/json",
			Fields: map[string]string{"body": "Content-Type " + ct + " is not application/json"}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &domain.Error{Code: domain.EInvalid, Message: "the request body holds more than one JSON value",
			Fields: map[string]string{"body": "trailing data after the JSON object"}}
	}
	return nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return &domain.Error{Code: domain.EInvalid, Message: "the request body is empty",
			Fields: map[string]string{"body": "a JSON object is required"}}
	case errors.As(err, &typeErr):
		return &domain.Error{Code: domain.EInvalid, Message: "wrong type for field " + typeErr.Field,
			Fields: map[string]string{typeErr.Field: "must be a " + typeErr.Type.String()}}
	case errors.As(err, &syntaxErr):
		return &domain.Error{Code: domain.EInvalid, Message: fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset),
			Fields: map[string]string{"body": syntaxErr.Error()}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &domain.Error{Code: domain.EInvalid, Message: "unknown field " + field,
			Fields: map[string]string{field: "unknown field"}}
	default:
		return &domain.Error{Code: domain.EInvalid, Message: "malformed JSON",
			Fields: map[string]string{"body": err.Error()}}
	}
}

// bodyLimit is a route's own limit on its request body, in place of maxBody: a body declared larger than max is
// refused with tooLarge at once; reading beyond max fails with an *http.MaxBytesError.
type bodyLimit struct {
	max      int64
	tooLarge error
}

func (l bodyLimit) middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > l.max {
				return l.tooLarge
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, l.max)
			return next(c)
		}
	}
}

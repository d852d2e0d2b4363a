// Package domain holds Seatwise's core types and its error model. It depends on nothing else in the
// repository; every other package speaks in these terms.
package domain

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status, in one place (httpapi).
const (
	EInvalid      = "invalid"      // the caller sent something wrong; Fields says what
	ENotFound     = "not_found"    // no such thing (or outside the caller's scope)
	EConflict     = "conflict"     // a duplicate, or a lost optimistic-locking race
	EForbidden    = "forbidden"    // authenticated, but the role does not allow it
	EUnauthorized = "unauthorized" // no or bad credentials (ours, or a tenant's consent)
	EUpstream     = "upstream"     // Microsoft Graph or AWS failed
	EThrottled    = "throttled"    // Microsoft Graph throttled us past our retries
	EInternal     = "internal"     // a bug or an unexpected failure
)

// Error is an application error with a code a program can act on and a message a person can read.
type Error struct {
	Code    string
	Message string
	// Fields maps an input field to what is wrong with it (for EInvalid).
	Fields map[string]string
	// Err is the underlying cause, if any; it is never shown to a client.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code and message whose cause is err.
func Wrap(err error, code, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Invalid returns an EInvalid error naming what is wrong with each field.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EInvalid, Message: "invalid input", Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for any other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EInternal
	}
}

// ErrorMessage returns the message of the first *Error in err's chain, "internal error" for any other error.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}

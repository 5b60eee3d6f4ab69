package ssogate

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Errors reported by ssogate. WorkOS failures are [*APIError] values that
// match the sentinel for their kind with errors.Is.
var (
	// ErrBadRequest: WorkOS rejected the request's parameters (400).
	ErrBadRequest = errors.New("ssogate: bad request")
	// ErrUnauthorized: the API key (or access token) was refused (401).
	ErrUnauthorized = errors.New("ssogate: unauthorized")
	// ErrForbidden: the API key may not do this (403).
	ErrForbidden = errors.New("ssogate: forbidden")
	// ErrNotFound: no such object (404).
	ErrNotFound = errors.New("ssogate: not found")
	// ErrValidation: WorkOS found the request invalid (422).
	ErrValidation = errors.New("ssogate: validation failed")
	// ErrRateLimited: WorkOS is rate limiting this API key (429).
	ErrRateLimited = errors.New("ssogate: rate limited")
	// ErrServer: WorkOS failed (5xx).
	ErrServer = errors.New("ssogate: workos server error")
	// ErrInvalidGrant: the code has expired or was already used; the login
	// must start again.
	ErrInvalidGrant = errors.New("ssogate: invalid grant")
	// ErrInvalidClient: the client ID or API key was refused at the token endpoint.
	ErrInvalidClient = errors.New("ssogate: invalid client")
	// ErrConnectionInvalid: the connection does not support the operation,
	// such as SSO logout for a SAML connection.
	ErrConnectionInvalid = errors.New("ssogate: connection invalid")
)

// APIError is an error response from WorkOS. It matches the sentinel of its
// kind with errors.Is: for example, a 404 matches [ErrNotFound], and a token
// exchange answered with invalid_grant matches [ErrInvalidGrant].
type APIError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Method and Path identify the request (the path without query).
	Method, Path string
	// Code is the machine-readable error code: the "code" field of an object
	// body, or the "error" field of an OAuth-style body.
	Code string
	// Message is the human-readable text: "message", or "error_description".
	Message string
	// Errors are the field errors of a validation failure.
	Errors []FieldError
	// RequestID is WorkOS's X-Request-ID, to quote to WorkOS support.
	RequestID string
	// RetryAfter is how long WorkOS asked the client to wait, if it did.
	RetryAfter time.Duration
}

// FieldError is one entry of a validation failure. WorkOS sends either
// objects ({"field", "code"}) or plain strings (kept in Message).
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ssogate: workos %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's kind.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	case ErrInvalidClient:
		return e.Code == "invalid_client" || e.Code == "unauthorized_client"
	case ErrConnectionInvalid:
		return e.Code == "connection_invalid"
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// ErrInvalidConfig is matched by every [*ConfigError].
var ErrInvalidConfig = errors.New("ssogate: invalid configuration")

// ConfigError reports a missing or malformed configuration field.
type ConfigError struct {
	// Field names the field, such as "Config.RedirectURI".
	Field string
	// Problem says what is wrong with it, without repeating its value.
	Problem string
}

func (e *ConfigError) Error() string {
	return "ssogate: invalid configuration: " + e.Field + ": " + e.Problem
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

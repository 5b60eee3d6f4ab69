package workos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ssogate/ssogate/internal/sanitize"
)

// Errors of the client, to be checked with errors.Is. WorkOS's answers are
// [*APIError] values that match the sentinel for their kind; a bad
// [ClientConfig] is a [*ConfigError] that matches [ErrInvalidConfig].
var (
	// ErrBadRequest: WorkOS rejected the request's parameters (400).
	ErrBadRequest = errors.New("workos: bad request")
	// ErrUnauthorized: the API key (or access token) was refused (401).
	ErrUnauthorized = errors.New("workos: unauthorized")
	// ErrForbidden: the API key may not do this (403).
	ErrForbidden = errors.New("workos: forbidden")
	// ErrNotFound: no such object (404).
	ErrNotFound = errors.New("workos: not found")
	// ErrValidation: WorkOS found the request invalid (422).
	ErrValidation = errors.New("workos: validation failed")
	// ErrRateLimited: WorkOS is rate limiting this API key (429).
	ErrRateLimited = errors.New("workos: rate limited")
	// ErrServer: WorkOS failed (5xx).
	ErrServer = errors.New("workos: workos server error")
	// ErrInvalidGrant: the code has expired or was already used; the login
	// must start again.
	ErrInvalidGrant = errors.New("workos: invalid grant")
	// ErrInvalidClient: the client ID or API key was refused at the token endpoint.
	ErrInvalidClient = errors.New("workos: invalid client")
	// ErrConnectionInvalid: the connection does not support the operation,
	// such as SSO logout for a SAML connection.
	ErrConnectionInvalid = errors.New("workos: connection invalid")
	// ErrInvalidOptions: a method was called with missing or malformed
	// arguments, such as an empty code or two selectors in
	// [AuthorizationURLOptions]. Nothing was sent to WorkOS.
	ErrInvalidOptions = errors.New("workos: invalid options")

	// ErrInvalidConfig: a [ClientConfig] field is missing or malformed. It
	// is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("workos: invalid configuration")
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
	// Message is the human-readable text: "message", or "error_description",
	// or a body that is a bare JSON string. It is empty for HTML and other
	// bodies that are not WorkOS JSON. Text from the body is cut to at most
	// 200 bytes (Code to 64), control characters become spaces, and any
	// secret the request carried (API key, code, verifier, access token) is
	// replaced by "[redacted]".
	Message string
	// Errors are the field errors of a validation failure.
	Errors []FieldError
	// RequestID is WorkOS's X-Request-ID, to quote to WorkOS support.
	RequestID string
	// RetryAfter is how long WorkOS asked the client to wait, if it did.
	RetryAfter time.Duration
}

// Bounds on what an error keeps from a response. WorkOS's own messages are
// short; anything longer came from somewhere else (a proxy, an echo of the
// request) and must not flood logs or carry request data into them.
const (
	maxErrorBody    = 64 << 10 // bytes of an error response that are read
	maxSuccessBody  = 1 << 20  // bytes of a successful response that are read
	maxMessageLen   = 200
	maxCodeLen      = 64
	maxRequestIDLen = 128
	maxFieldErrors  = 20
)

// decodeAPIError turns an unsuccessful response into an *APIError. It accepts
// every body shape WorkOS (or a proxy in front of it) is known to send: an
// object with "message", "code" and "errors" (objects or strings), an OAuth
// object with "error" and "error_description", a bare JSON string, HTML,
// garbage or nothing. Text taken from the body is cleaned of control
// characters and cut to a few hundred bytes.
func decodeAPIError(method, path string, status int, h http.Header, body []byte) *APIError {
	return buildAPIError(method, path, status, h, body, time.Now(), nil)
}

// buildAPIError is decodeAPIError with a clock and the secrets of the
// request. Each secret is replaced wherever the response echoes it, before
// any text is shortened, so that a cut can never leave part of one behind.
func buildAPIError(method, path string, status int, h http.Header, body []byte, now time.Time, secrets []string) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path}
	e.RequestID = sanitize.Text(h.Get("X-Request-ID"), maxRequestIDLen, secrets)
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		e.RetryAfter = d
	}
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return e
	}
	switch body[0] {
	case '"':
		var s string
		if json.Unmarshal(body, &s) == nil {
			e.Message = sanitize.Text(s, maxMessageLen, secrets)
		}
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			return e
		}
		code := jsonString(obj["code"])
		if code == "" {
			code = jsonString(obj["error"])
		}
		msg := jsonString(obj["message"])
		if msg == "" {
			msg = jsonString(obj["error_description"])
		}
		e.Code = sanitize.Text(code, maxCodeLen, secrets)
		e.Message = sanitize.Text(msg, maxMessageLen, secrets)
		e.Errors = decodeFieldErrors(obj["errors"], secrets)
	}
	return e
}

// decodeFieldErrors decodes the "errors" array of a validation failure,
// whose entries are objects ({"field", "code", "message"}) or strings.
// Entries of any other shape are skipped.
func decodeFieldErrors(raw json.RawMessage, secrets []string) []FieldError {
	var items []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []FieldError
	for _, item := range items {
		if len(out) == maxFieldErrors {
			break
		}
		if s := jsonString(item); s != "" {
			out = append(out, FieldError{Message: sanitize.Text(s, maxMessageLen, secrets)})
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(item, &obj) != nil {
			continue
		}
		fe := FieldError{
			Field:   sanitize.Text(jsonString(obj["field"]), maxCodeLen, secrets),
			Code:    sanitize.Text(jsonString(obj["code"]), maxCodeLen, secrets),
			Message: sanitize.Text(jsonString(obj["message"]), maxMessageLen, secrets),
		}
		if fe != (FieldError{}) {
			out = append(out, fe)
		}
	}
	return out
}

// jsonString returns raw decoded as a JSON string, or "" if it is not one.
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// FieldError is one entry of a validation failure. WorkOS sends either
// objects ({"field", "code"}) or plain strings (kept in Message).
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// Error describes the failure: the request, the status, WorkOS's code and
// message and the request id. It never holds a secret of the request.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "workos: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
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

// ConfigError reports a missing or malformed configuration field.
type ConfigError struct {
	// Field names the field, such as "ClientConfig.APIKey".
	Field string
	// Problem says what is wrong with it, without repeating its value.
	Problem string
}

// Error names the field and says what is wrong with it.
func (e *ConfigError) Error() string {
	return "workos: invalid configuration: " + e.Field + ": " + e.Problem
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

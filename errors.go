package ssogate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors reported by ssogate, to be checked with errors.Is. WorkOS failures
// are [*APIError] values that match the sentinel for their kind; bad
// configuration is a [*ConfigError] that matches [ErrInvalidConfig].
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
	// ErrInvalidOptions: a method was called with missing or malformed
	// arguments, such as an empty code or two selectors in
	// [AuthorizationURLOptions]. Nothing was sent to WorkOS.
	ErrInvalidOptions = errors.New("ssogate: invalid options")

	// ErrInvalidConfig: a configuration field is missing or malformed. It
	// is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("ssogate: invalid configuration")

	// ErrNoSession: the request carries no valid session. Every reason a
	// session cookie is refused (missing, tampered with, expired, sealed with
	// a key no longer configured, undecodable) reports this same error, so
	// that nothing about the cause leaks to the client.
	ErrNoSession = errors.New("ssogate: no session")

	// ErrSessionTooLarge: the session does not fit in a cookie. Browsers
	// drop a Set-Cookie larger than 4096 bytes (name, value and attributes
	// together) without a word, which would sign the user in on the server's
	// side and out on the browser's. ssogate refuses instead: when the
	// session cookie would exceed 4096 bytes, nothing is written and the
	// login fails with this error. Profiles with very long group lists need
	// a server-side [github.com/gorilla/sessions.Store] (such as a Redis or
	// filesystem store), or an OnLogin hook that trims Profile.Groups to the
	// ones the application uses.
	ErrSessionTooLarge = errors.New("ssogate: session too large for a cookie")

	// ErrNoState: the callback carries no state, or the browser has no
	// login state cookie for it, or that cookie could not be opened or has
	// expired. The login must start again.
	ErrNoState = errors.New("ssogate: login state missing or expired")

	// ErrStateMismatch: the login state cookie does not belong to the state
	// the callback carries.
	ErrStateMismatch = errors.New("ssogate: login state mismatch")

	// ErrStateSpent: the login state has bought a code exchange on this
	// replica already. A browser never sends a state twice (the callback
	// deletes its cookie); a client that ignores Set-Cookie does, to make
	// WorkOS calls on the app's API key.
	ErrStateSpent = errors.New("ssogate: login state already used")

	// ErrTooManySignIns: this replica has made as many code exchanges as
	// [Config].MaxExchangesPerMinute allows; the sign-in was not completed.
	ErrTooManySignIns = errors.New("ssogate: too many sign-ins")

	// ErrSessionRevoked: a [Revocation] matches the session. Requests that
	// carry it are treated as signed out, like [ErrNoSession].
	ErrSessionRevoked = errors.New("ssogate: session revoked")

	// ErrInvalidRevocation: [Middleware.Revoke] was given a revocation of
	// an unknown kind or with an empty or malformed id, which the error
	// names. Nothing was revoked.
	ErrInvalidRevocation = errors.New("ssogate: invalid revocation")

	// ErrNotShared: a revocation or connection event holds on this replica
	// but the [Backplane] could not store it in time for the others; the
	// error wraps the backplane's.
	ErrNotShared = errors.New("ssogate: not shared with the other replicas")

	// ErrRevocationsUnavailable: the [Backplane] asked this replica to
	// fail closed, because it may have missed revocations. Gated requests
	// are answered 503 until it recovers.
	ErrRevocationsUnavailable = errors.New("ssogate: revocations unavailable")
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
	maxErrorBody     = 64 << 10 // bytes of an error response that are read
	maxSuccessBody   = 1 << 20  // bytes of a successful response that are read
	maxMessageLen    = 200
	maxCodeLen       = 64
	maxRequestIDLen  = 128
	maxFieldErrors   = 20
	redactedText     = "[redacted]"
	truncationSuffix = "..."
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
	e.RequestID = cleanText(h.Get("X-Request-ID"), maxRequestIDLen, secrets)
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
			e.Message = cleanText(s, maxMessageLen, secrets)
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
		e.Code = cleanText(code, maxCodeLen, secrets)
		e.Message = cleanText(msg, maxMessageLen, secrets)
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
			out = append(out, FieldError{Message: cleanText(s, maxMessageLen, secrets)})
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(item, &obj) != nil {
			continue
		}
		fe := FieldError{
			Field:   cleanText(jsonString(obj["field"]), maxCodeLen, secrets),
			Code:    cleanText(jsonString(obj["code"]), maxCodeLen, secrets),
			Message: cleanText(jsonString(obj["message"]), maxMessageLen, secrets),
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

// cleanText prepares text from a response for an error message: secrets
// are replaced (before anything is cut, so no part of one can remain),
// invalid UTF-8 and control characters (which could forge log lines) become
// spaces, and the result is cut to at most limit bytes. The input is bounded
// by the size cap on response bodies.
func cleanText(s string, limit int, secrets []string) string {
	if s == "" {
		return ""
	}
	s = redact(s, secrets)
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= limit {
		return s
	}
	cut := limit - len(truncationSuffix)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncationSuffix
}

// redact replaces every occurrence of each secret in s, as is and in its
// URL-encoded forms.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range [...]string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, redactedText)
		}
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

// ConfigError reports a missing or malformed configuration field.
type ConfigError struct {
	// Field names the field, such as "Config.RedirectURI".
	Field string
	// Problem says what is wrong with it, without repeating its value.
	Problem string
}

// Error names the field and says what is wrong with it.
func (e *ConfigError) Error() string {
	return "ssogate: invalid configuration: " + e.Field + ": " + e.Problem
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

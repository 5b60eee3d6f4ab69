package workos

import (
	"context"
	"time"
)

// Observer receives the client's calls, for metrics and traces. Either
// field may be nil.
type Observer struct {
	// CallStart is called before a call, with its route, such as
	// "POST /sso/token". The context it returns is the call's.
	CallStart func(ctx context.Context, route string) context.Context
	// CallDone is called when the call is over, retries included.
	CallDone func(ctx context.Context, info CallInfo)
}

// CallInfo describes a WorkOS API call. Route and Code are each one of a
// small fixed set of values, fit for a metric's attribute.
type CallInfo struct {
	// Route is the call's method and path pattern, such as
	// "GET /connections/{id}": the same few values whatever the ids.
	Route string
	// Status is the last response's HTTP status; 0 if none arrived.
	Status int
	// Code is the error code of a failed call's response: one that WorkOS
	// documents for the call, "other" for any other, "" for none.
	Code string
	// RequestID is WorkOS's X-Request-ID of the last response.
	RequestID string
	// Attempts is how many times the request was sent.
	Attempts int
	// Duration is how long the call took, waits between retries included.
	Duration time.Duration
	// Err is the failure, or nil.
	Err error
}

type observerKey struct{}

// WithObserver returns a context whose calls report to o, when they go
// through a [Client] configured without an Observer of its own. It is the
// way for code that is handed a Client (a middleware, say) to observe the
// calls it makes, as [net/http/httptrace.WithClientTrace] is for requests.
func WithObserver(ctx context.Context, o *Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// knownCode maps an error code of WorkOS's answer (which may have crossed
// a proxy) onto a closed set: the codes of POST /sso/token and
// POST /sso/logout/authorize, and the generic ones of WorkOS's spec and
// answers. "" stays "", any other code is "other", so that no answer can
// add a label value.
func knownCode(s string) string {
	switch s {
	case "", "invalid_grant", "invalid_client", "unauthorized_client", "unsupported_grant_type",
		"connection_invalid", "entity_not_found", "invalid_request_parameters", "rate_limit_exceeded":
		return s
	}
	return "other"
}

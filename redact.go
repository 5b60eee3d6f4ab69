package ssogate

import (
	"context"
	"net/http"
	"net/url"
)

// Redact keeps the callback's code and state out of request logs: it is
// the outermost middleware, placed before a router's request logger (chi's
// and echo's middleware.Logger, gin.Logger, an access log of your own),
// which would otherwise write the callback's query, code and state
// included. A request to the callback path reaches next with each code and
// state value replaced by REDACTED in its URL and RequestURI; the
// [Middleware.Callback] it reaches further down still reads the real ones.
// Every other request passes unchanged. With chi:
//
//	r.Use(gate.Redact, middleware.Logger)
//
// A proxy in front of the app (nginx's access log, a load balancer's)
// logs the query before the app sees it: keep the query out of its log
// format for the callback path.
func (m *Middleware) Redact(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != m.callbackRoute || r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		hidden := err != nil // what does not parse is left out
		for _, k := range redactedParams {
			for i := range q[k] {
				q[k][i], hidden = "REDACTED", true
			}
		}
		if !hidden {
			next.ServeHTTP(w, r)
			return
		}
		u := *r.URL
		u.RawQuery = q.Encode()
		rr := r.WithContext(context.WithValue(r.Context(), callbackQueryKey{}, r.URL.RawQuery))
		rr.URL = &u
		rr.RequestURI = u.RequestURI()
		next.ServeHTTP(w, rr)
	})
}

// redactedParams are the callback's query parameters that Redact hides.
var redactedParams = []string{"code", "state"}

// callbackQueryKey keys the callback's real query in the context of a
// request that Redact hid it from.
type callbackQueryKey struct{}

// callbackQuery returns the callback's query: the real one, if Redact
// hid it from r's URL.
func callbackQuery(r *http.Request) url.Values {
	if raw, ok := r.Context().Value(callbackQueryKey{}).(string); ok {
		q, _ := url.ParseQuery(raw)
		return q
	}
	return r.URL.Query()
}

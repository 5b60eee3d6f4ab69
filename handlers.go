package ssogate

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// HTTPError is a failure of the login, callback or logout handler, as handed
// to [Config].ErrorHandler.
type HTTPError struct {
	// Status is the HTTP status to answer.
	Status int
	// Message is a short sentence for the user. It never holds a secret,
	// a code, a state or a cookie value, but it may quote the identity
	// provider's error description: escape it when writing HTML.
	Message string
	// RetryURL, if set, is a same-origin path that starts the login again.
	RetryURL string
	// RetryText is the words of the link to RetryURL; "" means "Sign in
	// again".
	RetryText string
	// HomeURL is the same-origin path of the app's home page, for a link
	// back: [Config].AfterLoginPath unless set.
	HomeURL string
	// Err is the cause, for logs. It is never shown to the user.
	Err error
	// Reason says why, in a word fit for a metric: the value that
	// [Observer] funcs get. An HTTPError of the application's (from
	// OnLogin) may leave it empty.
	Reason Reason
}

// Error returns the status, the message and the cause, for logs.
func (e *HTTPError) Error() string {
	s := "ssogate: " + strconv.Itoa(e.Status) + " " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// Limits on what a browser may send to the handlers.
const (
	maxCallbackCodeLen = 1024
	maxStateLen        = 256
	maxHintLen         = 320 // the longest valid email address
)

// onlyOnce reports the first of keys that q holds more than once.
func onlyOnce(q url.Values, keys ...string) *HTTPError {
	for _, k := range keys {
		if len(q[k]) > 1 {
			return badRequest("The " + k + " parameter was given more than once.")
		}
	}
	return nil
}

// maxIDLen bounds the WorkOS ids accepted from browsers and from WorkOS.
const maxIDLen = 128

// validID reports whether id looks like a WorkOS id: letters, digits, '_'
// and '-', at most maxIDLen bytes. Ids from a browser are checked before
// they reach WorkOS, a cache key or a log line.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validPrefixedID reports whether s is a WorkOS id with the given prefix,
// such as "org_".
func validPrefixedID(s, prefix string) bool {
	return len(s) > len(prefix) && strings.HasPrefix(s, prefix) && validID(s)
}

func badRequest(msg string) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Message: msg, Reason: ReasonBadRequest}
}

// sanitizeForLog keeps log lines to printable ASCII and a bounded length.
func sanitizeForLog(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// noStore marks a response as private to this user and this moment:
// Cache-Control: no-store and Vary: Cookie.
func noStore(w http.ResponseWriter) { noStoreWith(w, new(noStoreValues)) }

// noStoreValues holds the values noStore sets. They are made per response,
// never shared between responses, where a handler that changed one in place
// (h["Cache-Control"][0] = "public") would change every response.
type noStoreValues [2]string

// noStoreWith is noStore with the values in v, which RequireSSO allocates
// together with the request's context.
func noStoreWith(w http.ResponseWriter, v *noStoreValues) {
	h := w.Header()
	v[0], v[1] = "no-store", "Cookie"
	h["Cache-Control"] = v[0:1:1]
	if len(h) > 1 { // a Vary set before the gate is kept
		if vary := h["Vary"]; len(vary) > 0 {
			h["Vary"] = append(vary, "Cookie")
			return
		}
	}
	h["Vary"] = v[1:2:2]
}

// fail logs err and hands it to the ErrorHandler.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err *HTTPError) {
	if err.HomeURL == "" {
		e := *err // it may be the application's, from OnLogin
		e.HomeURL = m.cfg.AfterLoginPath
		err = &e
	}
	level := "warn"
	if err.Status >= 500 {
		level = "error"
	}
	attrs := []any{"status", err.Status, "path", r.URL.Path}
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		attrs = append(attrs, "request_id", id) // as in the audit record
	}
	if err.Err != nil {
		attrs = append(attrs, "err", err.Err)
	}
	if level == "error" {
		m.log.Error("ssogate: request failed", attrs...)
	} else {
		m.log.Warn("ssogate: request refused", attrs...)
	}
	m.cfg.ErrorHandler(w, r, err)
}

// defaultErrorHandler writes a minimal page with the public message.
func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err *HTTPError) {
	retryText := err.RetryText
	if retryText == "" {
		retryText = "Sign in again"
	}
	writePage(w, err.Status, errorPage, struct {
		Title, Message, RetryURL, RetryText, HomeURL string
	}{http.StatusText(err.Status), err.Message, err.RetryURL, retryText, cmp.Or(err.HomeURL, "/")})
}

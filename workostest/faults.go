package workostest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Fault is a failure [Server.Fail] injects into a route.
type Fault struct {
	// Times is how many of the next matching calls fail. Default 1;
	// negative means every call from now on.
	Times int
	// Status is the status to answer, such as 429 or 503. With Status 0
	// the call is answered normally, after Delay.
	Status int
	// Body is the response body. Default: {"message":"<status text>"}.
	// A body starting with '{', '[' or '"' is sent as JSON, one starting
	// with '<' as HTML, anything else as plain text.
	Body string
	// RetryAfter is the Retry-After header to send, such as "2" or an
	// HTTP date; none if empty.
	RetryAfter string
	// Delay holds the answer back this long. It ends early, without an
	// answer, when the client gives up or the server closes.
	Delay time.Duration
	// Process makes the server handle the call normally, with all its
	// effects (a code is consumed, a connection deleted), and then answer
	// Status instead of the real response: the case where a 5xx does not
	// mean the request had no effect.
	Process bool
}

type routeFault struct {
	route string
	Fault
}

// Fail makes the next f.Times calls of route fail as f says. route is a
// pattern of the server, such as "POST /sso/token" or
// "GET /connections/{id}", or a concrete method and path, such as
// "DELETE /connections/conn_acme_okta". Faults on the same route are used
// in the order they were added. A fault is applied before the API key is
// checked.
func (s *Server) Fail(route string, f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, routeFault{route: route, Fault: f})
}

// takeFault returns the fault for r, if any, and counts one use of it.
func (s *Server) takeFault(r *http.Request) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		rf := &s.faults[i]
		if !routeMatches(rf.route, r.Pattern, r.Method, r.URL.Path) {
			continue
		}
		f := rf.Fault
		if rf.Times > 0 {
			rf.Times--
			if rf.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// applyFault answers r as f says. It reports whether the request has been
// dealt with; if not, the caller serves it normally.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault, auth authKind, h http.HandlerFunc) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-s.closed:
			return true
		}
	}
	if f.Status == 0 {
		return false
	}
	if f.Process {
		s.serve(httptest.NewRecorder(), r, auth, h)
	}
	body := f.Body
	if body == "" {
		body = `{"message":"` + http.StatusText(f.Status) + `"}`
	}
	ct := "text/plain; charset=utf-8"
	switch {
	case strings.HasPrefix(body, "{"), strings.HasPrefix(body, "["), strings.HasPrefix(body, `"`):
		ct = "application/json; charset=utf-8"
	case strings.HasPrefix(body, "<"):
		ct = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(f.Status)
	w.Write([]byte(body))
	return true
}

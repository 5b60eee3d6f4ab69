package workostest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestFailStatusThenNormal(t *testing.T) {
	s := newTestServer(t)
	s.Fail("GET /connections", Fault{Times: 2, Status: 429, RetryAfter: "3"})
	for i, want := range []int{429, 429, 200, 200} {
		r := api(t, s, http.MethodGet, "/connections", "")
		if r.status != want {
			t.Errorf("call %d: got status %d, want %d", i, r.status, want)
		}
		if got, wantRA := r.header.Get("Retry-After"), map[bool]string{true: "3"}[want == 429]; got != wantRA {
			t.Errorf("call %d: got Retry-After %q, want %q", i, got, wantRA)
		}
		if r.header.Get("X-Request-ID") == "" {
			t.Errorf("call %d: no X-Request-ID", i)
		}
	}
}

func TestFailRoutesAndBodies(t *testing.T) {
	tests := []struct {
		name     string
		route    string
		fault    Fault
		method   string
		path     string
		wantCT   string
		wantBody string
	}{
		{"pattern", "GET /connections/{id}", Fault{Status: 503}, "GET", "/connections/" + AcmeConnectionID, "application/json; charset=utf-8", `{"message":"Service Unavailable"}`},
		{"concrete path", "DELETE /connections/" + AcmeConnectionID, Fault{Status: 500, Body: `"Oops"`}, "DELETE", "/connections/" + AcmeConnectionID, "application/json; charset=utf-8", `"Oops"`},
		{"proxy html", "POST /sso/token", Fault{Status: 502, Body: "<html>Bad Gateway</html>"}, "POST", "/sso/token", "text/html; charset=utf-8", "<html>Bad Gateway</html>"},
		{"plain text", "GET /sso/profile", Fault{Status: 500, Body: "boom"}, "GET", "/sso/profile", "text/plain; charset=utf-8", "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			s.Fail(tt.route, tt.fault)
			r := api(t, s, tt.method, tt.path, "")
			if r.status != tt.fault.Status || r.header.Get("Content-Type") != tt.wantCT || r.body != tt.wantBody {
				t.Errorf("got %d %q %q, want %d %q %q", r.status, r.header.Get("Content-Type"), r.body, tt.fault.Status, tt.wantCT, tt.wantBody)
			}
			if r := api(t, s, tt.method, tt.path, ""); r.status == tt.fault.Status {
				t.Errorf("second call: got status %d again", r.status)
			}
		})
	}
}

func TestFailForever(t *testing.T) {
	s := newTestServer(t)
	s.Fail("GET /connections", Fault{Times: -1, Status: 500})
	for i := range 5 {
		if r := api(t, s, http.MethodGet, "/connections", ""); r.status != 500 {
			t.Errorf("call %d: got status %d, want 500", i, r.status)
		}
	}
}

func TestFailProcessConsumesCode(t *testing.T) {
	s := newTestServer(t)
	code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
	s.Fail("POST /sso/token", Fault{Status: 502, Process: true})
	if r := postToken(t, s, tokenRequestForm(s, code, ""), false); r.status != 502 {
		t.Fatalf("got status %d, want 502", r.status)
	}
	wantOAuthError(t, postToken(t, s, tokenRequestForm(s, code, ""), false), 400, "invalid_grant")
}

func TestFailDelay(t *testing.T) {
	s := newTestServer(t)
	s.Fail("GET /connections", Fault{Delay: 50 * time.Millisecond})
	start := time.Now()
	r := api(t, s, http.MethodGet, "/connections", "")
	if r.status != 200 {
		t.Errorf("got status %d, want 200", r.status)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered after %v, want at least 50ms", d)
	}
}

func TestFailDelayEndsWithClientContext(t *testing.T) {
	s := newTestServer(t)
	s.Fail("GET /connections", Fault{Delay: time.Hour, Status: 500})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/connections", nil)
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	_, err := s.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got error %v, want context.DeadlineExceeded", err)
	}
	// Close must not wait for the hour either: if it did, this test would hang.
	s.Close()
}

func TestFailDelayEndsOnClose(t *testing.T) {
	s := NewServer()
	s.Fail("GET /connections", Fault{Delay: time.Hour})
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/connections", nil)
		close(started)
		_, err := s.Client().Do(req)
		done <- err
	}()
	<-started
	// Wait until the request has taken the fault and sits in its delay.
	for {
		s.mu.Lock()
		n := len(s.faults)
		s.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A Close that waited for the hour-long delay would hang this test.
	s.Close()
	<-done
}

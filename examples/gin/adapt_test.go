package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ssogate/ssogate"
)

type ctxKey struct{}

func TestWrapMiddleware(t *testing.T) {
	tests := []struct {
		name string
		// mw is the net/http middleware under test; it appends to trace.
		mw         func(trace *[]string) func(http.Handler) http.Handler
		wantStatus int
		wantHeader map[string]string
		wantBody   string
		wantTrace  []string
		wantAbort  bool
	}{
		{
			name: "redirect aborts the chain",
			mw: func(trace *[]string) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						*trace = append(*trace, "mw")
						w.Header().Set("Cache-Control", "no-store")
						http.Redirect(w, r, "/login?return_to=%2Fapp", http.StatusFound)
					})
				}
			},
			wantStatus: http.StatusFound,
			wantHeader: map[string]string{"Location": "/login?return_to=%2Fapp", "Cache-Control": "no-store"},
			wantBody:   "<a href=\"/login?return_to=%2Fapp\">Found</a>.\n\n",
			wantTrace:  []string{"before", "mw", "after"},
			wantAbort:  true,
		},
		{
			name: "401 aborts the chain",
			mw: func(trace *[]string) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						*trace = append(*trace, "mw")
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusUnauthorized)
						w.Write([]byte(`{"error":"unauthorized"}`))
					})
				}
			},
			wantStatus: http.StatusUnauthorized,
			wantHeader: map[string]string{"Content-Type": "application/json"},
			wantBody:   `{"error":"unauthorized"}`,
			wantTrace:  []string{"before", "mw", "after"},
			wantAbort:  true,
		},
		{
			name: "next runs the rest of the chain inside the middleware, with its request and headers",
			mw: func(trace *[]string) func(http.Handler) http.Handler {
				return func(next http.Handler) http.Handler {
					return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						*trace = append(*trace, "mw")
						w.Header().Set("Cache-Control", "no-store")
						w.Header().Add("Vary", "Cookie")
						next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "alice")))
						*trace = append(*trace, "mw after next")
					})
				}
			},
			wantStatus: http.StatusOK,
			wantHeader: map[string]string{"Cache-Control": "no-store", "Vary": "Cookie"},
			wantBody:   "user alice",
			wantTrace:  []string{"before", "mw", "handler 1 saw alice", "handler 2 saw alice", "mw after next", "after"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace []string
			aborted := false
			r := gin.New()
			r.Use(func(c *gin.Context) {
				trace = append(trace, "before")
				c.Next()
				aborted = c.IsAborted()
				trace = append(trace, "after")
			})
			g := r.Group("/", wrapMiddleware(tt.mw(&trace)))
			g.GET("/app", func(c *gin.Context) {
				user, _ := c.Request.Context().Value(ctxKey{}).(string)
				trace = append(trace, "handler 1 saw "+user)
			}, func(c *gin.Context) {
				user, _ := c.Request.Context().Value(ctxKey{}).(string)
				trace = append(trace, "handler 2 saw "+user)
				c.String(http.StatusOK, "user %s", user)
			})

			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/app", nil))

			if w.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", w.Code, tt.wantStatus)
			}
			for k, want := range tt.wantHeader {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if got := w.Body.String(); got != tt.wantBody {
				t.Errorf("body: got %q, want %q", got, tt.wantBody)
			}
			if !slices.Equal(trace, tt.wantTrace) {
				t.Errorf("trace: got %q, want %q", trace, tt.wantTrace)
			}
			if aborted != tt.wantAbort {
				t.Errorf("aborted: got %v, want %v", aborted, tt.wantAbort)
			}
		})
	}
}

// TestWrapRequireSSOSignedOut puts ssogate's own middleware behind the
// adapter: a signed-out request never reaches the gated handler, and the
// answer keeps RequireSSO's headers.
func TestWrapRequireSSOSignedOut(t *testing.T) {
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        "sk_test_x",
		ClientID:      "client_x",
		RedirectURI:   "http://app.test/callback",
		CookieSecrets: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		header     map[string]string
		wantStatus int
		wantHeader map[string]string
	}{
		{
			name:       "navigation is sent to sign in",
			header:     map[string]string{"Accept": "text/html", "Sec-Fetch-Mode": "navigate"},
			wantStatus: http.StatusFound,
			wantHeader: map[string]string{"Location": "/login?return_to=%2Fapp", "Cache-Control": "no-store", "Vary": "Cookie"},
		},
		{
			name:       "fetch gets 401",
			header:     map[string]string{"Accept": "application/json", "Sec-Fetch-Mode": "cors"},
			wantStatus: http.StatusUnauthorized,
			wantHeader: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Vary": "Cookie"},
		},
		{
			name:       "a forged cookie is signed out too",
			header:     map[string]string{"Accept": "application/json", "Cookie": "ssogate=forged"},
			wantStatus: http.StatusUnauthorized,
			wantHeader: map[string]string{"Cache-Control": "no-store", "Vary": "Cookie"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached := false
			r := gin.New()
			r.GET("/app", wrapMiddleware(gate.RequireSSO), func(c *gin.Context) {
				reached = true
				c.String(http.StatusOK, "secret")
			})
			req := httptest.NewRequest(http.MethodGet, "/app", nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)

			if reached {
				t.Error("the gated handler ran for a signed-out request")
			}
			if w.Code != tt.wantStatus {
				t.Errorf("status: got %d, want %d", w.Code, tt.wantStatus)
			}
			for k, want := range tt.wantHeader {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if strings.Contains(w.Body.String(), "secret") {
				t.Errorf("body: got %q, want no gated content", w.Body.String())
			}
		})
	}
}

// TestGinRouterMountsAtConfiguredPaths checks that gate.Mount through
// ginRouter serves the callback at the redirect URI's path, whatever it is.
func TestGinRouterMountsAtConfiguredPaths(t *testing.T) {
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        "sk_test_x",
		ClientID:      "client_x",
		RedirectURI:   "http://app.test/auth/callback",
		CookieSecrets: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		Logger:        slog.New(slog.DiscardHandler),
		LoginPath:     "/auth/login",
	})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	gate.Mount(ginRouter{r})

	tests := []struct {
		name, method, path string
		wantStatus         int
	}{
		{"login at its configured path", http.MethodGet, "/auth/login?organization=org_acme", http.StatusFound},
		{"login refuses POST itself", http.MethodPost, "/auth/login", http.StatusMethodNotAllowed},
		{"callback at the redirect URI's path", http.MethodGet, "/auth/callback", http.StatusBadRequest},
		{"logout at its default path", http.MethodDelete, "/logout", http.StatusMethodNotAllowed},
		{"nothing at the default login path", http.MethodGet, "/login", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.wantStatus {
				t.Errorf("%s %s: got %d, want %d", tt.method, tt.path, w.Code, tt.wantStatus)
			}
		})
	}
}

package ssogate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
)

func newJar() (*cookiejar.Jar, error) { return cookiejar.New(nil) }

// stubProvider is a Provider for tests that never reach WorkOS.
type stubProvider struct{ Provider }

func (stubProvider) AuthorizationURL(o workos.AuthorizationURLOptions) (string, error) {
	return "https://api.workos.test/sso/authorize?state=" + o.State, nil
}

// ClientID names the stub's WorkOS environment.
func (stubProvider) ClientID() string { return "client_stub" }

// ListConnections answers that every organization has one active connection.
func (stubProvider) ListConnections(_ context.Context, o workos.ListConnectionsOptions) (*workos.ConnectionList, error) {
	return &workos.ConnectionList{Data: []Connection{{ID: "conn_stub", OrganizationID: o.OrganizationID, State: workos.ConnectionActive}}}, nil
}

// GetConnection answers that every connection exists and is active.
func (stubProvider) GetConnection(_ context.Context, id string) (*Connection, error) {
	return &Connection{ID: id, OrganizationID: "org_stub", State: workos.ConnectionActive}, nil
}

func validConfig() Config {
	return Config{
		Provider:      stubProvider{},
		ClientID:      "client_stub",
		RedirectURI:   "http://localhost:8080/callback",
		CookieSecrets: [][]byte{flowSecret},
		Logger:        slog.New(slog.DiscardHandler),
	}
}

func newRecorderRequest(t *testing.T, g *Middleware, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	g.RequireSSO(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		field  string
	}{
		{"no redirect URI", func(c *Config) { c.RedirectURI = "" }, "Config.RedirectURI"},
		{"relative redirect URI", func(c *Config) { c.RedirectURI = "/callback" }, "Config.RedirectURI"},
		{"ftp redirect URI", func(c *Config) { c.RedirectURI = "ftp://x/callback" }, "Config.RedirectURI"},
		{"no secrets", func(c *Config) { c.CookieSecrets = nil }, "Config.CookieSecrets"},
		{"short secret", func(c *Config) { c.CookieSecrets = [][]byte{[]byte("short")} }, "Config.CookieSecrets"},
		{"short old secret", func(c *Config) { c.CookieSecrets = [][]byte{flowSecret, []byte("short")} }, "Config.CookieSecrets"},
		{"lifetime too long", func(c *Config) { c.SessionLifetime = 25 * time.Hour }, "Config.SessionLifetime"},
		{"negative lifetime", func(c *Config) { c.SessionLifetime = -time.Hour }, "Config.SessionLifetime"},
		{"login path not a path", func(c *Config) { c.LoginPath = "login" }, "Config.LoginPath"},
		{"after login path absolute URL", func(c *Config) { c.AfterLoginPath = "https://evil.example/" }, "Config.AfterLoginPath"},
		{"after logout path protocol relative", func(c *Config) { c.AfterLogoutPath = "//evil.example" }, "Config.AfterLogoutPath"},
		{"login path is the callback", func(c *Config) { c.LoginPath = "/callback" }, "Config.LoginPath"},
		{"two default selectors", func(c *Config) { c.DefaultOrganization, c.DefaultConnection = "org_a", "conn_b" }, "Config.DefaultOrganization"},
		{"bad default organization", func(c *Config) { c.DefaultOrganization = "acme" }, "Config.DefaultOrganization"},
		{"bad default provider", func(c *Config) { c.DefaultProvider = "EvilOAuth" }, "Config.DefaultProvider"},
		{"bad cookie name", func(c *Config) { c.CookieName = "a b" }, "Config.CookieName"},
		{"__Host- cookie over http", func(c *Config) { c.CookieName = "__Host-x" }, "Config.CookieName"},
		{"no API key", func(c *Config) { c.Provider = nil; c.ClientID = "client_x" }, "Config.APIKey"},
		{"malformed API key", func(c *Config) { c.Provider = nil; c.APIKey, c.ClientID = "pk_x", "client_x" }, "Config.APIKey"},
		{"malformed client ID", func(c *Config) { c.Provider = nil; c.APIKey, c.ClientID = "sk_test_x", "x" }, "Config.ClientID"},
		{"unknown IdP-initiated policy", func(c *Config) { c.IdPInitiated = 7 }, "Config.IdPInitiated"},
		{"__Secure- cookie over http", func(c *Config) { c.CookieName = "__Secure-x" }, "Config.CookieName"},
		{"__Host- cookie with insecure cookies", func(c *Config) {
			c.RedirectURI, c.InsecureCookies, c.CookieName = "https://app.example/callback", true, "__Host-x"
		}, "Config.CookieName"},
		{"logout path is the callback", func(c *Config) { c.LogoutPath = "/callback" }, "Config.LoginPath"},
		{"login and logout paths equal", func(c *Config) { c.LoginPath, c.LogoutPath = "/auth", "/auth" }, "Config.LoginPath"},
		{"negative exchange timeout", func(c *Config) { c.ExchangeTimeout = -time.Second }, "Config.ExchangeTimeout"},
		{"lifetime under a minute", func(c *Config) { c.SessionLifetime = time.Second }, "Config.SessionLifetime"},
		{"redirect URI with fragment", func(c *Config) { c.RedirectURI = "https://app.example/callback#x" }, "Config.RedirectURI"},
		{"bad default connection", func(c *Config) { c.DefaultConnection = "org_acme" }, "Config.DefaultConnection"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.modify(&cfg)
			_, err := New(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			if ce.Field != tc.field {
				t.Errorf("got field %q, want %q", ce.Field, tc.field)
			}
			if strings.Contains(err.Error(), "sk_test_x") || strings.Contains(err.Error(), string(flowSecret)) {
				t.Errorf("error %q quotes a secret", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	c := g.cfg
	for _, tc := range []struct{ name, got, want string }{
		{"LoginPath", c.LoginPath, "/login"},
		{"LogoutPath", c.LogoutPath, "/logout"},
		{"AfterLoginPath", c.AfterLoginPath, "/"},
		{"AfterLogoutPath", c.AfterLogoutPath, "/"},
		{"CookieName over http", c.CookieName, "ssogate"},
		{"callback path", g.callbackPath, "/callback"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if c.SessionLifetime != 8*time.Hour || c.ExchangeTimeout != 15*time.Second {
		t.Errorf("SessionLifetime, ExchangeTimeout = %v, %v; want 8h, 15s", c.SessionLifetime, c.ExchangeTimeout)
	}
	if c.IdPInitiated != IdPInitiatedReject || c.LogoutIdP || c.KeepCustomAttributes || c.InsecureCookies {
		t.Error("a security default is off")
	}

	cfg := validConfig()
	cfg.RedirectURI = "https://app.example/auth/callback"
	g, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if g.cfg.CookieName != "__Host-ssogate" || g.callbackPath != "/auth/callback" {
		t.Errorf("https: CookieName %q, callback %q; want __Host-ssogate, /auth/callback", g.cfg.CookieName, g.callbackPath)
	}
	cfg.CookieDomain = "example"
	if g, err = New(cfg); err != nil || g.cfg.CookieName != "ssogate" {
		t.Errorf("with a Domain: CookieName %q (err %v), want ssogate: __Host- forbids Domain", g.cfg.CookieName, err)
	}

	// The default Provider is the WorkOS client.
	cfg = validConfig()
	cfg.Provider, cfg.APIKey, cfg.ClientID = nil, "sk_test_123", "client_123"
	if g, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.provider.(*workos.Client); !ok {
		t.Errorf("default provider is %T, want *Client", g.provider)
	}
}

func TestRequireSSOSignedOut(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	reached := false
	h := g.RequireSSO(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	tests := []struct {
		name     string
		method   string
		target   string
		headers  map[string]string
		wantCode int
	}{
		{"navigation", "GET", "/reports?q=1", map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, http.StatusFound},
		{"navigation without fetch metadata", "GET", "/reports?q=1", map[string]string{"Accept": "text/html,*/*"}, http.StatusFound},
		{"HEAD navigation", "HEAD", "/reports?q=1", map[string]string{"Sec-Fetch-Mode": "navigate"}, http.StatusFound},
		{"fetch", "GET", "/reports?q=1", map[string]string{"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, http.StatusUnauthorized},
		{"json client", "GET", "/reports?q=1", map[string]string{"Accept": "application/json"}, http.StatusUnauthorized},
		{"no accept", "GET", "/reports?q=1", nil, http.StatusUnauthorized},
		{"xhr", "GET", "/reports?q=1", map[string]string{"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}, http.StatusUnauthorized},
		{"post form", "POST", "/reports?q=1", map[string]string{"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reached = false
			req := httptest.NewRequest(tc.method, tc.target, nil)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if reached {
				t.Fatal("the gated handler ran without a session")
			}
			if rec.Code != tc.wantCode {
				t.Fatalf("got %d, want %d", rec.Code, tc.wantCode)
			}
			if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Vary") != "Cookie" {
				t.Errorf("Cache-Control %q, Vary %q; want no-store, Cookie", rec.Header().Get("Cache-Control"), rec.Header().Get("Vary"))
			}
			if len(rec.Result().Cookies()) != 0 {
				t.Errorf("signed-out answer set cookies: %v", rec.Result().Cookies())
			}
			want := "/login?return_to=%2Freports%3Fq%3D1"
			if tc.wantCode == http.StatusFound {
				if got := rec.Header().Get("Location"); got != want {
					t.Errorf("Location = %q, want %q", got, want)
				}
				return
			}
			if got := rec.Header().Get("WWW-Authenticate"); !strings.Contains(got, want) {
				t.Errorf("WWW-Authenticate = %q, want it to name %s", got, want)
			}
			var body struct {
				Error    string `json:"error"`
				LoginURL string `json:"login_url"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.LoginURL != want || body.Error != "unauthorized" {
				t.Errorf("body %q (err %v), want JSON naming %s", rec.Body, err, want)
			}
		})
	}
}

func TestRequireSSONeverGatesItsOwnPaths(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	// A whole app wrapped in RequireSSO: /login must start a login, not
	// redirect to itself.
	rec := newRecorderRequest(t, g, "/login?organization=org_acme")
	if rec.Code != http.StatusFound || !strings.HasPrefix(rec.Header().Get("Location"), "https://api.workos.test/sso/authorize") {
		t.Errorf("/login behind RequireSSO: got %d to %q, want 302 to WorkOS", rec.Code, rec.Header().Get("Location"))
	}
	rec = newRecorderRequest(t, g, "/callback?code=x")
	if rec.Code == http.StatusFound {
		t.Errorf("/callback behind RequireSSO redirected to %q", rec.Header().Get("Location"))
	}
}

func TestProfileFromContext(t *testing.T) {
	if p, ok := ProfileFromContext(context.Background()); ok || p != nil {
		t.Error("empty context has a profile")
	}
	if _, ok := ProfileFromContext(context.WithValue(context.Background(), contextKey{}, (*Session)(nil))); ok {
		t.Error("nil session counts as a profile")
	}
	s := &Session{Profile: Profile{Email: "a@b.c"}}
	p, ok := ProfileFromContext(context.WithValue(context.Background(), contextKey{}, s))
	if !ok || p.Email != "a@b.c" {
		t.Errorf("got %v, %v", p, ok)
	}
}

// TestGatedContext checks the context a gated handler gets: it has the
// session, keeps its parent's values, deadline and cancellation, and hands
// the session on to contexts derived from it.
func TestGatedContext(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	type parentKey struct{}
	type childKey struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), parentKey{}, "parent"))
	defer cancel()
	var gated context.Context
	h := g.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gated = r.Context()
		derived, stop := context.WithTimeout(context.WithValue(r.Context(), childKey{}, "child"), time.Hour)
		defer stop()
		for name, c := range map[string]context.Context{"gated": r.Context(), "derived": derived} {
			if p, ok := ProfileFromContext(c); !ok || p.ID != aliceProfile().ID {
				t.Errorf("%s context: got profile %v, %v; want Alice's", name, p, ok)
			}
			if c.Value(parentKey{}) != "parent" {
				t.Errorf("%s context lost its parent's value", name)
			}
		}
		if derived.Value(childKey{}) != "child" {
			t.Error("derived context lost its own value")
		}
	}))
	c := saveSession(t, g.sessions, aliceProfile())
	h.ServeHTTP(httptest.NewRecorder(), requestWith("/app", c).WithContext(ctx))
	if gated == nil {
		t.Fatal("the gated handler did not run")
	}
	if gated.Err() != nil {
		t.Fatalf("gated context done before its parent: %v", gated.Err())
	}
	cancel()
	select {
	case <-gated.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the request's context did not reach the gated one")
	}
	if !strings.Contains(fmt.Sprint(gated), "ssogate session") {
		t.Errorf("gated context prints as %q", fmt.Sprint(gated))
	}
}

// TestGatedResponseHeaders checks that each gated response gets its own
// Cache-Control and Vary values: a handler that changes them in place
// changes only its own response, and a Vary set before the gate is kept.
func TestGatedResponseHeaders(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	h := g.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("tamper") {
			w.Header()["Cache-Control"][0] = "public, max-age=3600"
			w.Header()["Vary"][0] = "Accept"
		}
	}))
	c := saveSession(t, g.sessions, aliceProfile())
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), requestWith("/app?tamper=1", c))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, requestWith("/app", c))
		if got := rec.Header()["Cache-Control"]; !slices.Equal(got, []string{"no-store"}) {
			t.Errorf("after a handler changed its own: Cache-Control %q, want no-store", got)
		}
		if got := rec.Header()["Vary"]; !slices.Equal(got, []string{"Cookie"}) {
			t.Errorf("after a handler changed its own: Vary %q, want Cookie", got)
		}
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Vary", "Accept-Encoding")
	h.ServeHTTP(rec, requestWith("/app", c))
	if got := rec.Header()["Vary"]; !slices.Equal(got, []string{"Accept-Encoding", "Cookie"}) {
		t.Errorf("Vary %q, want Accept-Encoding and Cookie", got)
	}
}

func TestNewCookieOptions(t *testing.T) {
	tests := []struct {
		name       string
		modify     func(*Config)
		wantName   string
		wantSecure bool
		wantDomain string
	}{
		{"https", func(c *Config) { c.RedirectURI = "https://app.example/callback" }, "__Host-ssogate", true, ""},
		{"https with a domain", func(c *Config) { c.RedirectURI, c.CookieDomain = "https://app.example/callback", "app.example" }, "ssogate", true, "app.example"},
		{"https with insecure cookies", func(c *Config) { c.RedirectURI, c.InsecureCookies = "https://app.example/callback", true }, "ssogate", false, ""},
		{"http", func(c *Config) {}, "ssogate", false, ""},
		{"own name", func(c *Config) { c.CookieName = "app_session" }, "app_session", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.modify(&cfg)
			g, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Every cookie the Middleware sets: a login state and a
			// session.
			cookies := newRecorderRequest(t, g, "/login?organization=org_acme").Result().Cookies()
			rec := httptest.NewRecorder()
			if _, err := g.sessions.Save(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), &Profile{ID: "prof_1"}, false); err != nil {
				t.Fatal(err)
			}
			cookies = append(cookies, rec.Result().Cookies()...)
			if len(cookies) != 2 {
				t.Fatalf("got %d cookies, want a state and a session", len(cookies))
			}
			for _, c := range cookies {
				if c.Secure != tc.wantSecure || c.Domain != tc.wantDomain || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
					t.Errorf("cookie %s: Secure %v, Domain %q, HttpOnly %v, SameSite %v; want Secure %v, Domain %q, HttpOnly, Lax",
						c.Name, c.Secure, c.Domain, c.HttpOnly, c.SameSite, tc.wantSecure, tc.wantDomain)
				}
			}
			if got := cookies[1].Name; got != tc.wantName {
				t.Errorf("session cookie name: got %q, want %q", got, tc.wantName)
			}
		})
	}
}

func TestRequireSSOServesLogout(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Behind RequireSSO, a signed-out browser's sign-out link must reach
	// the logout handler (its confirmation page), not the login redirect.
	rec := newRecorderRequest(t, g, "/logout")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `method="post"`) {
		t.Errorf("/logout behind RequireSSO: got %d %q, want 200 confirmation form", rec.Code, rec.Body)
	}
}

func TestRequireSSOReturnToStaysOnSite(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	h := g.RequireSSO(http.NotFoundHandler())
	tests := []struct{ name, target, want string }{
		{"protocol relative path", "//evil.example/x", "/login"},
		{"backslash path", "/\\evil.example", "/login"},
		{"the landing page", "/", "/login"},
		{"dot segments", "/a/../app", "/login?return_to=%2Fapp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			req.Header.Set("Sec-Fetch-Mode", "navigate")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Header().Get("Location"); rec.Code != http.StatusFound || got != tc.want {
				t.Errorf("got %d to %q, want 302 to %q", rec.Code, got, tc.want)
			}
		})
	}
}

func TestHandlerServesOnlyItsPaths(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	h := g.Handler()
	tests := []struct {
		name, target string
		wantCode     int
	}{
		{"login", "/login?organization=org_acme", http.StatusFound},
		{"callback", "/callback?code=x", http.StatusBadRequest},
		{"logout", "/logout", http.StatusOK},
		{"other path", "/app", http.StatusNotFound},
		{"login with a trailing slash", "/login/", http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if rec.Code != tc.wantCode {
				t.Errorf("got %d, want %d", rec.Code, tc.wantCode)
			}
		})
	}
}

// TestEscapedCallbackPathNotGated checks that RequireSSO serves a callback
// whose path has escapes in the redirect URI, rather than gating it.
func TestEscapedCallbackPathNotGated(t *testing.T) {
	cfg := validConfig()
	cfg.RedirectURI = "http://localhost:8080/auth/caf%C3%A9"
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorderRequest(t, g, "/auth/caf%C3%A9?code=x")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "must start from this site") {
		t.Errorf("got %d %q, want the callback's 400", rec.Code, rec.Body)
	}
}

// TestReady checks the readiness probe's answer: ready, and not while the
// backplane cannot vouch for the revocations.
func TestReady(t *testing.T) {
	bp := &switchBackplane{Backplane: NewLocalBackplane()}
	cfg := validConfig()
	cfg.Backplane = bp
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Ready(); err != nil {
		t.Errorf("Ready: %v", err)
	}
	bp.subs[0].FailClosed(errors.New("the backplane is away"))
	if err := g.Ready(); !errors.Is(err, ErrRevocationsUnavailable) {
		t.Errorf("Ready while failing closed: got %v, want ErrRevocationsUnavailable", err)
	}
	bp.subs[0].FailClosed(nil)
	if err := g.Ready(); err != nil {
		t.Errorf("Ready again: %v", err)
	}
}

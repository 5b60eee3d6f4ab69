package ssogate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

func TestLoginEachSelector(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		user     string
		wantOrg  string
		wantConn string
		param    string
	}{
		// An organization with one active connection is sent to it directly.
		{"organization", "organization=" + workostest.AcmeOrganizationID, workostest.AliceEmail, workostest.AcmeOrganizationID, workostest.AcmeConnectionID, "connection"},
		{"email", "email=" + workostest.HankEmail, workostest.HankEmail, workostest.GlobexOrganizationID, workostest.GlobexConnectionID, "connection"},
		{"connection", "connection=" + workostest.GlobexConnectionID, workostest.HankEmail, workostest.GlobexOrganizationID, workostest.GlobexConnectionID, "connection"},
		{"provider", "provider=GoogleOAuth", workostest.CarolEmail, "", workostest.GoogleConnectionID, "provider"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, []workostest.Option{workostest.WithAutoSignIn(tc.user)})
			f.wantSignedOut()
			auth := f.startLogin(tc.query)
			for _, p := range []string{"organization", "connection", "provider"} {
				if got := auth.Query().Has(p); got != (p == tc.param) {
					t.Errorf("authorization URL has %s: %v, want %v", p, got, p == tc.param)
				}
			}
			for _, wrong := range []string{"organization_id", "connection_id"} {
				if auth.Query().Has(wrong) {
					t.Errorf("authorization URL sends %s, which /sso/authorize does not read", wrong)
				}
			}
			r := f.get(f.authorize(auth).String())
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("callback: got %d %q, want 303", r.StatusCode, r.body)
			}
			f.wantSignedIn(tc.user)
			s, err := f.gate.sessions.Load(requestWithJar(t, f))
			if err != nil {
				t.Fatal(err)
			}
			if s.Profile.OrganizationID != tc.wantOrg || s.Profile.ConnectionID != tc.wantConn {
				t.Errorf("session organization, connection = %q, %q; want %q, %q", s.Profile.OrganizationID, s.Profile.ConnectionID, tc.wantOrg, tc.wantConn)
			}
			f.wantNoSecrets(auth.Query().Get("state"))
		})
	}
}

// requestWithJar builds a request to the app carrying the jar's cookies.
func requestWithJar(t *testing.T, f *flow) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.app.URL+"/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	return req
}

func TestLoginDefaultSelectorAndMissingSelector(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) { c.DefaultOrganization = workostest.AcmeOrganizationID })
	auth := f.startLogin("return_to=/app")
	if got := auth.Query().Get("connection"); got != workostest.AcmeConnectionID {
		t.Errorf("default selector: connection = %q, want %q, the default organization's connection", got, workostest.AcmeConnectionID)
	}

	// With no selector and no default, /login asks for the work email.
	f = newFlow(t, nil)
	r := f.get("/login?return_to=/app")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `name="email"`) || !strings.Contains(r.body, `action="/login"`) ||
		!strings.Contains(r.body, `name="return_to" value="/app"`) {
		t.Errorf("/login without selector: got %d %q, want 200 with an email form that keeps return_to", r.StatusCode, r.body)
	}
	if len(r.stateCookies()) != 0 {
		t.Error("/login without selector set a state cookie")
	}
}

func TestLoginRejectsBadInput(t *testing.T) {
	f := newFlow(t, nil)
	tests := []struct {
		name, query string
	}{
		{"two selectors", "organization=org_acme&connection=conn_acme_okta"},
		{"repeated selector", "organization=org_acme&organization=org_globex"},
		{"bad organization id", "organization=acme"},
		{"organization id with junk", "organization=org_acme%22%3E%3Cscript%3E"},
		{"bad connection id", "connection=org_acme"},
		{"unknown provider", "provider=EvilOAuth"},
		{"login hint with newline", "organization=org_acme&login_hint=a%0a@b.com"},
		{"login hint too long", "organization=org_acme&login_hint=" + strings.Repeat("a", 400)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get("/login?" + tc.query)
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("got status %d, want 400", r.StatusCode)
			}
			if strings.Contains(r.body, "<script>") {
				t.Error("error page reflects markup")
			}
			if len(r.stateCookies()) != 0 {
				t.Error("a refused login set a state cookie")
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/login?organization=org_acme", nil)
	if r := f.do(req); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /login: got %d, want 405", r.StatusCode)
	}
}

func TestReturnToCorpusOverHTTP(t *testing.T) {
	f := newFlow(t, nil)
	for _, tc := range returnToCases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == "" {
				want = "/"
			}
			f.signIn("organization=org_acme&return_to="+url.QueryEscape(tc.in), want)
		})
	}
}

func TestCallbackState(t *testing.T) {
	t.Run("missing state is an IdP-initiated login and is refused", func(t *testing.T) {
		f := newFlow(t, nil)
		cb := f.authorize(f.startLogin("organization=org_acme"))
		q := cb.Query()
		q.Del("state")
		cb.RawQuery = q.Encode()
		r := f.get(cb.String())
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "must start from this site") {
			t.Errorf("got %d %q, want 400 refusing the login", r.StatusCode, r.body)
		}
		f.wantSignedOut()
	})
	t.Run("mismatched state", func(t *testing.T) {
		f := newFlow(t, nil)
		cb := f.authorize(f.startLogin("organization=org_acme"))
		q := cb.Query()
		q.Set("state", newState())
		cb.RawQuery = q.Encode()
		if r := f.get(cb.String()); r.StatusCode != http.StatusBadRequest {
			t.Errorf("got %d, want 400", r.StatusCode)
		}
		f.wantSignedOut()
	})
	t.Run("expired state", func(t *testing.T) {
		f := newFlow(t, nil)
		cb := f.authorize(f.startLogin("organization=org_acme"))
		f.clock.Advance(stateLifetime + time.Second)
		r := f.get(cb.String())
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "expired") {
			t.Errorf("got %d %q, want 400 saying the sign-in expired", r.StatusCode, r.body)
		}
		f.wantSignedOut()
	})
	t.Run("replayed state", func(t *testing.T) {
		f := newFlow(t, nil)
		cb := f.authorize(f.startLogin("organization=org_acme"))
		first := f.get(cb.String())
		if first.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: got %d, want 303", first.StatusCode)
		}
		if sc := first.stateCookies(); len(sc) != 1 || sc[0].MaxAge >= 0 {
			t.Errorf("callback did not delete the state cookie: %v", sc)
		}
		f.jar.SetCookies(mustURL(t, f.app.URL), []*http.Cookie{{Name: f.gate.cfg.CookieName, Value: "", MaxAge: -1}})
		second := f.get(cb.String())
		if second.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed callback: got %d, want 400", second.StatusCode)
		}
		f.wantSignedOut()
	})
	t.Run("state cookie deleted on failure too", func(t *testing.T) {
		f := newFlow(t, nil)
		cb := f.authorize(f.startLogin("organization=org_acme"))
		f.idp.Fail("POST /sso/token", workostest.Fault{Status: http.StatusBadRequest, Body: `{"error":"invalid_grant","error_description":"The code has expired or has already been used."}`})
		r := f.get(cb.String())
		if r.StatusCode != http.StatusBadRequest {
			t.Errorf("got %d, want 400", r.StatusCode)
		}
		if sc := r.stateCookies(); len(sc) != 1 || sc[0].MaxAge >= 0 {
			t.Errorf("failed callback did not delete the state cookie: %v", sc)
		}
	})
}

func TestCallbackCodeReplay(t *testing.T) {
	f := newFlow(t, nil)
	cb := f.authorize(f.startLogin("organization=org_acme"))
	if r := f.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback: got %d, want 303", r.StatusCode)
	}
	// A second login in the same browser, completed with the first
	// login's code: WorkOS refuses the used code.
	cb2 := f.authorize(f.startLogin("organization=org_acme"))
	q := cb2.Query()
	q.Set("code", cb.Query().Get("code"))
	cb2.RawQuery = q.Encode()
	r := f.get(cb2.String())
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "expired or was already used") {
		t.Errorf("replayed code: got %d %q, want 400 asking to sign in again", r.StatusCode, r.body)
	}
	if !strings.Contains(r.body, `href="/login?organization=org_acme"`) {
		t.Errorf("replayed code page offers no way to start again: %q", r.body)
	}
	f.wantNoSecrets(cb.Query().Get("code"), cb.Query().Get("state"))
}

func TestCallbackCodeExpired(t *testing.T) {
	f := newFlow(t, nil)
	cb := f.authorize(f.startLogin("organization=org_acme"))
	f.idp.Advance(11 * time.Minute)
	if r := f.get(cb.String()); r.StatusCode != http.StatusBadRequest {
		t.Errorf("expired code: got %d, want 400", r.StatusCode)
	}
	f.wantSignedOut()
}

// TestCallbackIntentMismatch is the attack of an administrator of one
// organization's identity provider: a code for a user of another
// connection is put into a login that was started for a given
// organization, connection or provider. Each selector is enforced on its
// own.
func TestCallbackIntentMismatch(t *testing.T) {
	tests := []struct {
		name string
		// The victim's login, and a user who can complete it.
		login, user string
		// The attacker's own sign-in, whose code is swapped in.
		attackerSelector, attackerID, attackerUser string
	}{
		{"organization", "organization=" + workostest.GlobexOrganizationID, workostest.HankEmail,
			"organization", workostest.AcmeOrganizationID, workostest.AliceEmail},
		{"connection", "connection=" + workostest.GlobexConnectionID, workostest.HankEmail,
			"connection", workostest.AcmeConnectionID, workostest.AliceEmail},
		{"provider", "provider=GoogleOAuth", workostest.CarolEmail,
			"organization", workostest.AcmeOrganizationID, workostest.AliceEmail},
		{"organization, by a provider user", "organization=" + workostest.AcmeOrganizationID, workostest.AliceEmail,
			"provider", "GoogleOAuth", workostest.CarolEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, []workostest.Option{workostest.WithAutoSignIn(tc.user)})
			cb := f.authorize(f.startLogin(tc.login))

			f.idp.SetAutoSignIn(tc.attackerUser)
			attacker := url.Values{
				"client_id":         {f.idp.ClientID},
				"redirect_uri":      {f.app.URL + "/callback"},
				"response_type":     {"code"},
				tc.attackerSelector: {tc.attackerID},
				"state":             {"attacker"},
			}
			ar := f.get(f.idp.URL + "/sso/authorize?" + attacker.Encode())
			code := ar.location(t).Query().Get("code")
			if code == "" {
				t.Fatalf("no code for the attacker's login: %s", ar.location(t))
			}
			q := cb.Query()
			q.Set("code", code)
			cb.RawQuery = q.Encode()
			r := f.get(cb.String())
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("got %d %q, want 403", r.StatusCode, r.body)
			}
			if r.cookie(f.gate.cfg.CookieName) != nil {
				t.Error("a session cookie was set")
			}
			f.wantSignedOut()
			f.wantNoSecrets(code, cb.Query().Get("state"))
		})
	}
}

func TestCallbackWorkOSErrorRedirect(t *testing.T) {
	f := newFlow(t, nil)
	// An unknown organization (sent past /login, which would refuse it):
	// WorkOS sends the browser back with an error.
	auth := f.startLogin("organization=org_acme")
	q := auth.Query()
	q.Del("connection")
	q.Set("organization", "org_nosuch")
	auth.RawQuery = q.Encode()
	r := f.get(auth.String())
	cb := r.location(t)
	if cb.Query().Get("error") == "" {
		t.Fatalf("emulator did not redirect with an error: %s", cb)
	}
	r = f.get(cb.String())
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "Sign-in failed") {
		t.Errorf("got %d %q, want 400 sign-in failed page", r.StatusCode, r.body)
	}
	if sc := r.stateCookies(); len(sc) != 1 || sc[0].MaxAge >= 0 {
		t.Errorf("error callback did not delete the state cookie: %v", sc)
	}
	f.wantSignedOut()
}

func TestCallbackErrorDescriptionIsEscaped(t *testing.T) {
	f := newFlow(t, nil)
	auth := f.startLogin("organization=org_acme")
	xss := `<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"'`
	q := url.Values{"error": {"access_denied"}, "error_description": {xss}, "state": {auth.Query().Get("state")}}
	r := f.get("/callback?" + q.Encode())
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("access_denied: got %d, want 403", r.StatusCode)
	}
	for _, bad := range []string{"<script>", "<img", "onerror=alert"} {
		if strings.Contains(r.body, bad) && !strings.Contains(r.body, "&lt;") {
			t.Errorf("page contains unescaped %q: %s", bad, r.body)
		}
	}
	if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<img") {
		t.Errorf("page reflects markup: %s", r.body)
	}
	if !strings.Contains(r.body, "&lt;script&gt;") {
		t.Errorf("page does not show the escaped description: %s", r.body)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("error page CSP = %q, want default-src 'none'", csp)
	}
}

func TestCallbackWorkOSFailures(t *testing.T) {
	tests := []struct {
		name       string
		fault      workostest.Fault
		timeout    time.Duration
		wantStatus int
		signedIn   bool
	}{
		{"server error", workostest.Fault{Status: http.StatusInternalServerError, Body: `{"message":"oops"}`}, 0, http.StatusBadGateway, false},
		{"bad gateway html", workostest.Fault{Status: http.StatusBadGateway, Body: "<html>proxy</html>"}, 0, http.StatusBadGateway, false},
		{"timeout", workostest.Fault{Delay: 5 * time.Second}, 200 * time.Millisecond, http.StatusGatewayTimeout, false},
		{"rate limited then success", workostest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0", Body: `"Ratelimited"`}, 0, http.StatusSeeOther, true},
		{"rate limited throughout", workostest.Fault{Times: 20, Status: http.StatusTooManyRequests, RetryAfter: "0", Body: `"Ratelimited"`}, 0, http.StatusServiceUnavailable, false},
		{"API key refused", workostest.Fault{Status: http.StatusUnauthorized, Body: `{"error":"invalid_client","error_description":"Invalid client secret."}`}, 0, http.StatusInternalServerError, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil, func(c *Config) {
				if tc.timeout != 0 {
					c.ExchangeTimeout = tc.timeout
				}
			})
			cb := f.authorize(f.startLogin("organization=org_acme"))
			f.idp.Fail("POST /sso/token", tc.fault)
			// A callback that waited out a slow WorkOS would get the real
			// answer and sign the user in: the status tells.
			r := f.get(cb.String())
			if r.StatusCode != tc.wantStatus {
				t.Errorf("got %d %q, want %d", r.StatusCode, r.body, tc.wantStatus)
			}
			if tc.signedIn {
				f.wantSignedIn(workostest.AliceEmail)
			} else {
				f.wantSignedOut()
			}
			if tc.name == "server error" {
				if n := f.idp.Count("POST /sso/token"); n != 1 {
					t.Errorf("the code exchange was sent %d times after a 5xx, want 1 (never retried)", n)
				}
			}
			f.wantNoSecrets(cb.Query().Get("code"))
		})
	}
}

func TestConcurrentLoginsInTwoTabs(t *testing.T) {
	f := newFlow(t, nil)
	cb1 := f.authorize(f.startLogin("organization=org_acme&return_to=/app/one"))
	cb2 := f.authorize(f.startLogin("organization=org_acme&return_to=/app/two"))
	// The second tab finishes first.
	for _, c := range []struct {
		cb   *url.URL
		want string
	}{{cb2, "/app/two"}, {cb1, "/app/one"}} {
		r := f.get(c.cb.String())
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: got %d %q, want 303", r.StatusCode, r.body)
		}
		if got := r.location(t).Path; got != c.want {
			t.Errorf("redirected to %s, want %s", got, c.want)
		}
	}
	f.wantSignedIn(workostest.AliceEmail)
}

// TestConcurrentLoginsInParallel signs eight browsers in at once through
// one app and one emulator. Each runs in a parallel subtest, so that a
// failing hop can stop its own browser with t.Fatal.
func TestConcurrentLoginsInParallel(t *testing.T) {
	f := newFlow(t, nil)
	for i := range 8 {
		name := "browser " + string(rune('a'+i))
		page := "/app/" + string(rune('a'+i))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Each browser has its own jar.
			g := *f
			g.t = t
			g.jar, _ = newJar()
			g.c = &http.Client{Jar: g.jar, CheckRedirect: f.c.CheckRedirect, Timeout: f.c.Timeout}
			g.signIn("organization=org_acme&return_to="+page, page)
			g.wantSignedIn(workostest.AliceEmail)
		})
	}
}

func TestStateCookiesAreCapped(t *testing.T) {
	f := newFlow(t, nil)
	for range 12 {
		f.startLogin("organization=org_acme")
	}
	u := mustURL(t, f.app.URL+"/callback")
	n := 0
	for _, c := range f.jar.Cookies(u) {
		if strings.Contains(c.Name, "_state_") {
			n++
		}
	}
	if n > 5 {
		t.Errorf("browser holds %d state cookies after 12 logins, want at most 5", n)
	}
	// The newest flow still completes.
	f.signIn("organization=org_acme", "/")
}

func TestSessionCookies(t *testing.T) {
	t.Run("tampered", func(t *testing.T) {
		f := newFlow(t, nil)
		f.signIn("organization=org_acme", "/")
		u := mustURL(t, f.app.URL)
		for _, c := range f.jar.Cookies(u) {
			if c.Name == f.gate.cfg.CookieName {
				v := []byte(c.Value)
				v[len(v)/2] ^= 1
				f.jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: string(v), Path: "/"}})
			}
		}
		f.wantSignedOut()
	})
	t.Run("expired", func(t *testing.T) {
		f := newFlow(t, nil, func(c *Config) { c.SessionLifetime = time.Hour })
		f.signIn("organization=org_acme", "/")
		f.clock.Advance(59 * time.Minute)
		f.wantSignedIn(workostest.AliceEmail)
		f.clock.Advance(2 * time.Minute)
		f.wantSignedOut()
	})
	t.Run("rotated key", func(t *testing.T) {
		f := newFlow(t, nil)
		f.signIn("organization=org_acme", "/")
		// The new key first and the old one still accepted: still signed in.
		f.app.Config.Handler = f.handler(f.newGate(func(c *Config) { c.CookieSecrets = [][]byte{flowRotatedSecret, flowSecret} }))
		f.wantSignedIn(workostest.AliceEmail)
		// The old key retired: signed out, without an error page.
		f.app.Config.Handler = f.handler(f.newGate(func(c *Config) { c.CookieSecrets = [][]byte{flowRotatedSecret} }))
		f.wantSignedOut()
	})
	t.Run("garbage", func(t *testing.T) {
		f := newFlow(t, nil)
		for _, v := range []string{"", "x", "!!!", strings.Repeat("A", 5000), "MTIzfHh8eXx6"} {
			f.jar.SetCookies(mustURL(t, f.app.URL), []*http.Cookie{{Name: f.gate.cfg.CookieName, Value: v, Path: "/"}})
			f.wantSignedOut()
		}
	})
}

func TestCookieAttributesPinned(t *testing.T) {
	f := newFlow(t, nil)
	r := f.get("/login?organization=org_acme")
	sc := r.stateCookies()
	if len(sc) != 1 {
		t.Fatalf("got %d state cookies, want 1", len(sc))
	}
	st := sc[0]
	if !st.HttpOnly || st.SameSite != http.SameSiteLaxMode || st.Path != "/" || st.Domain != "" || st.Secure || st.MaxAge != int(stateLifetime/time.Second) {
		t.Errorf("state cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, no Domain, not Secure over http, Max-Age=600", st)
	}
	if !strings.HasPrefix(st.Name, "ssogate_state_") {
		t.Errorf("state cookie name = %q, want ssogate_state_...", st.Name)
	}
	cb := f.authorize(r.location(t))
	r = f.get(cb.String())
	s := r.cookie("ssogate")
	if s == nil {
		t.Fatal("no session cookie named ssogate")
	}
	if !s.HttpOnly || s.SameSite != http.SameSiteLaxMode || s.Path != "/" || s.Secure || s.Domain != "" || s.MaxAge != int(DefaultSessionLifetime/time.Second) {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, no Domain, Max-Age=8h", s)
	}
	if n := len(s.Value); n > 1024 {
		t.Errorf("session cookie for a typical profile is %d bytes, want under 1 KB", n)
	}
	t.Logf("session cookie value: %d bytes", len(s.Value))

	// With an https redirect URI the cookies are Secure and take the
	// __Host- prefix: the state cookies too, whatever the session cookie is
	// called, so that no sibling subdomain can plant one. With a cookie
	// domain, which trusts the sibling hosts, they are __Secure-.
	for _, tt := range []struct {
		name, cookieName, domain, session, state string
	}{
		{"default", "", "", "__Host-ssogate", "__Host-ssogate_state_"},
		{"own name", "app", "", "app", "__Host-app_state_"},
		{"__Secure- name", "__Secure-app", "", "__Secure-app", "__Host-app_state_"},
		{"domain", "", "app.example", "ssogate", "__Secure-ssogate_state_"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := f.newGate(func(c *Config) {
				c.RedirectURI = "https://app.example/callback"
				c.CookieName, c.CookieDomain = tt.cookieName, tt.domain
			})
			if g.cfg.CookieName != tt.session || !g.sessions.secure {
				t.Errorf("https: cookie name %q, secure %v; want %s, true", g.cfg.CookieName, g.sessions.secure, tt.session)
			}
			rec := newRecorderRequest(t, g, "/login?organization=org_acme")
			cs := rec.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("got %d cookies, want one state cookie", len(cs))
			}
			if c := cs[0]; !c.Secure || !strings.HasPrefix(c.Name, tt.state) || c.Path != "/" || c.Domain != tt.domain {
				t.Errorf("https state cookie %s: Secure=%v Path=%q Domain=%q, want Secure, %s..., Path=/ and Domain=%q", c.Name, c.Secure, c.Path, c.Domain, tt.state, tt.domain)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	post := func(f *flow, site string) resp {
		req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		return f.do(req)
	}
	t.Run("same-origin POST", func(t *testing.T) {
		f := newFlow(t, nil)
		f.signIn("organization=org_acme", "/")
		f.startLogin("organization=org_acme") // a flow left half-way
		r := post(f, "same-origin")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("got %d to %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
		}
		if c := r.cookie("ssogate"); c == nil || c.MaxAge >= 0 {
			t.Errorf("session cookie not cleared: %v", c)
		}
		if sc := r.stateCookies(); len(sc) != 1 || sc[0].MaxAge >= 0 {
			t.Errorf("state cookies not cleared: %v", sc)
		}
		f.wantSignedOut()
	})
	t.Run("cross-site POST gets the confirmation page", func(t *testing.T) {
		f := newFlow(t, nil)
		f.signIn("organization=org_acme", "/")
		r := post(f, "cross-site")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `<form method="post" action="/logout">`) || len(r.Cookies()) != 0 {
			t.Errorf("got %d %v %s, want 200 and the confirmation page, no cookie touched", r.StatusCode, r.Cookies(), r.body)
		}
		f.wantSignedIn(workostest.AliceEmail)
	})
	t.Run("same-origin link", func(t *testing.T) {
		f := newFlow(t, nil)
		f.signIn("organization=org_acme", "/")
		r := f.get("/logout", "Sec-Fetch-Site", "same-origin")
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("got %d, want 303", r.StatusCode)
		}
		f.wantSignedOut()
	})
	t.Run("cross-site link and prefetch get a confirmation page", func(t *testing.T) {
		f := newFlow(t, nil)
		f.signIn("organization=org_acme", "/")
		for _, kv := range [][]string{
			{"Sec-Fetch-Site", "cross-site"},
			{"Sec-Fetch-Site", "same-site"},
			{"X-No-Fetch-Metadata", "1"},
		} {
			r := f.get("/logout", kv...)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `method="post"`) {
				t.Errorf("%v: got %d, want 200 confirmation form", kv, r.StatusCode)
			}
		}
		r := f.get("/logout", "Sec-Fetch-Site", "same-origin", "Sec-Purpose", "prefetch")
		if r.StatusCode != http.StatusOK {
			t.Errorf("prefetch: got %d, want 200 confirmation form", r.StatusCode)
		}
		f.wantSignedIn(workostest.AliceEmail)
	})
	t.Run("identity provider logout for OIDC", func(t *testing.T) {
		f := newFlow(t, []workostest.Option{workostest.WithAutoSignIn(workostest.HankEmail)}, func(c *Config) { c.LogoutIdP = true })
		f.signIn("organization=org_globex", "/")
		r := post(f, "same-origin")
		loc := r.location(t)
		if r.StatusCode != http.StatusSeeOther || loc.Host != mustURL(t, f.idp.URL).Host || loc.Path != "/sso/logout" {
			t.Errorf("got %d to %s, want 303 to the emulator's /sso/logout", r.StatusCode, loc)
		}
		f.wantSignedOut()
	})
	t.Run("identity provider logout falls back for SAML", func(t *testing.T) {
		f := newFlow(t, nil, func(c *Config) { c.LogoutIdP = true })
		f.signIn("organization=org_acme", "/")
		r := post(f, "same-origin")
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Errorf("got %d to %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
		}
		if n := f.idp.Count("POST /sso/logout/authorize"); n != 0 {
			t.Errorf("SSO logout was asked %d times for a SAML connection, want never", n)
		}
		f.wantSignedOut()
	})
}

func TestIdPInitiatedRestart(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) { c.IdPInitiated = IdPInitiatedRestart })
	code := f.idpInitiatedCode()
	r := f.get("/callback?code=" + url.QueryEscape(code))
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d %q, want 303 to a fresh login", r.StatusCode, r.body)
	}
	auth := r.location(t)
	if auth.Path != "/sso/authorize" || auth.Query().Get("connection") != workostest.AcmeConnectionID || auth.Query().Get("state") == "" {
		t.Fatalf("restart redirected to %s, want a state-checked login through %s", auth, workostest.AcmeConnectionID)
	}
	f.wantSignedOut() // the IdP's code alone signed nobody in
	cb := f.authorize(auth)
	if r := f.get(cb.String()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: got %d", r.StatusCode)
	}
	f.wantSignedIn(workostest.AliceEmail)
}

// idpInitiatedCode gets a code from the emulator the way an IdP-initiated
// login delivers one: with no state of the app's.
func (f *flow) idpInitiatedCode() string {
	f.t.Helper()
	q := url.Values{
		"client_id":     {f.idp.ClientID},
		"redirect_uri":  {f.app.URL + "/callback"},
		"response_type": {"code"},
		"connection":    {workostest.AcmeConnectionID},
	}
	r := f.get(f.idp.URL + "/sso/authorize?" + q.Encode())
	code := r.location(f.t).Query().Get("code")
	if code == "" {
		f.t.Fatal("emulator gave no code")
	}
	return code
}

func TestOnLogin(t *testing.T) {
	t.Run("refuses", func(t *testing.T) {
		f := newFlow(t, nil, func(c *Config) {
			c.OnLogin = func(ctx context.Context, p *Profile) error { return errors.New("not provisioned") }
		})
		cb := f.authorize(f.startLogin("organization=org_acme"))
		r := f.get(cb.String())
		if r.StatusCode != http.StatusForbidden || strings.Contains(r.body, "not provisioned") {
			t.Errorf("got %d %q, want 403 without the internal reason", r.StatusCode, r.body)
		}
		f.wantSignedOut()
	})
	t.Run("changes the profile", func(t *testing.T) {
		f := newFlow(t, nil, func(c *Config) {
			c.OnLogin = func(ctx context.Context, p *Profile) error { p.Groups = nil; return nil }
		})
		f.signIn("organization=org_acme", "/")
		s, err := f.gate.sessions.Load(requestWithJar(t, f))
		if err != nil || len(s.Profile.Groups) != 0 {
			t.Errorf("session groups = %v (err %v), want none", s.Profile.Groups, err)
		}
	})
	t.Run("custom status", func(t *testing.T) {
		f := newFlow(t, nil, func(c *Config) {
			c.OnLogin = func(ctx context.Context, p *Profile) error {
				return &HTTPError{Status: http.StatusPaymentRequired, Message: "Your plan has ended."}
			}
		})
		cb := f.authorize(f.startLogin("organization=org_acme"))
		if r := f.get(cb.String()); r.StatusCode != http.StatusPaymentRequired || !strings.Contains(r.body, "Your plan has ended.") {
			t.Errorf("got %d %q, want 402 with the hook's message", r.StatusCode, r.body)
		}
	})
}

func TestFixationNewSessionEachLogin(t *testing.T) {
	f := newFlow(t, nil)
	first := f.signIn("organization=org_acme", "/").cookie("ssogate").Value
	f.clock.Advance(time.Second)
	second := f.signIn("organization=org_acme", "/").cookie("ssogate").Value
	if first == second {
		t.Error("a second login reused the session cookie")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// alteredProvider is the flow's WorkOS client with some of its answers
// changed, to stand for a WorkOS (or a Provider) that misbehaves.
type alteredProvider struct {
	Provider
	// profile, if set, edits every exchanged profile.
	profile func(*Profile)
	// logoutURL, if set, replaces the URL AuthorizeLogout returns.
	logoutURL string
}

func (p alteredProvider) ExchangeCode(ctx context.Context, code, verifier string) (*workos.ProfileAndToken, error) {
	pt, err := p.Provider.ExchangeCode(ctx, code, verifier)
	if err == nil && p.profile != nil {
		p.profile(&pt.Profile)
	}
	return pt, err
}

func (p alteredProvider) AuthorizeLogout(ctx context.Context, profileID string) (*workos.LogoutAuthorization, error) {
	la, err := p.Provider.AuthorizeLogout(ctx, profileID)
	if err == nil && p.logoutURL != "" {
		la.LogoutURL = p.logoutURL
	}
	return la, err
}

// alter makes the flow's gate use an alteredProvider over its WorkOS client.
func alter(p alteredProvider) flowOption {
	return func(c *Config) {
		p.Provider = c.Provider
		c.Provider = p
		c.ClientID = c.Provider.(alteredProvider).Provider.(*workos.Client).ClientID()
	}
}

// TestCallbackRejectsMalformedResponses checks that a malformed callback
// exchanges no code and, whenever it names the flow's state, spends it: the
// untouched callback can no longer complete the login.
func TestCallbackRejectsMalformedResponses(t *testing.T) {
	tests := []struct {
		name  string
		query func(code, state string) string
		// spends: the query names the flow's real state.
		spends bool
	}{
		{"code twice", func(code, state string) string { return "code=" + code + "&code=other&state=" + state }, true},
		{"state twice", func(code, state string) string { return "code=" + code + "&state=" + state + "&state=" + state }, true},
		{"error twice", func(code, state string) string { return "error=access_denied&error=server_error&state=" + state }, true},
		{"code too long", func(code, state string) string { return "code=" + strings.Repeat("c", 2000) + "&state=" + state }, true},
		{"state too long", func(code, state string) string { return "code=" + code + "&state=" + strings.Repeat("s", 300) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil)
			cb := f.authorize(f.startLogin("organization=org_acme"))
			r := f.get("/callback?" + tc.query(cb.Query().Get("code"), cb.Query().Get("state")))
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("got %d %q, want 400", r.StatusCode, r.body)
			}
			if n := f.idp.Count("POST /sso/token"); n != 0 {
				t.Errorf("the code was exchanged %d times, want never", n)
			}
			f.wantSignedOut()
			if !tc.spends {
				return
			}
			if sc := r.stateCookies(); len(sc) != 1 || sc[0].MaxAge >= 0 {
				t.Errorf("malformed callback did not delete the state cookie: %v", sc)
			}
			if r := f.get(cb.String()); r.StatusCode != http.StatusBadRequest {
				t.Errorf("the flow completed after a malformed callback: got %d, want 400", r.StatusCode)
			}
			f.wantSignedOut()
		})
	}
}

func TestCallbackErrorDescriptionShownOnlyIfPlain(t *testing.T) {
	tests := []struct {
		name, desc string
		wantStatus int
		wantShown  bool
	}{
		{"plain", "The user is not assigned to this application.", http.StatusBadRequest, true},
		{"control characters", "line one\r\nSet-Cookie: x=1", http.StatusBadRequest, false},
		{"too long", strings.Repeat("d", 1001), http.StatusBadRequest, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil)
			auth := f.startLogin("organization=org_acme")
			q := url.Values{"error": {"connection_invalid"}, "error_description": {tc.desc}, "state": {auth.Query().Get("state")}}
			r := f.get("/callback?" + q.Encode())
			if r.StatusCode != tc.wantStatus {
				t.Errorf("got status %d, want %d", r.StatusCode, tc.wantStatus)
			}
			if got := strings.Contains(r.body, tc.desc); got != tc.wantShown {
				t.Errorf("page shows the description: got %v, want %v (body %q)", got, tc.wantShown, r.body)
			}
			f.wantSignedOut()
		})
	}
}

// TestAuthResponsesAreNotCached checks Cache-Control and Vary on every
// answer of the three handlers, failures included.
func TestAuthResponsesAreNotCached(t *testing.T) {
	f := newFlow(t, nil)
	cb := f.authorize(f.startLogin("organization=org_acme"))
	logout := func() resp {
		req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		return f.do(req)
	}
	checks := []struct {
		name string
		r    func() resp
	}{
		{"login", func() resp { return f.get("/login?organization=org_acme") }},
		{"login refused", func() resp { return f.get("/login") }},
		{"callback", func() resp { return f.get(cb.String()) }},
		{"callback refused", func() resp { return f.get(cb.String()) }},
		{"logout confirmation", func() resp { return f.get("/logout", "Sec-Fetch-Site", "cross-site") }},
		{"logout", logout},
	}
	for _, c := range checks {
		r := c.r()
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", c.name, r.StatusCode, got)
		}
		if got := r.Header.Values("Vary"); !slices.Contains(got, "Cookie") {
			t.Errorf("%s (%d): Vary %q, want Cookie", c.name, r.StatusCode, got)
		}
	}
}

func TestCallbackRejectsIncompleteProfile(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Profile)
	}{
		{"no id", func(p *Profile) { p.ID = "" }},
		{"no connection", func(p *Profile) { p.ConnectionID = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil, alter(alteredProvider{profile: tc.edit}))
			cb := f.authorize(f.startLogin("organization=org_acme"))
			if r := f.get(cb.String()); r.StatusCode != http.StatusBadGateway {
				t.Errorf("got %d %q, want 502", r.StatusCode, r.body)
			}
			f.wantSignedOut()
		})
	}
}

func TestIdPInitiatedRestartRejectsBadConnection(t *testing.T) {
	f := newFlow(t, nil,
		func(c *Config) { c.IdPInitiated = IdPInitiatedRestart },
		alter(alteredProvider{profile: func(p *Profile) { p.ConnectionID = "conn_x&organization=org_globex" }}))
	r := f.get("/callback?code=" + url.QueryEscape(f.idpInitiatedCode()))
	if r.StatusCode != http.StatusBadGateway {
		t.Errorf("got %d to %q, want 502", r.StatusCode, r.Header.Get("Location"))
	}
	if len(r.stateCookies()) != 0 {
		t.Error("a login was started through a connection id that is not one")
	}
	f.wantSignedOut()
}

func TestCallbackSessionTooLarge(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) {
		c.OnLogin = func(_ context.Context, p *Profile) error {
			for i := range 500 {
				p.Groups = append(p.Groups, fmt.Sprintf("group-with-a-long-name-%03d", i))
			}
			return nil
		}
	})
	cb := f.authorize(f.startLogin("organization=org_acme"))
	r := f.get(cb.String())
	if r.StatusCode != http.StatusInternalServerError || !strings.Contains(r.body, "too large") {
		t.Errorf("got %d %q, want 500 saying the profile is too large", r.StatusCode, r.body)
	}
	if c := r.cookie(f.gate.cfg.CookieName); c != nil {
		t.Errorf("a session cookie of %d bytes was set", len(c.Value))
	}
	f.wantSignedOut()
}

func TestSessionCustomAttributesOverHTTP(t *testing.T) {
	tests := []struct {
		name string
		keep bool
	}{
		{"dropped by default", false},
		{"kept on request", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil, func(c *Config) { c.KeepCustomAttributes = tc.keep })
			f.signIn("organization=org_acme", "/")
			s, err := f.gate.sessions.Load(requestWithJar(t, f))
			if err != nil {
				t.Fatal(err)
			}
			// The emulator gives Alice a department.
			if got := s.Profile.CustomAttributes["department"] != nil; got != tc.keep {
				t.Errorf("session has custom attributes %v, want kept: %v", s.Profile.CustomAttributes, tc.keep)
			}
			if s.Profile.RawAttributes != nil {
				t.Errorf("session has raw attributes %v, want none", s.Profile.RawAttributes)
			}
		})
	}
}

func TestLogoutIdPRefusesBadLogoutURL(t *testing.T) {
	tests := []struct{ name, url string }{
		{"javascript", "javascript:alert(1)"},
		{"relative", "/relative"},
		{"protocol relative", "//evil.example/x"},
		{"no host", "https:///nohost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, []workostest.Option{workostest.WithAutoSignIn(workostest.HankEmail)},
				func(c *Config) { c.LogoutIdP = true }, alter(alteredProvider{logoutURL: tc.url}))
			f.signIn("organization=org_globex", "/")
			req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if r := f.do(req); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
				t.Errorf("got %d to %q, want 303 to / (local sign-out)", r.StatusCode, r.Header.Get("Location"))
			}
			f.wantSignedOut()
		})
	}
}

// TestServerSideStoreOverHTTP runs the whole flow with sessions kept by a
// gorilla/sessions FilesystemStore, plugged in through Config.Store.
func TestServerSideStoreOverHTTP(t *testing.T) {
	dir := t.TempDir()
	f := newFlow(t, nil, func(c *Config) { c.Store = sessions.NewFilesystemStore(dir, testSecret(7)) })
	f.signIn("organization=org_acme", "/")
	f.wantSignedIn(workostest.AliceEmail)
	first := sessionFiles(t, dir)
	if len(first) != 1 {
		t.Fatalf("got session files %q after sign-in, want one", first)
	}
	// Signing in again replaces the stored session: no fixation, no pile-up.
	f.signIn("organization=org_acme", "/")
	if again := sessionFiles(t, dir); len(again) != 1 || again[0] == first[0] {
		t.Errorf("got session files %q after a second sign-in, want one other than %q", again, first[0])
	}
	req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := f.do(req); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: got %d, want 303", r.StatusCode)
	}
	if files := sessionFiles(t, dir); len(files) != 0 {
		t.Errorf("got session files %q after logout, want none", files)
	}
	f.wantSignedOut()
}

// TestLongestLoginStateFits starts the largest login the handlers accept,
// with the longest return_to SafeReturnTo keeps, the longest login hint and
// organization id, __Secure- cookie names and a long cookie domain: its
// state cookie must still fit in the 4096 bytes browsers keep.
func TestLongestLoginStateFits(t *testing.T) {
	cfg := validConfig()
	cfg.RedirectURI = "https://app.example/callback"
	label := strings.Repeat("d", 63)
	cfg.CookieDomain = strings.Join([]string{label, label, label, label[:50], "example"}, ".")
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	longest := "/" + strings.Repeat("a", maxReturnToLen-1)
	if _, ok := SafeReturnTo(longest); !ok {
		t.Fatalf("SafeReturnTo refuses %d bytes, the cap", len(longest))
	}
	q := url.Values{
		"organization": {"org_" + strings.Repeat("o", maxIDLen-len("org_"))},
		"login_hint":   {strings.Repeat("h", maxHintLen)},
		"return_to":    {longest},
	}
	rec := newRecorderRequest(t, g, "/login?"+q.Encode())
	if rec.Code != http.StatusFound {
		t.Fatalf("got %d %q, want 302 to WorkOS", rec.Code, rec.Body)
	}
	for _, line := range rec.Result().Header.Values("Set-Cookie") {
		if n := len(line); n > maxCookieBytes {
			t.Errorf("a Set-Cookie of %d bytes, want at most %d: %.60s...", n, maxCookieBytes, line)
		}
	}
}

// TestLogoutNotBySameOriginSubresource checks that markup on the site
// itself (an image or a frame pointing at /logout) cannot sign users out:
// only a navigation to a new page can.
func TestLogoutNotBySameOriginSubresource(t *testing.T) {
	tests := []struct {
		name, mode, dest string
	}{
		{"image", "no-cors", "image"},
		{"frame", "navigate", "iframe"},
		{"fetch", "cors", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil)
			f.signIn("organization=org_acme", "/")
			r := f.get("/logout", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", tc.mode, "Sec-Fetch-Dest", tc.dest)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `method="post"`) {
				t.Errorf("got %d, want 200 confirmation form", r.StatusCode)
			}
			f.wantSignedIn("alice@acme.com")
		})
	}
	// A plain same-origin link still signs out.
	f := newFlow(t, nil)
	f.signIn("organization=org_acme", "/")
	if r := f.get("/logout", "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Dest", "document"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin link: got %d, want 303", r.StatusCode)
	}
	f.wantSignedOut()
}

// TestCallbackErrorDescriptionNeedsOurState checks that text in a forged
// error redirect, one that no login of this browser started, is not shown
// on the site.
func TestCallbackErrorDescriptionNeedsOurState(t *testing.T) {
	const lure = "Your account is locked. Call support at +1 555 0100."
	tests := []struct {
		name  string
		state string
	}{
		{"no state", ""},
		{"unknown state", newState()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil)
			q := url.Values{"error": {"access_denied"}, "error_description": {lure}}
			if tc.state != "" {
				q.Set("state", tc.state)
			}
			r := f.get("/callback?" + q.Encode())
			if r.StatusCode != http.StatusForbidden || strings.Contains(r.body, "Call support") {
				t.Errorf("got %d %q, want 403 without the forged text", r.StatusCode, r.body)
			}
		})
	}
	// A flow of ours still shows WorkOS's description.
	f := newFlow(t, nil)
	auth := f.startLogin("organization=org_acme")
	q := url.Values{"error": {"access_denied"}, "error_description": {lure}, "state": {auth.Query().Get("state")}}
	if r := f.get("/callback?" + q.Encode()); !strings.Contains(r.body, "Call support") {
		t.Errorf("our own flow's error page lost the description: %q", r.body)
	}
}

// TestCallbackRefusesUnrevocableIDs has the Provider return a profile
// whose ids Revoke would refuse: no session is issued, since a session
// that cannot be revoked must not exist. Before, "prof_a:b" signed in.
func TestCallbackRefusesUnrevocableIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Profile)
	}{
		{"profile id with a colon", func(p *Profile) { p.ID = "prof_a:b" }},
		{"profile id too long", func(p *Profile) { p.ID = "prof_" + strings.Repeat("a", 300) }},
		{"profile id of another kind", func(p *Profile) { p.ID = "user_01ABC" }},
		{"organization id", func(p *Profile) { p.OrganizationID = "org acme" }},
		{"connection id", func(p *Profile) { p.ConnectionID = "conn_\u202eokta" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, nil, alter(alteredProvider{profile: tc.edit}))
			cb := f.authorize(f.startLogin("organization=" + workostest.AcmeOrganizationID))
			r := f.get(cb.String())
			if r.StatusCode != http.StatusBadGateway || !strings.Contains(r.body, "incomplete profile") {
				t.Errorf("got %d %.300q, want 502 and the incomplete profile page", r.StatusCode, r.body)
			}
			f.wantSignedOut()
		})
	}
}

// TestCallbackWithAWrongSecret signs in through an emulator that refuses
// the app's API key at the code exchange, as WorkOS's spec answers it (400
// invalid_client): the user sees that sign-in is misconfigured here, not
// that their sign-in expired, and the operator's log says why.
func TestCallbackWithAWrongSecret(t *testing.T) {
	f := newFlow(t, nil)
	f.gate = f.newGate(func(c *Config) {
		client, err := workos.NewClient(workos.ClientConfig{APIKey: "sk_test_wrong", ClientID: f.idp.ClientID, BaseURL: f.idp.URL})
		if err != nil {
			t.Fatal(err)
		}
		c.Provider = client
	})
	f.app.Config.Handler = f.handler(f.gate)
	cb := f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID))
	r := f.get(cb.String())
	if r.StatusCode != http.StatusInternalServerError || !strings.Contains(r.body, "misconfigured") {
		t.Errorf("got %d %.300s, want 500 and the misconfigured page", r.StatusCode, r.body)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "invalid_client") {
		t.Errorf("the log does not say invalid_client:\n%s", logs)
	}
	f.wantSignedOut()
}

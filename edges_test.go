package ssogate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

// The tests in this file each close an edge of the promises "sign out
// everywhere", "step-up" and "a revoked user is out", found by attacking
// them; each failed before its fix.

// TestSignInStraddlingRevocation checks that a login in progress when its
// user, organization or connection is revoked cannot finish with a fresh
// session: before, the callback issued a session after the revocation,
// which no revocation matched.
func TestSignInStraddlingRevocation(t *testing.T) {
	alice := workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)
	tests := []struct {
		name string
		rev  Revocation
		// deactivate also makes the connection inactive at the emulator,
		// whose code exchange still succeeds, as WorkOS's reference allows.
		deactivate bool
	}{
		{name: "user", rev: RevokeUser(alice)},
		{name: "organization", rev: RevokeOrganization(workostest.AcmeOrganizationID)},
		{name: "connection", rev: RevokeConnection(workostest.AcmeConnectionID), deactivate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlow(t, nil)
			cb := f.authorize(f.startLogin("organization=" + workostest.AcmeOrganizationID))
			f.clock.Advance(time.Second)
			if tt.deactivate {
				if err := f.idp.SetConnectionState(workostest.AcmeConnectionID, "inactive"); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.gate.Revoke(context.Background(), tt.rev); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Minute)
			r := f.get(cb.String())
			if r.StatusCode != http.StatusForbidden {
				t.Fatalf("callback after the revocation: got %d %q, want 403", r.StatusCode, r.body)
			}
			for _, want := range []string{"revoked while you were signing in", `href="/login?organization=org_acme"`, "Sign in again"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("page lacks %q:\n%s", want, r.body)
				}
			}
			if c := r.cookie(f.gate.cfg.CookieName); c != nil && c.MaxAge >= 0 {
				t.Errorf("callback set a session cookie %v", c)
			}
			f.wantSignedOut()
			if !strings.Contains(f.logs.String(), "revoked while it was in progress") {
				t.Errorf("no warning in the log:\n%s", f.logs)
			}
			if tt.deactivate {
				return // nobody signs in through an inactive connection
			}
			// A login that starts after the revocation works.
			f.signIn("organization="+workostest.AcmeOrganizationID, "/")
			f.wantSignedIn(workostest.AliceEmail)
			f.wantNoSecrets()
		})
	}
}

// TestSignInWhileRevocationsUnavailable checks that a callback does not
// issue a session while the backplane cannot vouch for the revocations: a
// revocation it has not delivered yet could otherwise be straddled.
func TestSignInWhileRevocationsUnavailable(t *testing.T) {
	bp := &switchBackplane{Backplane: NewLocalBackplane()}
	f := newFlow(t, nil, func(c *Config) { c.Backplane = bp })
	cb := f.authorize(f.startLogin("organization=" + workostest.AcmeOrganizationID))
	bp.subs[0].FailClosed(errFailClosedForTest)
	if r := f.get(cb.String()); r.StatusCode != http.StatusServiceUnavailable || r.cookie(f.gate.cfg.CookieName) != nil {
		t.Fatalf("callback while failing closed: got %d, want 503 and no session", r.StatusCode)
	}
}

var errFailClosedForTest = context.DeadlineExceeded

// newGateWithClock makes another Middleware for the flow's app whose clock
// is clock, as a replica whose clock differs.
func (f *flow) newGateWithClock(clock *testClock, opts ...flowOption) *Middleware {
	f.t.Helper()
	g := f.newGate(opts...)
	cfg := g.cfg
	g.Close()
	cfg.Connections = nil
	g, err := newMiddleware(cfg, clock.Now)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { g.Close() })
	return g
}

// TestSignOutDoesNotDependOnClocks signs alice in on a replica whose clock
// is an hour ahead and out on one whose clock is right: her copied cookie
// must stop working on both. Before, the sign-out's time was compared with
// the session's issue time, and a copy outlived it for an hour.
func TestSignOutDoesNotDependOnClocks(t *testing.T) {
	bp := NewLocalBackplane()
	f := newFlow(t, nil, func(c *Config) { c.Backplane = bp })
	ahead := newTestClock()
	ahead.Advance(time.Hour)
	fast := f.newGateWithClock(ahead, func(c *Config) { c.Backplane = bp })

	f.app.Config.Handler = f.handler(fast)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	thief := f.newBrowser()
	f.copyCookiesTo(thief)
	thief.wantSignedIn(workostest.AliceEmail)

	f.app.Config.Handler = f.handler(f.gate)
	if r := f.get("/logout", "Sec-Fetch-Site", "same-origin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: got %d, want 303", r.StatusCode)
	}
	for _, g := range []*Middleware{f.gate, fast} {
		f.app.Config.Handler = f.handler(g)
		thief.wantSignedOut()
	}
}

// TestRevocationClockSkew checks both sides of ClockSkew over HTTP: a user
// revocation made on a replica whose clock is behind by less than
// ClockSkew ends a session issued just before it on a replica whose clock
// is ahead; a session issued more than ClockSkew after the revocation, by
// the same clock, survives it.
func TestRevocationClockSkew(t *testing.T) {
	alice := workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)
	tests := []struct {
		name       string
		ahead      time.Duration // of the replica that signs alice in
		wantRevoke bool
	}{
		{name: "within ClockSkew", ahead: ClockSkew - time.Second, wantRevoke: true},
		{name: "issued after the revocation and ClockSkew", ahead: ClockSkew + time.Second, wantRevoke: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bp := NewLocalBackplane()
			f := newFlow(t, nil, func(c *Config) { c.Backplane = bp })
			clock := newTestClock()
			clock.Advance(tt.ahead)
			signer := f.newGateWithClock(clock, func(c *Config) { c.Backplane = bp })
			f.app.Config.Handler = f.handler(signer)
			f.signIn("organization="+workostest.AcmeOrganizationID, "/")
			// The revocation is made at the same true instant, on a replica
			// whose clock reads tt.ahead less.
			if err := f.gate.Revoke(context.Background(), RevokeUser(alice)); err != nil {
				t.Fatal(err)
			}
			if tt.wantRevoke {
				f.wantSignedOut()
			} else {
				f.wantSignedIn(workostest.AliceEmail)
			}
		})
	}
}

// TestReplayedStateBuysOneExchange sends one state cookie again and again
// from a client that ignores Set-Cookie, with made-up codes: before, each
// callback was a POST /sso/token on the app's API key.
func TestReplayedStateBuysOneExchange(t *testing.T) {
	for _, rateLimited := range []bool{false, true} {
		name := "invalid grant"
		if rateLimited {
			name = "rate limited"
		}
		t.Run(name, func(t *testing.T) {
			f := newFlow(t, nil)
			if rateLimited {
				f.idp.Fail("POST /sso/token", workostest.Fault{Status: http.StatusTooManyRequests, Times: 1000})
			}
			authURL := f.startLogin("organization=" + workostest.AcmeOrganizationID)
			state := authURL.Query().Get("state")
			var cookie string
			for _, c := range f.jar.Cookies(mustURL(t, f.app.URL+"/callback")) {
				if c.Name == f.gate.sessions.statePrefix+state[:1] {
					cookie = c.Name + "=" + c.Value
				}
			}
			callback := func() int {
				req, _ := http.NewRequest(http.MethodGet, f.app.URL+"/callback?code=junk&state="+state, nil)
				req.Header.Set("Cookie", cookie)
				res, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			callback()
			after1 := f.idp.Count("POST /sso/token")
			if after1 == 0 {
				t.Fatal("the first callback made no exchange")
			}
			for range 20 {
				if got := callback(); got != http.StatusBadRequest {
					t.Errorf("replayed callback: got %d, want 400", got)
				}
			}
			if got := f.idp.Count("POST /sso/token"); got != after1 {
				t.Errorf("20 replays made %d more exchanges, want 0", got-after1)
			}
			if f.gate.spent.len() != 1 {
				t.Errorf("spent states: got %d, want 1", f.gate.spent.len())
			}
		})
	}
}

// TestExchangeBudget checks MaxExchangesPerMinute: callbacks over the
// budget get 503 and make no WorkOS call, and the budget comes back.
func TestExchangeBudget(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) { c.MaxExchangesPerMinute = 10 }) // one at once, one each 6 s
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	calls := f.idp.Count("POST /sso/token")
	cb := f.authorize(f.startLogin("organization=" + workostest.AcmeOrganizationID))
	r := f.get(cb.String())
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.body, "Too many sign-ins") {
		t.Fatalf("over the budget: got %d %q, want 503", r.StatusCode, r.body)
	}
	if got := f.idp.Count("POST /sso/token"); got != calls {
		t.Errorf("over the budget: %d exchanges made, want none", got-calls)
	}
	f.clock.Advance(6 * time.Second)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")

	for _, tt := range []struct {
		perMinute, want int
	}{{0, DefaultMaxExchangesPerMinute}, {-1, -1}, {30, 30}} {
		g := f.newGate(func(c *Config) { c.MaxExchangesPerMinute = tt.perMinute })
		if g.cfg.MaxExchangesPerMinute != tt.want {
			t.Errorf("MaxExchangesPerMinute %d: got %d, want %d", tt.perMinute, g.cfg.MaxExchangesPerMinute, tt.want)
		}
	}
}

// TestCookiesBoundToEnvironment checks that a session sealed with the same
// secret for another WorkOS environment (the emulator, staging) does not
// open this one: before, the keys came from the secret alone.
func TestCookiesBoundToEnvironment(t *testing.T) {
	f := newFlow(t, nil)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	f.wantSignedIn(workostest.AliceEmail)
	prod := f.newGate(func(c *Config) { c.ClientID = "client_production" })
	f.app.Config.Handler = f.handler(prod)
	f.wantSignedOut()
	// The same environment with the same secret opens it, as after a
	// restart.
	f.app.Config.Handler = f.handler(f.newGate())
	f.wantSignedIn(workostest.AliceEmail)

	noClientID := struct{ Provider }{stubProvider{}} // hides its ClientID method
	if _, err := New(Config{Provider: noClientID, RedirectURI: "http://localhost/callback", CookieSecrets: [][]byte{flowSecret}}); err == nil || !strings.Contains(err.Error(), "Config.ClientID") {
		t.Errorf("a Provider without a client ID and no Config.ClientID: got %v, want a Config.ClientID error", err)
	}
}

// TestPlantedStateCookieRefused plays a hostile sibling subdomain: it can
// set a __Secure- cookie for the parent domain, but not a __Host- one. It
// plants the sealed state cookie of a flow it started itself and sends the
// victim to the callback with its own code. Before, state cookies were
// __Secure- and the victim was signed in as the attacker.
func TestPlantedStateCookieRefused(t *testing.T) {
	f := newFlow(t, nil)
	g := f.newGate(func(c *Config) { c.RedirectURI = "https://app.example/callback" })
	rec := newRecorderRequest(t, g, "/login?organization="+workostest.AcmeOrganizationID)
	loc := mustURL(t, rec.Header().Get("Location"))
	state := loc.Query().Get("state")
	cs := rec.Result().Cookies()
	if len(cs) != 1 || !strings.HasPrefix(cs[0].Name, "__Host-") {
		t.Fatalf("got cookies %v, want one __Host- state cookie", cs)
	}
	// The genuine cookie works; the same value under any name a sibling
	// can set does not.
	for _, name := range []string{
		strings.Replace(cs[0].Name, "__Host-", "__Secure-", 1),
		strings.TrimPrefix(cs[0].Name, "__Host-"),
	} {
		calls := f.idp.Count("POST /sso/token")
		req := httptest.NewRequest(http.MethodGet, "https://app.example/callback?code=attackers&state="+state, nil)
		req.AddCookie(&http.Cookie{Name: name, Value: cs[0].Value})
		rec := httptest.NewRecorder()
		g.Callback(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "expired or was started in another browser") {
			t.Errorf("planted %s: got %d %q, want 400", name, rec.Code, rec.Body)
		}
		if f.idp.Count("POST /sso/token") != calls {
			t.Errorf("planted %s: the code was exchanged", name)
		}
	}
}

// TestCrossSiteLoginAsksFirst checks that a page of another site cannot
// choose where a browser signs in: before, alice's browser, sent by such a
// page to /login?connection=<Globex's>, came back signed in as hank.
func TestCrossSiteLoginAsksFirst(t *testing.T) {
	f := newFlow(t, nil)
	f.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
	f.idp.SetAutoSignIn(workostest.HankEmail)

	for _, site := range []string{"cross-site", "same-site"} {
		for _, query := range []string{
			"connection=" + workostest.GlobexConnectionID,
			"organization=" + workostest.GlobexOrganizationID,
			"email=hank%40globex.com",
			"domain=globex.com",
		} {
			r := f.get("/login?"+query+"&return_to=%2Fapp", "Sec-Fetch-Site", site)
			if r.StatusCode != http.StatusOK || len(r.stateCookies()) != 0 {
				t.Fatalf("%s /login?%s: got %d with %d state cookies, want 200 and no flow started", site, query, r.StatusCode, len(r.stateCookies()))
			}
			for _, want := range []string{"Continue signing in with Globex OIDC?", "signed in as <strong>alice@acme.com</strong>",
				`<form method="get" action="/login">`, `name="return_to" value="/app"`, "Back to the home page"} {
				if !strings.Contains(r.body, want) {
					t.Errorf("%s /login?%s: page lacks %q:\n%s", site, query, want, r.body)
				}
			}
			if r.Header.Get("Content-Security-Policy") == "" || r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("confirmation page headers %v", r.Header)
			}
		}
	}
	f.wantSignedIn(workostest.AliceEmail)

	// The button is a same-origin step, which starts the flow.
	r := f.get("/login?connection="+workostest.GlobexConnectionID+"&return_to=%2Fapp", "Sec-Fetch-Site", "same-origin")
	if r.StatusCode != http.StatusFound || len(r.stateCookies()) != 1 {
		t.Errorf("confirmed: got %d, want 302 to WorkOS", r.StatusCode)
	}

	// A connection's name cannot restyle the question.
	if err := f.idp.AddConnection(workostest.Connection{ID: "conn_bidi", OrganizationID: workostest.GlobexOrganizationID,
		Name: "Globex\u202eDIO", Type: "GenericOIDC", State: "active"}); err != nil {
		t.Fatal(err)
	}
	if r := f.get("/login?connection=conn_bidi", "Sec-Fetch-Site", "cross-site"); !strings.Contains(r.body, "Continue signing in with Globex DIO?") || strings.Contains(r.body, "\u202e") {
		t.Errorf("a name with a bidi override: got %q", r.body)
	}

	// A signed-out browser is asked too, without a name.
	b := f.newBrowser()
	r = b.get("/login?provider=GoogleOAuth", "Sec-Fetch-Site", "cross-site")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Continue signing in with GoogleOAuth?") || strings.Contains(r.body, "signed in as") {
		t.Errorf("signed out, cross-site provider: got %d %q", r.StatusCode, r.body)
	}

	// What chooses nothing, what the user typed, what browsers without
	// Fetch Metadata send, and a step-up of the signed-in connection go
	// straight to WorkOS, as before.
	for _, tt := range []struct{ name, query, site string }{
		{"typed", "connection=" + workostest.GlobexConnectionID, "none"},
		{"no Fetch Metadata", "connection=" + workostest.GlobexConnectionID, ""},
		{"step-up of the session's connection", "connection=" + workostest.AcmeConnectionID + "&prompt=login&return_to=%2Fbilling", "cross-site"},
		{"the session's organization", "organization=" + workostest.AcmeOrganizationID, "cross-site"},
	} {
		kv := []string{}
		if tt.site != "" {
			kv = append(kv, "Sec-Fetch-Site", tt.site)
		}
		if r := f.get("/login?"+tt.query, kv...); r.StatusCode != http.StatusFound {
			t.Errorf("%s: got %d, want 302 to WorkOS", tt.name, r.StatusCode)
		}
	}
	d := newFlow(t, nil, func(c *Config) { c.DefaultOrganization = workostest.AcmeOrganizationID })
	if r := d.get("/login?return_to=%2Fapp", "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusFound {
		t.Errorf("cross-site deep link that chooses nothing: got %d, want 302 to WorkOS", r.StatusCode)
	}
}

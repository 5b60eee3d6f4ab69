package ssogate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

// newBrowser returns another browser on the same app and emulator: a
// cookie jar of its own.
func (f *flow) newBrowser() *flow {
	g := *f
	g.jar, _ = cookiejar.New(nil)
	g.c = &http.Client{Jar: g.jar, CheckRedirect: f.c.CheckRedirect, Timeout: f.c.Timeout}
	return &g
}

// signInAs signs this browser in as email through /login?query.
func (f *flow) signInAs(email, query string) {
	f.t.Helper()
	f.idp.SetAutoSignIn(email)
	f.signIn(query, "/")
	f.wantSignedIn(email)
}

// copyCookies gives to the session cookie of f, as a thief would.
func (f *flow) copyCookiesTo(to *flow) {
	u := mustURL(f.t, f.app.URL+"/")
	to.jar.SetCookies(u, f.jar.Cookies(u))
}

// apiGet fetches a path of the app as a script would.
func (f *flow) apiGet(path string) resp {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.app.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	return f.do(req)
}

func TestRevoke(t *testing.T) {
	alice := workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)
	tests := []struct {
		name string
		rev  Revocation
		// who is signed out; the others stay signed in
		aliceOut, bobOut, hankOut bool
	}{
		{name: "user", rev: RevokeUser(alice), aliceOut: true},
		{name: "organization", rev: RevokeOrganization(workostest.AcmeOrganizationID), aliceOut: true, bobOut: true},
		{name: "connection", rev: RevokeConnection(workostest.GlobexConnectionID), hankOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlow(t, nil)
			a, b, h := f, f.newBrowser(), f.newBrowser()
			a.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
			b.signInAs(workostest.BobEmail, "organization="+workostest.AcmeOrganizationID)
			h.signInAs(workostest.HankEmail, "organization="+workostest.GlobexOrganizationID)

			f.clock.Advance(time.Second)
			if err := f.gate.Revoke(context.Background(), tt.rev); err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			for _, c := range []struct {
				b     *flow
				email string
				out   bool
			}{{a, workostest.AliceEmail, tt.aliceOut}, {b, workostest.BobEmail, tt.bobOut}, {h, workostest.HankEmail, tt.hankOut}} {
				if c.out {
					c.b.wantSignedOut()
					if r := c.b.apiGet("/api/me"); r.StatusCode != http.StatusUnauthorized {
						t.Errorf("%s: API got %d, want 401", c.email, r.StatusCode)
					}
				} else {
					c.b.wantSignedIn(c.email)
				}
			}

			// A revocation ends the sessions issued up to it (and ClockSkew
			// after), not the user: a sign-in after that works.
			f.clock.Advance(ClockSkew + time.Millisecond)
			if tt.aliceOut {
				a.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
			}
			f.wantNoSecrets()
		})
	}
}

func TestRevokeSessionEndsCopies(t *testing.T) {
	f := newFlow(t, nil)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	thief := f.newBrowser()
	f.copyCookiesTo(thief)
	thief.wantSignedIn(workostest.AliceEmail)

	// The app learns the session's id from the request's context.
	var id string
	f.app.Config.Handler = f.gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFromContext(r.Context())
		id = s.ID
	}))
	f.get("/app")
	f.app.Config.Handler = f.handler(f.gate)
	if !validSessionID(id) {
		t.Fatalf("session id %q is not 26 base32 characters", id)
	}
	if err := f.gate.Revoke(context.Background(), RevokeSession(id)); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	f.wantSignedOut()
	thief.wantSignedOut()
}

func TestLogoutEndsCopiedCookie(t *testing.T) {
	f := newFlow(t, nil)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	thief := f.newBrowser()
	f.copyCookiesTo(thief)
	thief.wantSignedIn(workostest.AliceEmail) // cached on the hot path

	req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := f.do(req); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: got %d, want 303", r.StatusCode)
	}
	f.wantSignedOut()
	thief.wantSignedOut()
	if n := f.gate.revocations.len(); n != 1 {
		t.Errorf("got %d revocations, want the session's 1", n)
	}
	f.wantNoSecrets()
}

func TestRevokeRefusesBadInput(t *testing.T) {
	f := newFlow(t, nil)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	tests := []struct {
		name string
		revs []Revocation
		want string
	}{
		{name: "nothing", revs: nil, want: "nothing to revoke"},
		{name: "empty session id", revs: []Revocation{RevokeSession("")}, want: "the session id is empty"},
		{name: "short session id", revs: []Revocation{RevokeSession("ABC")}, want: `"ABC" is not a valid session id`},
		{name: "lower-case session id", revs: []Revocation{RevokeSession(strings.Repeat("a", 26))}, want: "is not a valid session id"},
		{name: "empty user", revs: []Revocation{RevokeUser("")}, want: "the user id is empty"},
		{name: "user without prefix", revs: []Revocation{RevokeUser("alice")}, want: `"alice" is not a valid user id`},
		{name: "organization with a space", revs: []Revocation{RevokeOrganization("org_ acme")}, want: "is not a valid organization id"},
		{name: "connection id of another kind", revs: []Revocation{RevokeConnection(workostest.AcmeOrganizationID)}, want: "is not a valid connection id"},
		{name: "control characters", revs: []Revocation{RevokeUser("prof_\x00\n")}, want: `"prof_??" is not a valid user id`},
		{name: "unknown kind", revs: []Revocation{{Kind: 9, ID: "prof_x"}}, want: "unknown kind 9"},
		{name: "expires before it is made", revs: []Revocation{{Kind: UserRevocation, ID: "prof_x", At: time.Unix(10, 0), Expires: time.Unix(5, 0)}}, want: "expires before"},
		// One bad revocation in a batch stops the good ones too.
		{name: "batch with one bad", revs: []Revocation{RevokeOrganization(workostest.AcmeOrganizationID), RevokeUser("")}, want: "the user id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.gate.Revoke(context.Background(), tt.revs...)
			if !errors.Is(err, ErrInvalidRevocation) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalidRevocation saying %q", err, tt.want)
			}
		})
	}
	if n := f.gate.revocations.len(); n != 0 {
		t.Errorf("got %d revocations held, want none", n)
	}
	f.wantSignedIn(workostest.AliceEmail)
}

// failingBackplane is a local backplane whose Publish fails, as a shared
// one does while its server is down.
type failingBackplane struct {
	Backplane
	err error
}

func (b failingBackplane) Publish(ctx context.Context, u Update) error { return b.err }

func TestRevokeNotSharedStillHoldsHere(t *testing.T) {
	down := errors.New("backplane down")
	f := newFlow(t, nil, func(c *Config) { c.Backplane = failingBackplane{NewLocalBackplane(), down} })
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	err := f.gate.Revoke(context.Background(), RevokeOrganization(workostest.AcmeOrganizationID))
	if !errors.Is(err, ErrNotShared) || !errors.Is(err, down) {
		t.Fatalf("got %v, want ErrNotShared wrapping the backplane's error", err)
	}
	f.wantSignedOut()
}

func TestRevocationsExpire(t *testing.T) {
	f := newFlow(t, nil)
	ctx := context.Background()
	if err := f.gate.Revoke(ctx, RevokeUser("prof_one"), RevokeUser("prof_two")); err != nil {
		t.Fatal(err)
	}
	if n := f.gate.revocations.len(); n != 2 {
		t.Fatalf("got %d revocations, want 2", n)
	}
	// Revoking again keeps one record a key, with the later time.
	f.clock.Advance(time.Hour)
	if err := f.gate.Revoke(ctx, RevokeUser("prof_one")); err != nil {
		t.Fatal(err)
	}
	if n := f.gate.revocations.len(); n != 2 {
		t.Fatalf("got %d revocations after revoking one again, want 2", n)
	}
	// Once no session they match can be alive, they are forgotten.
	f.clock.Advance(MaxSessionLifetime - 30*time.Minute)
	if err := f.gate.Revoke(ctx, RevokeUser("prof_three")); err != nil {
		t.Fatal(err)
	}
	if n := f.gate.revocations.len(); n != 2 {
		t.Errorf("got %d revocations a lifetime after the first, want prof_one's renewal and prof_three", n)
	}
	// A revocation that has expired already is not kept.
	past := f.clock.Now().Add(-2 * MaxSessionLifetime)
	if err := f.gate.Revoke(ctx, Revocation{Kind: UserRevocation, ID: "prof_old", At: past}); err != nil {
		t.Fatal(err)
	}
	if n := f.gate.revocations.len(); n != 2 {
		t.Errorf("got %d revocations, want the expired one dropped", n)
	}
}

// TestReplicasShareRevocations runs three Middlewares, as three replicas,
// on one local backplane.
func TestReplicasShareRevocations(t *testing.T) {
	bp := NewLocalBackplane()
	f := newFlow(t, nil, func(c *Config) { c.Backplane = bp })
	replicas := []*Middleware{f.gate, f.newGate(func(c *Config) { c.Backplane = bp }), f.newGate(func(c *Config) { c.Backplane = bp })}
	for _, g := range replicas[1:] {
		t.Cleanup(func() { g.Close() })
	}
	f.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
	bob := f.newBrowser()
	bob.signInAs(workostest.BobEmail, "organization="+workostest.AcmeOrganizationID)

	serve := func(g *Middleware, b *flow) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/app", nil)
		req.Header.Set("Accept", "application/json")
		for _, c := range b.jar.Cookies(mustURL(t, f.app.URL+"/")) {
			req.AddCookie(c)
		}
		g.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})).ServeHTTP(rec, req)
		return rec.Code
	}
	for i, g := range replicas {
		if got := serve(g, f); got != http.StatusOK {
			t.Fatalf("replica %d: alice got %d, want 200", i, got)
		}
	}
	if err := replicas[1].Revoke(context.Background(), RevokeUser(workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail))); err != nil {
		t.Fatal(err)
	}
	for i, g := range replicas {
		if got := serve(g, f); got != http.StatusUnauthorized {
			t.Errorf("replica %d: revoked alice got %d, want 401", i, got)
		}
		if got := serve(g, bob); got != http.StatusOK {
			t.Errorf("replica %d: bob got %d, want 200", i, got)
		}
	}
	// A replica that starts later learns the revocations in force.
	late := f.newGate(func(c *Config) { c.Backplane = bp })
	defer late.Close()
	if got := serve(late, f); got != http.StatusUnauthorized {
		t.Errorf("late replica: revoked alice got %d, want 401", got)
	}
}

func TestConnectionEventRevokes(t *testing.T) {
	for _, keep := range []bool{false, true} {
		name := "revokes"
		if keep {
			name = "KeepSessionsOfRemovedConnections"
		}
		t.Run(name, func(t *testing.T) {
			const secret = "whsec_test"
			var target atomic.Pointer[http.Handler]
			hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*target.Load()).ServeHTTP(w, r) }))
			defer hooks.Close()
			f := newFlow(t, []workostest.Option{
				workostest.WithAutoSignIn(workostest.AliceEmail),
				workostest.WithWebhook(hooks.URL, secret),
			}, func(c *Config) { c.KeepSessionsOfRemovedConnections = keep })
			h, err := NewWebhookHandler(WebhookConfig{Secret: secret, Cache: f.gate.Connections(), Logger: f.gate.log, now: f.idp.Now})
			if err != nil {
				t.Fatal(err)
			}
			target.Store(&h)
			f.signIn("organization="+workostest.AcmeOrganizationID, "/")
			hank := f.newBrowser()
			hank.signInAs(workostest.HankEmail, "organization="+workostest.GlobexOrganizationID)

			f.clock.Advance(time.Second)
			if err := f.idp.SetConnectionState(workostest.AcmeConnectionID, "inactive"); err != nil {
				t.Fatal(err)
			}
			f.idp.FlushWebhooks()
			if ds := f.idp.Deliveries(); len(ds) != 1 || ds[0].Status != http.StatusOK {
				t.Fatalf("deliveries %+v, want one answered 200", ds)
			}
			if keep {
				f.wantSignedIn(workostest.AliceEmail)
			} else {
				f.wantSignedOut()
			}
			hank.wantSignedIn(workostest.HankEmail)
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	const idle = 30 * time.Minute
	f := newFlow(t, nil, func(c *Config) { c.IdleTimeout = idle })
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	name := f.gate.cfg.CookieName
	first := f.newBrowser()
	f.copyCookiesTo(first) // the cookie as issued at sign-in

	// Within a tenth of the window, requests write no cookie.
	f.clock.Advance(2 * time.Minute)
	if r := f.get("/app"); r.StatusCode != http.StatusOK || r.cookie(name) != nil {
		t.Fatalf("got %d with cookie %v, want 200 and no cookie", r.StatusCode, r.cookie(name))
	}
	// Past it, the next request renews the cookie.
	f.clock.Advance(2 * time.Minute)
	r := f.get("/app")
	c := r.cookie(name)
	if r.StatusCode != http.StatusOK || c == nil || c.MaxAge <= 0 || !c.HttpOnly {
		t.Fatalf("got %d with cookie %v, want 200 and a renewed cookie", r.StatusCode, c)
	}
	if want := int((DefaultSessionLifetime - 4*time.Minute) / time.Second); c.MaxAge != want {
		t.Errorf("renewed cookie Max-Age = %d, want the session's remaining %d", c.MaxAge, want)
	}
	if r := f.get("/app"); r.cookie(name) != nil {
		t.Error("the request after a renewal renewed again")
	}

	// 29 minutes after the renewal the session is alive, the cookie from
	// before it is not: idle since sign-in for 33 minutes.
	f.clock.Advance(29 * time.Minute)
	first.wantSignedOut()
	f.wantSignedIn(workostest.AliceEmail)

	// Idle for the whole window: signed out.
	f.clock.Advance(idle)
	f.wantSignedOut()
	f.wantNoSecrets()
}

func TestIdleTimeoutConfig(t *testing.T) {
	for _, d := range []time.Duration{-time.Minute, time.Second, 59 * time.Second} {
		cfg := validConfig()
		cfg.IdleTimeout = d
		var ce *ConfigError
		if _, err := New(cfg); !errors.As(err, &ce) || ce.Field != "Config.IdleTimeout" {
			t.Errorf("IdleTimeout %v: got %v, want a ConfigError for Config.IdleTimeout", d, err)
		}
	}
}

func TestRequireRecentLogin(t *testing.T) {
	f := newFlow(t, nil)
	secret := f.gate.RequireRecentLogin(5 * time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ProfileFromContext(r.Context())
		w.Write([]byte("secret for " + p.Email))
	}))
	mux := http.NewServeMux()
	mux.Handle("/", f.handler(f.gate))
	mux.Handle("/billing", secret)
	// After RequireSSO, as in a chi group.
	mux.Handle("/chained", f.gate.RequireSSO(secret))
	f.app.Config.Handler = mux

	// Signed out: as RequireSSO.
	if r := f.get("/billing"); r.StatusCode != http.StatusFound || r.location(t).RequestURI() != "/login?return_to=%2Fbilling" {
		t.Fatalf("signed out: got %d to %q, want 302 to /login?return_to=%%2Fbilling", r.StatusCode, r.Header.Get("Location"))
	}
	// A fresh sign-in that did not ask the identity provider to
	// authenticate anew does not count: the person at an unlocked browser
	// gets one silently from the identity provider's own session. Before
	// sessions recorded AuthenticatedAt, both of these reached /billing.
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	f.signIn("connection="+workostest.AcmeConnectionID+"&return_to=%2Fbilling", "/billing")
	for _, path := range []string{"/billing", "/chained"} {
		r := f.get(path)
		if r.StatusCode != http.StatusFound || r.location(t).RawQuery != "connection="+workostest.AcmeConnectionID+"&prompt=login&return_to=%2F"+path[1:] {
			t.Fatalf("%s, fresh sign-in without prompt=login: got %d to %q, want 302 to sign in with prompt=login", path, r.StatusCode, r.Header.Get("Location"))
		}
	}
	// A sign-in with prompt=login does.
	f.signIn("connection="+workostest.AcmeConnectionID+"&prompt=login&return_to=%2Fbilling", "/billing")
	for _, path := range []string{"/billing", "/chained"} {
		if r := f.get(path); r.StatusCode != http.StatusOK || r.body != "secret for "+workostest.AliceEmail {
			t.Fatalf("%s, after prompt=login: got %d %q, want 200", path, r.StatusCode, r.body)
		}
	}

	f.clock.Advance(6 * time.Minute)
	f.wantSignedIn(workostest.AliceEmail) // other routes are not affected
	for _, path := range []string{"/billing", "/chained"} {
		r := f.apiGet(path)
		var body struct{ Error, LoginURL string }
		json.Unmarshal([]byte(r.body), &body)
		want := "/login?connection=" + workostest.AcmeConnectionID + "&prompt=login&return_to=%2F" + path[1:]
		if r.StatusCode != http.StatusUnauthorized || body.Error != "recent_login_required" {
			t.Errorf("%s API: got %d %q, want 401 recent_login_required", path, r.StatusCode, r.body)
		}
		if !strings.Contains(r.body, `"login_url":"`+strings.ReplaceAll(want, "&", `\u0026`)+`"`) {
			t.Errorf("%s API: body %q does not name the login URL %s", path, r.body, want)
		}
		if h := r.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="recent_login_required"`) {
			t.Errorf("%s API: WWW-Authenticate %q does not name the reason", path, h)
		}
	}

	// A navigation is sent to sign in again through the same connection,
	// with prompt=login, and comes back to the route.
	r := f.get("/billing")
	if r.StatusCode != http.StatusFound {
		t.Fatalf("stale: got %d, want 302", r.StatusCode)
	}
	loc := r.location(t)
	query := loc.RawQuery
	if loc.Path != "/login" || query != "connection="+workostest.AcmeConnectionID+"&prompt=login&return_to=%2Fbilling" {
		t.Fatalf("stale: redirected to %s", loc)
	}
	authURL := f.startLogin(query)
	if got := authURL.Query().Get("prompt"); got != "login" {
		t.Errorf("authorization URL prompt = %q, want login", got)
	}
	cb := f.authorize(authURL)
	if r := f.get(cb.String()); r.StatusCode != http.StatusSeeOther || r.location(t).Path != "/billing" {
		t.Fatalf("callback: got %d to %q, want 303 to /billing", r.StatusCode, r.Header.Get("Location"))
	}
	if r := f.get("/billing"); r.StatusCode != http.StatusOK {
		t.Errorf("after signing in again: got %d, want 200", r.StatusCode)
	}
}

func TestLoginPrompt(t *testing.T) {
	f := newFlow(t, nil)
	if u := f.startLogin("organization=" + workostest.AcmeOrganizationID); u.Query().Has("prompt") {
		t.Errorf("prompt sent without being asked for: %s", u)
	}
	f.wantRefused("organization="+workostest.AcmeOrganizationID+"&prompt=consent", http.StatusBadRequest, "The only prompt is login.")
	f.wantRefused("organization="+workostest.AcmeOrganizationID+"&prompt=login&prompt=login", http.StatusBadRequest, "more than once")
}

// switchBackplane is a local backplane whose subscribers can be told to
// fail closed.
type switchBackplane struct {
	Backplane
	subs []Subscriber
}

func (b *switchBackplane) Subscribe(s Subscriber) func() {
	b.subs = append(b.subs, s)
	return b.Backplane.Subscribe(s)
}

func TestFailClosed(t *testing.T) {
	bp := &switchBackplane{Backplane: NewLocalBackplane()}
	f := newFlow(t, nil, func(c *Config) { c.Backplane = bp })
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	f.wantSignedIn(workostest.AliceEmail)

	bp.subs[0].FailClosed(errors.New("redis down"))
	for _, r := range []resp{f.get("/app"), f.apiGet("/api/me")} {
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s while failing closed: got %d, want 503 with Retry-After", r.Request.URL.Path, r.StatusCode)
		}
	}
	if r := f.apiGet("/api/me"); !strings.Contains(r.body, `"error":"unavailable"`) || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("API while failing closed: got %q, want JSON error unavailable", r.body)
	}
	bp.subs[0].FailClosed(nil)
	f.wantSignedIn(workostest.AliceEmail)

	// A sign-out while failing closed still revokes the session, so that
	// a copy of the cookie does not come back with the backplane.
	thief := f.newBrowser()
	f.copyCookiesTo(thief)
	bp.subs[0].FailClosed(errors.New("redis down"))
	req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := f.do(req); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout while failing closed: got %d, want 303", r.StatusCode)
	}
	bp.subs[0].FailClosed(nil)
	thief.wantSignedOut()
}

func TestRevocationSetCheck(t *testing.T) {
	s := newRevocationSet()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sess := &Session{ID: testSessionID, Profile: *aliceProfile(), IssuedAt: t0}
	rev := func(at time.Time) {
		t.Helper()
		s.add([]Revocation{{Kind: UserRevocation, ID: sess.Profile.ID, At: at, Expires: at.Add(MaxSessionLifetime)}}, t0)
	}
	check := func(want error) {
		t.Helper()
		if err := s.check(sess); !errors.Is(err, want) {
			t.Errorf("session issued at %v: got %v, want %v", sess.IssuedAt, err, want)
		}
	}
	check(nil)
	// User, organization and connection revocations allow for clocks
	// that differ by up to ClockSkew, on both sides of it.
	rev(t0.Add(-ClockSkew - time.Millisecond))
	check(nil) // issued after the revocation and its allowance
	rev(t0.Add(-ClockSkew))
	check(ErrSessionRevoked) // issued within the allowance: a replica's clock may be ahead
	rev(t0.Add(-time.Hour))
	check(ErrSessionRevoked) // an older revocation does not undo a newer one
	sess.IssuedAt = t0.Add(time.Millisecond)
	check(nil)
	// A sign-out names its session and holds whatever the clocks say.
	s.add([]Revocation{{Kind: SessionRevocation, ID: sess.ID, At: t0.Add(-time.Hour), Expires: t0.Add(time.Hour)}}, t0)
	check(ErrSessionRevoked)
	sess.ID = "ANOTHERSESSIONID7777777777"
	check(nil)
	epoch := s.epoch.Load()
	s.setUnsure(true)
	check(ErrRevocationsUnavailable)
	s.setUnsure(true)
	s.setUnsure(false)
	if got := s.epoch.Load(); got != epoch+2 {
		t.Errorf("epoch moved from %d to %d over two changes of state, want +2", epoch, got)
	}
}

func TestSessionCacheSizeConfig(t *testing.T) {
	for _, tt := range []struct {
		size, wantShardCap int
	}{{0, DefaultSessionCacheSize / sessionCacheShards}, {1600, 100}, {3, 1}, {-1, 0}} {
		cfg := validConfig()
		cfg.SessionCacheSize = tt.size
		g, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		if c := g.sessions.cache; c != nil {
			got = c.shardCap
		}
		if got != tt.wantShardCap {
			t.Errorf("SessionCacheSize %d: got %d entries a shard, want %d", tt.size, got, tt.wantShardCap)
		}
	}
}

// TestRevocationSetAddKnown checks that delivering revocations the set
// holds already (as a backplane's periodic resync does) changes nothing,
// so that cached sessions need no new check.
func TestRevocationSetAddKnown(t *testing.T) {
	s := newRevocationSet()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	revs := []Revocation{
		{Kind: UserRevocation, ID: "prof_a", At: now, Expires: now.Add(time.Hour)},
		{Kind: ConnectionRevocation, ID: "conn_b", At: now, Expires: now.Add(time.Hour)},
	}
	s.add(revs, now)
	epoch := s.epoch.Load()
	s.add(revs, now.Add(time.Second))
	s.add(revs[:1], now.Add(2*time.Second))
	if got := s.epoch.Load(); got != epoch {
		t.Errorf("epoch moved from %d to %d for revocations already held", epoch, got)
	}
	later := revs[0]
	later.At = now.Add(time.Minute)
	s.add([]Revocation{later}, now.Add(3*time.Second))
	if got := s.epoch.Load(); got != epoch+1 {
		t.Errorf("epoch %d after a later revocation of a known key, want %d", got, epoch+1)
	}
	// Past their expiry, the records go with the next change.
	s.add([]Revocation{{Kind: UserRevocation, ID: "prof_c", At: now.Add(2 * time.Hour), Expires: now.Add(3 * time.Hour)}}, now.Add(2*time.Hour))
	if n := s.len(); n != 1 {
		t.Errorf("got %d records after two expired and one came, want 1", n)
	}
}

// TestRevocationSetForgetsBySampling checks that expired records are
// forgotten without a sweep of the whole set: each change visits a few,
// and the set does not keep what expired.
func TestRevocationSetForgetsBySampling(t *testing.T) {
	s := newRevocationSet()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var old []Revocation
	for i := range 10000 {
		old = append(old, Revocation{Kind: UserRevocation, ID: fmt.Sprintf("prof_old%d", i), At: now, Expires: now.Add(time.Hour)})
	}
	s.add(old, now)
	later := now.Add(2 * time.Hour)
	for i := range 6000 {
		s.add([]Revocation{{Kind: UserRevocation, ID: fmt.Sprintf("prof_new%d", i), At: later, Expires: later.Add(time.Hour)}}, later)
	}
	if n := s.len(); n != 6000 {
		t.Errorf("got %d records, want the 6,000 live ones: the expired 10,000 forgotten", n)
	}
}

// TestSignOutNotSharedSaysSo signs out while the backplane cannot store
// the sign-out: the browser's cookies are cleared and the session ends on
// this replica, but the page says that other servers may not know yet,
// rather than redirecting as if the sign-out held everywhere.
func TestSignOutNotSharedSaysSo(t *testing.T) {
	down := errors.New("backplane down")
	f := newFlow(t, nil, func(c *Config) { c.Backplane = failingBackplane{NewLocalBackplane(), down} })
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	thief := f.newBrowser()
	f.copyCookiesTo(thief)

	req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r := f.do(req)
	if r.StatusCode != http.StatusAccepted || r.Header.Get("Location") != "" {
		t.Fatalf("sign-out not shared: got %d to %q, want 202 and a page", r.StatusCode, r.Header.Get("Location"))
	}
	for _, want := range []string{"Signed out on this device", "other servers", `href="/"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page lacks %q:\n%s", want, r.body)
		}
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	f.wantSignedOut()
	thief.wantSignedOut() // on this replica, at once

	// Shared, it redirects as before.
	g := newFlow(t, nil)
	g.signIn("organization="+workostest.AcmeOrganizationID, "/")
	if r := g.logout(); r.Header.Get("Location") != "/" {
		t.Errorf("shared sign-out: redirected to %q, want /", r.Header.Get("Location"))
	}
}

// TestSecretRotationRollingDeploy runs two replicas behind a round-robin
// balancer through each step of the documented rotation, with one replica
// a step ahead of the other at every point, as a rolling deploy has them:
// sign-ins (whose callback lands on the other replica) and the sessions
// of the step before keep working throughout. Putting the new secret first
// while the other replica does not know it, the rotation documented
// before, signs people out and fails sign-ins; that is checked too.
func TestSecretRotationRollingDeploy(t *testing.T) {
	oldKey, newKey := testSecret(10), testSecret(11)
	type keys struct{ seal, next [][]byte }
	f := newFlow(t, nil)
	var turn atomic.Int64
	var gates [2]*Middleware
	set := func(i int, k keys) {
		t.Helper()
		if gates[i] != nil {
			gates[i].Close()
		}
		gates[i] = f.newGate(func(c *Config) { c.CookieSecrets, c.NextCookieSecrets = k.seal, k.next })
	}
	f.app.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.handler(gates[turn.Add(1)%2]).ServeHTTP(w, r)
	})
	t.Cleanup(func() { gates[0].Close(); gates[1].Close() })
	// works signs a new browser in through the balancer and checks that
	// both replicas accept its session, and that the earlier browsers'
	// sessions still hold.
	var browsers []*flow
	works := func(step string) {
		t.Helper()
		for range 2 { // the callback on one replica, then on the other
			b := f.newBrowser()
			b.signIn("organization="+workostest.AcmeOrganizationID, "/")
			browsers = append(browsers, b)
		}
		for _, b := range browsers {
			for range 2 {
				b.wantSignedIn(workostest.AliceEmail)
			}
		}
		t.Logf("%s: %d sessions hold on both replicas", step, len(browsers))
	}

	set(0, keys{seal: [][]byte{oldKey}})
	set(1, keys{seal: [][]byte{oldKey}})
	works("before")
	// 1. The new secret as the next one, on one replica and then the other.
	set(0, keys{seal: [][]byte{oldKey}, next: [][]byte{newKey}})
	works("step 1, half deployed")
	set(1, keys{seal: [][]byte{oldKey}, next: [][]byte{newKey}})
	works("step 1")
	// 2. The new secret first, the old one second.
	set(0, keys{seal: [][]byte{newKey, oldKey}})
	works("step 2, half deployed")
	set(1, keys{seal: [][]byte{newKey, oldKey}})
	works("step 2")
	// 3. A session lifetime later, the old secret dropped.
	f.clock.Advance(DefaultSessionLifetime + time.Minute)
	browsers = nil
	set(0, keys{seal: [][]byte{newKey}})
	works("step 3, half deployed")
	set(1, keys{seal: [][]byte{newKey}})
	works("step 3")

	// The rotation documented before: the new secret first at once, while
	// the other replica knows only the old one.
	set(0, keys{seal: [][]byte{oldKey}})
	set(1, keys{seal: [][]byte{oldKey}})
	b := f.newBrowser()
	b.signIn("organization="+workostest.AcmeOrganizationID, "/")
	set(0, keys{seal: [][]byte{newKey, oldKey}})
	refused := 0
	for i := range 6 {
		turn.Add(int64(i % 2)) // the login on either replica
		b2 := f.newBrowser()
		b2.idp.SetAutoSignIn(workostest.AliceEmail)
		cb := b2.authorize(b2.startLogin("organization=" + workostest.AcmeOrganizationID))
		if r := b2.get(cb.String()); r.StatusCode != http.StatusSeeOther {
			refused++
		}
	}
	if refused == 0 {
		t.Error("putting a new secret first on one replica only broke no sign-in: this test shows nothing")
	}
}

// TestReadySaysWhy has the backplane fail closed with a reason: Ready
// reports it, still matching ErrRevocationsUnavailable, and gives nil once
// the backplane serves again. Before, every reason read "revocations
// unavailable".
func TestReadySaysWhy(t *testing.T) {
	bp := &closingBackplane{Backplane: NewLocalBackplane()}
	f := newFlow(t, nil, func(c *Config) { c.Backplane = bp })
	if err := f.gate.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	why := errors.New("redisstore: the revocations in force have not been read from Redis yet")
	bp.sub.FailClosed(why)
	err := f.gate.Ready()
	if !errors.Is(err, ErrRevocationsUnavailable) || !errors.Is(err, why) || !strings.Contains(err.Error(), "have not been read from Redis yet") {
		t.Errorf("Ready: got %v, want ErrRevocationsUnavailable with the backplane's reason", err)
	}
	bp.sub.FailClosed(nil)
	if err := f.gate.Ready(); err != nil {
		t.Errorf("Ready once the backplane serves again: %v", err)
	}
}

// closingBackplane is a local backplane that keeps its subscriber, so that
// a test can tell it to fail closed.
type closingBackplane struct {
	Backplane
	sub Subscriber
}

func (b *closingBackplane) Subscribe(s Subscriber) func() {
	b.sub = s
	return b.Backplane.Subscribe(s)
}

// TestRevocationsOfEveryIDForm: ids of WorkOS's form (held packed) and ids
// of any other form each revoke the sessions they name and come back whole
// from the set, as a write-back reads them.
func TestRevocationsOfEveryIDForm(t *testing.T) {
	now := time.Now()
	s := newRevocationSet()
	ids := []string{
		"prof_01HZ0000000000000000000031", // WorkOS's form: packed
		"prof_01HZZZZZZZZZZZZZZZZZZZZZZZ", // the largest ULID characters
		"prof_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", // past 128 bits: still 26 characters
		"org_01EHZNVPK3SFK441A1RGBFSHRT",
		"conn_01E4ZCR3C56J083X43JQXF3JK5",
		"prof_1",                          // any other form: kept as it is
		"prof_01hz0000000000000000000031", // lower case
		"prof_01HZ000000000000000000003I", // I, L, O and U are not Crockford's
		"prof_01HZ0000000000000000000O31",
		"prof_01HZ00000000000000000000032", // 27 characters
		"prof_01HZ000000000000000000003",   // 25
		"org_" + strings.Repeat("x", 100),
	}
	var revs []Revocation
	for _, id := range ids {
		kind := UserRevocation
		switch {
		case strings.HasPrefix(id, "org_"):
			kind = OrganizationRevocation
		case strings.HasPrefix(id, "conn_"):
			kind = ConnectionRevocation
		}
		revs = append(revs, Revocation{Kind: kind, ID: id, At: now, Expires: now.Add(time.Hour)})
	}
	sessions := []string{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "77777777777777777777777777", "AAAAAAAAAAAAAAAAAAAAAAAAAA"}
	for _, id := range sessions {
		revs = append(revs, Revocation{Kind: SessionRevocation, ID: id, At: now, Expires: now.Add(time.Hour)})
	}
	s.add(revs, now)
	if want := len(ids) + len(sessions); s.len() != want {
		t.Fatalf("the set holds %d, want %d", s.len(), want)
	}
	if len(s.short) != 5 || len(s.sessions) != len(sessions) {
		t.Errorf("%d ids held packed and %d sessions, want 5 and %d", len(s.short), len(s.sessions), len(sessions))
	}
	for _, r := range revs {
		p := &Profile{ID: "prof_other", OrganizationID: "org_other", ConnectionID: "conn_other"}
		sessionID := ""
		switch r.Kind {
		case UserRevocation:
			p.ID = r.ID
		case OrganizationRevocation:
			p.OrganizationID = r.ID
		case ConnectionRevocation:
			p.ConnectionID = r.ID
		case SessionRevocation:
			sessionID = r.ID
		}
		if err := s.match(sessionID, p, now.Add(-time.Minute)); !errors.Is(err, ErrSessionRevoked) {
			t.Errorf("a session of %s %s: %v, want it revoked", r.Kind, r.ID, err)
		}
	}
	var back []string
	s.all(func(r Revocation) bool {
		back = append(back, r.ID)
		if !r.At.Equal(time.UnixMilli(now.UnixMilli())) || !r.Expires.Equal(time.UnixMilli(now.Add(time.Hour).UnixMilli())) {
			t.Errorf("%s came back at %v expiring %v", r.ID, r.At, r.Expires)
		}
		return true
	})
	slices.Sort(back)
	want := append(slices.Clone(ids), sessions...)
	slices.Sort(want)
	if !slices.Equal(back, want) {
		t.Errorf("all: %q, want %q", back, want)
	}
	for _, id := range []string{"prof_01HZ00000000000000000003", "prof_01HZ0000000000000000000032", "prof_01HZ0000000000000000000030"} {
		if err := s.match("", &Profile{ID: id}, now.Add(-time.Minute)); err != nil {
			t.Errorf("%s, near a revoked id: %v, want nothing revoked", id, err)
		}
	}
	if err := s.match("ABCDEFGHIJKLMNOPQRSTUVWXY2", &Profile{ID: "prof_other"}, now.Add(-time.Minute)); err != nil {
		t.Errorf("a session id near a revoked one: %v, want nothing revoked", err)
	}
}

// FuzzPackedID checks that packing an id is exact: a string packs if and
// only if it is 26 characters of the alphabet, and unpacks to itself.
func FuzzPackedID(f *testing.F) {
	for _, s := range []string{"", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "01HZ0000000000000000000031", "01hz0000000000000000000031", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "77777777777777777777777777", "ABCDEFGHIJKLMNOPQRSTUVWXY\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, alphabet := range []string{base32Alphabet, ulidAlphabet} {
			values := decodeTable(alphabet)
			p, ok := packID(s, values)
			of := len(s) == packedChars && strings.Trim(s, alphabet) == ""
			if ok != of {
				t.Fatalf("packID(%q) in %s: %v, want %v", s, alphabet, ok, of)
			}
			if !ok {
				continue
			}
			if back := unpackID(&p, alphabet); back != s {
				t.Fatalf("packID(%q) in %s unpacks to %q", s, alphabet, back)
			}
			if p[packedIDLen-1]&0x3f != 0 {
				t.Fatalf("packID(%q) in %s sets the 6 unused bits: %x", s, alphabet, p)
			}
		}
	})
}

// TestRevocationsBulkAdd: a batch that makes a map more than double (a
// replica's first read) is held whole, next to what the set held before,
// and the same batch again changes nothing.
func TestRevocationsBulkAdd(t *testing.T) {
	now := time.Now()
	s := newRevocationSet()
	rev := func(kind RevocationKind, id string) Revocation {
		return Revocation{Kind: kind, ID: id, At: now, Expires: now.Add(time.Hour)}
	}
	var first, bulk []Revocation
	for i := range 10 {
		first = append(first, rev(UserRevocation, fmt.Sprintf("prof_01HZ%022d", i)), rev(SessionRevocation, fmt.Sprintf("AAAAAAAAAAAAAAAAAAAAAAAAA%c", 'A'+i)))
	}
	s.add(first, now)
	for i := range 3000 {
		bulk = append(bulk, rev(UserRevocation, fmt.Sprintf("prof_01HZ%022d", 100+i)), rev(SessionRevocation, fmt.Sprintf("B%025d", i)))
	}
	for i := range bulk {
		if bulk[i].Kind == SessionRevocation {
			bulk[i].ID = strings.Map(func(r rune) rune { return 'A' + (r-'0')%26 }, bulk[i].ID)
		}
	}
	s.add(bulk, now)
	if want := len(first) + len(bulk); s.len() != want {
		t.Fatalf("the set holds %d, want %d", s.len(), want)
	}
	for _, r := range append(first, bulk...) {
		p, id := &Profile{ID: "prof_other"}, ""
		if r.Kind == UserRevocation {
			p.ID = r.ID
		} else {
			id = r.ID
		}
		if err := s.match(id, p, now.Add(-time.Minute)); !errors.Is(err, ErrSessionRevoked) {
			t.Fatalf("%s %s: %v, want it revoked", r.Kind, r.ID, err)
		}
	}
	epoch := s.epoch.Load()
	s.add(bulk, now)
	if s.epoch.Load() != epoch {
		t.Error("the same batch again moved the epoch")
	}
}

package ssogate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// recorder is an Observer that keeps every event, with the operation whose
// context it was called in.
type recorder struct {
	mu     sync.Mutex
	events []recordedAny
}

type opKey struct{}

// recorded is an event with the operation (login, callback) its context
// came from.
type recorded[T any] struct {
	info T
	op   string
}

func (rec *recorder) add(ctx context.Context, v any) {
	op, _ := ctx.Value(opKey{}).(string)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.events = append(rec.events, recordedAny{v, op})
}

type recordedAny struct {
	v  any
	op string
}

func (rec *recorder) observer() *Observer {
	return &Observer{
		LoginStart:    func(ctx context.Context) context.Context { return context.WithValue(ctx, opKey{}, "login") },
		LoginDone:     func(ctx context.Context, i LoginInfo) { rec.add(ctx, i) },
		CallbackStart: func(ctx context.Context) context.Context { return context.WithValue(ctx, opKey{}, "callback") },
		CallbackDone:  func(ctx context.Context, i CallbackInfo) { rec.add(ctx, i) },
		SessionRefused: func(ctx context.Context, i RefusalInfo) {
			rec.add(ctx, i)
		},
		SignedOut:        func(ctx context.Context, i SignOutInfo) { rec.add(ctx, i) },
		Revoked:          func(ctx context.Context, i RevocationInfo) { rec.add(ctx, i) },
		BackplaneChanged: func(ctx context.Context, i BackplaneInfo) { rec.add(ctx, i) },
		WebhookDone:      func(ctx context.Context, i WebhookInfo) { rec.add(ctx, i) },
		WorkOSCallStart: func(ctx context.Context, route string) context.Context {
			op, _ := ctx.Value(opKey{}).(string)
			return context.WithValue(ctx, opKey{}, op+" > "+route)
		},
		WorkOSCallDone: func(ctx context.Context, i workos.CallInfo) { rec.add(ctx, i) },
		CacheLookup:    func(ctx context.Context, i CacheInfo) { rec.add(ctx, i) },
	}
}

// take returns the events of type T recorded since the last take of any
// type, and forgets every event.
func take[T any](rec *recorder) []recorded[T] {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []recorded[T]
	for _, e := range rec.events {
		if v, ok := e.v.(T); ok {
			out = append(out, recorded[T]{v, e.op})
		}
	}
	rec.events = nil
	return out
}

// only returns the one event of type T recorded since the last take.
func only[T any](t *testing.T, rec *recorder) T {
	t.Helper()
	got := take[T](rec)
	if len(got) != 1 {
		t.Fatalf("got %d events of type %T, want 1: %+v", len(got), *new(T), got)
	}
	return got[0].info
}

// observedFlow is a flow whose app also serves a step-up route, an admin
// route, a webhook endpoint and the health page, with an observer.
func observedFlow(t *testing.T, opts ...flowOption) (*flow, *recorder) {
	rec := &recorder{}
	opts = append([]flowOption{func(c *Config) { c.Observer = rec.observer() }}, opts...)
	f := newFlow(t, nil, opts...)
	wh, err := NewWebhookHandler(WebhookConfig{Secret: "whsec_test", Cache: f.gate.Connections()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", f.handler(f.gate))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.Handle("/account/security", f.gate.RequireRecentLogin(5*time.Minute)(ok))
	mux.Handle("/admin/sso", f.gate.RequireRole(workostest.GlobexOrganizationID, "owner")(f.gate.HealthHandler()))
	mux.Handle("POST /webhooks/workos", wh)
	f.app.Config.Handler = mux
	return f, rec
}

func (f *flow) logout() resp {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	r := f.do(req)
	if r.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("logout: got %d, want 303", r.StatusCode)
	}
	return r
}

func TestObserverLogins(t *testing.T) {
	f, rec := observedFlow(t)
	alice := workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)

	// Routed by organization: a cache miss asks WorkOS, within /login.
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	events := take[any](rec)
	var login LoginInfo
	var cb CallbackInfo
	var calls []recorded[workos.CallInfo]
	var lookups []CacheInfo
	for _, e := range events {
		switch v := e.info.(type) {
		case LoginInfo:
			login = v
		case CallbackInfo:
			cb = v
		case workos.CallInfo:
			calls = append(calls, recorded[workos.CallInfo]{v, e.op})
		case CacheInfo:
			lookups = append(lookups, v)
		}
	}
	if login.Route != RouteOrganization || !login.Redirected || login.Status != http.StatusFound ||
		login.OrganizationID != workostest.AcmeOrganizationID || login.ConnectionID != workostest.AcmeConnectionID || login.Duration <= 0 {
		t.Errorf("login: %+v", login)
	}
	if !cb.SignedIn || cb.Reason != "" || cb.Status != http.StatusSeeOther || cb.ProfileID != alice ||
		cb.OrganizationID != workostest.AcmeOrganizationID || cb.ConnectionID != workostest.AcmeConnectionID ||
		cb.ConnectionType != "OktaSAML" || cb.Duration <= 0 {
		t.Errorf("callback: %+v", cb)
	}
	if want := []CacheInfo{{"organization", CacheMiss}}; !reflect.DeepEqual(lookups, want) {
		t.Errorf("cache lookups: %+v, want %+v", lookups, want)
	}
	wantCalls := []string{"login > GET /connections", "callback > POST /sso/token"}
	if len(calls) != len(wantCalls) {
		t.Fatalf("WorkOS calls: %+v, want %v", calls, wantCalls)
	}
	for i, c := range calls {
		// The context each call was reported in is the one its Start
		// returned, within the login's or the callback's.
		if c.op != wantCalls[i] || c.info.Route != strings.SplitN(wantCalls[i], " > ", 2)[1] ||
			c.info.Status != http.StatusOK || c.info.Attempts != 1 || c.info.Err != nil || c.info.Duration <= 0 {
			t.Errorf("WorkOS call %d: %+v in %q, want %s", i, c.info, c.op, wantCalls[i])
		}
	}

	// The second login by organization is a cache hit.
	f.startLogin("organization=" + workostest.AcmeOrganizationID)
	if got := take[CacheInfo](rec); len(got) != 1 || got[0].info != (CacheInfo{"organization", CacheHit}) {
		t.Errorf("second lookup: %+v, want a hit", got)
	}

	// Every route, and every reason routing fails.
	f.idp.Fail("GET /connections/{id}", workostest.Fault{Status: http.StatusServiceUnavailable, Times: -1})
	for _, tc := range []struct {
		query  string
		status int
		want   LoginInfo
	}{
		// The lookup fails: WorkOS's authorization endpoint judges the
		// connection, which observers are not told (anyone can make one up).
		{"connection=" + workostest.GlobexConnectionID, http.StatusFound,
			LoginInfo{Route: RouteConnection, Redirected: true}},
		{"provider=GoogleOAuth", http.StatusFound,
			LoginInfo{Route: RouteProvider, Provider: "GoogleOAuth", Redirected: true}},
		{"email=hank@globex.com", http.StatusFound,
			LoginInfo{Route: RouteEmailDomain, OrganizationID: workostest.GlobexOrganizationID, ConnectionID: workostest.GlobexConnectionID, Redirected: true}},
		{"email=someone@unknown.example", http.StatusNotFound,
			LoginInfo{Route: RouteEmailDomain, Reason: ReasonUnknownDomain}},
		{"email=peter@initech.com", http.StatusNotFound,
			LoginInfo{Route: RouteEmailDomain, OrganizationID: workostest.InitechOrganizationID, ConnectionID: workostest.InitechConnectionID, Reason: ReasonInactiveConnection}},
		{"organization=" + workostest.InitechOrganizationID, http.StatusNotFound,
			LoginInfo{Route: RouteOrganization, OrganizationID: workostest.InitechOrganizationID, Reason: ReasonInactiveConnection}},
		{"organization=org_nonesuch", http.StatusNotFound,
			LoginInfo{Route: RouteOrganization, Reason: ReasonNoConnection}},
		// A malformed id is not repeated to observers.
		{"organization=nope", http.StatusBadRequest,
			LoginInfo{Route: RouteOrganization, Reason: ReasonBadRequest}},
		{"", http.StatusOK, LoginInfo{Route: RouteAskEmail}},
		{"email=someone@failing.example", http.StatusServiceUnavailable,
			LoginInfo{Route: RouteEmailDomain, Reason: ReasonLookupFailed}},
	} {
		if strings.Contains(tc.query, "failing.example") {
			f.idp.Fail("GET /connections", workostest.Fault{Status: http.StatusServiceUnavailable, Times: -1})
		}
		r := f.get("/login?" + tc.query)
		if r.StatusCode != tc.status {
			t.Errorf("/login?%s: status %d, want %d", tc.query, r.StatusCode, tc.status)
		}
		got := take[LoginInfo](rec)
		if len(got) != 1 {
			t.Errorf("/login?%s: %d login events", tc.query, len(got))
			continue
		}
		info := got[0].info
		tc.want.Status = tc.status
		if info.Err == nil && tc.want.Reason != "" && tc.want.Reason != ReasonBadRequest || info.Duration <= 0 {
			t.Errorf("/login?%s: no cause or duration: %+v", tc.query, info)
		}
		info.Err, info.Duration = nil, 0
		if info != tc.want {
			t.Errorf("/login?%s:\n got %+v\nwant %+v", tc.query, info, tc.want)
		}
	}
}

func TestObserverCallbacks(t *testing.T) {
	f, rec := observedFlow(t)
	alice := workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)

	check := func(name string, r resp, want CallbackInfo) {
		t.Helper()
		info := only[CallbackInfo](t, rec)
		if r.StatusCode != want.Status {
			t.Errorf("%s: status %d, want %d", name, r.StatusCode, want.Status)
		}
		if info.Err == nil {
			t.Errorf("%s: no cause", name)
		}
		info.Err, info.Duration, info.email = nil, 0, ""
		if info != want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, info, want)
		}
	}

	// A callback with no login of this browser's.
	cbURL := f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID))
	take[any](rec)
	other := f.newBrowser()
	r := other.get(cbURL.String())
	check("state missing", r, CallbackInfo{Reason: ReasonStateMissing, Status: http.StatusBadRequest})

	// The identity provider's error comes back with its code.
	auth := f.startLogin("connection=" + workostest.AcmeConnectionID)
	take[any](rec)
	r = f.get("/callback?" + url.Values{"state": {auth.Query().Get("state")}, "error": {"access_denied"}}.Encode())
	check("idp error", r, CallbackInfo{Reason: ReasonIdPError, WorkOSCode: "access_denied",
		ConnectionID: workostest.AcmeConnectionID, Status: http.StatusForbidden})

	// A code WorkOS refuses: its error code is kept.
	cbURL = f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID))
	take[any](rec)
	q := cbURL.Query()
	q.Set("code", "made-up-code")
	r = f.get("/callback?" + q.Encode())
	check("invalid grant", r, CallbackInfo{Reason: ReasonExchangeFailed, WorkOSCode: "invalid_grant",
		ConnectionID: workostest.AcmeConnectionID, Status: http.StatusBadRequest})

	// Revoked while signing in.
	cbURL = f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID))
	if err := f.gate.Revoke(context.Background(), RevokeUser(alice)); err != nil {
		t.Fatal(err)
	}
	take[any](rec)
	r = f.get(cbURL.String())
	check("revoked", r, CallbackInfo{Reason: ReasonRevoked, ProfileID: alice, OrganizationID: workostest.AcmeOrganizationID,
		ConnectionID: workostest.AcmeConnectionID, ConnectionType: "OktaSAML", Status: http.StatusForbidden})
	f.clock.Advance(ClockSkew + time.Second)

	// A step-up sign-in says so.
	cbURL = f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID + "&prompt=login"))
	take[any](rec)
	f.get(cbURL.String())
	if info := only[CallbackInfo](t, rec); !info.SignedIn || !info.StepUp {
		t.Errorf("step-up sign-in: %+v", info)
	}
	// Its replay is a spent state.
	f.get(cbURL.String())
	if info := only[CallbackInfo](t, rec); info.SignedIn || info.Reason != ReasonStateMissing {
		t.Errorf("replayed callback: %+v", info)
	}
}

func TestObserverSessions(t *testing.T) {
	f, rec := observedFlow(t, func(c *Config) { c.IdleTimeout = time.Hour })
	alice := workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)

	refusal := func(name string, r resp, want RefusalInfo) {
		t.Helper()
		info := only[RefusalInfo](t, rec)
		if r.StatusCode != want.Status {
			t.Errorf("%s: status %d, want %d", name, r.StatusCode, want.Status)
		}
		if info != want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, info, want)
		}
	}
	aliceIDs := RefusalInfo{ProfileID: alice, OrganizationID: workostest.AcmeOrganizationID, ConnectionID: workostest.AcmeConnectionID}
	with := func(r RefusalInfo, reason Reason, gate string, status int) RefusalInfo {
		r.Reason, r.Gate, r.Status = reason, gate, status
		return r
	}

	refusal("no cookie", f.get("/app"), RefusalInfo{Reason: ReasonNoSession, Gate: "RequireSSO", Status: http.StatusFound})

	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	take[any](rec)
	f.wantSignedIn(workostest.AliceEmail)
	if got := take[any](rec); len(got) != 0 {
		t.Errorf("a served request reported %+v", got)
	}
	refusal("step-up", f.get("/account/security"), with(aliceIDs, ReasonStepUp, "RequireRecentLogin", http.StatusFound))
	refusal("forbidden", f.get("/admin/sso"), with(aliceIDs, ReasonForbidden, "role", http.StatusForbidden))

	// A tampered cookie, and one sealed with a key no longer configured.
	name := f.gate.cfg.CookieName
	u := mustURL(t, f.app.URL+"/")
	var value string
	for _, c := range f.jar.Cookies(u) {
		if c.Name == name {
			value = c.Value
		}
	}
	tampered := f.newBrowser()
	tampered.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value[:len(value)-4] + "AAAA"}})
	refusal("tampered", tampered.apiGet("/api/me"), RefusalInfo{Reason: ReasonInvalidSession, Gate: "RequireSSO", Status: http.StatusUnauthorized})

	f.clock.Advance(61 * time.Minute)
	refusal("idle", f.get("/app"), RefusalInfo{Reason: ReasonIdle, Gate: "RequireSSO", Status: http.StatusFound})

	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	for range 9 {
		f.clock.Advance(50 * time.Minute)
		f.wantSignedIn(workostest.AliceEmail) // active: renewed, never idle
	}
	take[any](rec)
	f.clock.Advance(50 * time.Minute)
	refusal("expired", f.get("/app"), RefusalInfo{Reason: ReasonExpired, Gate: "RequireSSO", Status: http.StatusFound})

	// Revoked: the session's ids are named.
	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	f.wantSignedIn(workostest.AliceEmail)
	take[any](rec)
	if err := f.gate.Revoke(context.Background(), RevokeUser(alice)); err != nil {
		t.Fatal(err)
	}
	made := take[RevocationInfo](rec)
	if len(made) != 2 || made[0].info.Received || made[0].info.Revocations[0].ID != alice || !made[1].info.Received {
		// Made here, then echoed by the local backplane.
		t.Errorf("revocation events: %+v", made)
	}
	refusal("revoked", f.get("/app"), with(aliceIDs, ReasonRevoked, "RequireSSO", http.StatusFound))
	f.clock.Advance(ClockSkew + time.Second)

	// Sign-out: the event, and the session's revocation.
	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	take[any](rec)
	f.logout()
	events := take[any](rec)
	var out SignOutInfo
	var revs []RevocationInfo
	for _, e := range events {
		switch v := e.info.(type) {
		case SignOutInfo:
			out = v
		case RevocationInfo:
			revs = append(revs, v)
		}
	}
	if out != (SignOutInfo{ProfileID: alice, OrganizationID: workostest.AcmeOrganizationID, ConnectionID: workostest.AcmeConnectionID, Shared: true}) {
		t.Errorf("sign-out: %+v", out)
	}
	if len(revs) == 0 || revs[0].Revocations[0].Kind != SessionRevocation || revs[0].Received {
		t.Errorf("sign-out revocation: %+v", revs)
	}
}

func TestObserverRevocationsReceived(t *testing.T) {
	bp := NewLocalBackplane()
	f, _ := observedFlow(t, func(c *Config) { c.Backplane = bp })
	rec := &recorder{}
	peer := f.newGate(func(c *Config) { c.Backplane = bp; c.Observer = rec.observer() })
	defer peer.Close()
	take[any](rec)

	made := f.clock.Now()
	f.clock.Advance(3 * time.Second) // both replicas share the clock: the lag is 3 s
	if err := f.gate.Revoke(context.Background(), Revocation{Kind: OrganizationRevocation, ID: workostest.GlobexOrganizationID, At: made}); err != nil {
		t.Fatal(err)
	}
	got := only[RevocationInfo](t, rec)
	if !got.Received || got.Lag != 3*time.Second || len(got.Revocations) != 1 || got.Revocations[0].ID != workostest.GlobexOrganizationID {
		t.Errorf("received: %+v", got)
	}
}

// outageBackplane is a local backplane whose store can be made to fail.
type outageBackplane struct {
	Backplane
	mu   sync.Mutex
	subs []Subscriber
}

func (b *outageBackplane) Subscribe(s Subscriber) func() {
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	return b.Backplane.Subscribe(s)
}

func (b *outageBackplane) outage(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s.Outage(err)
	}
}

func TestObserverBackplaneOutage(t *testing.T) {
	bp := &outageBackplane{Backplane: NewLocalBackplane()}
	_, rec := observedFlow(t, func(c *Config) { c.Backplane = bp })
	down := errors.New("connection refused")
	bp.outage(down)
	if got := only[BackplaneInfo](t, rec); !got.Down || got.Err != down {
		t.Errorf("outage start: %+v", got)
	}
	bp.outage(nil)
	if got := only[BackplaneInfo](t, rec); got.Down || got.Err != nil {
		t.Errorf("outage end: %+v", got)
	}
}

func TestObserverWebhooks(t *testing.T) {
	f, rec := observedFlow(t)
	post := func(body, sig string) resp {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/webhooks/workos", strings.NewReader(body))
		req.Header.Set("WorkOS-Signature", sig)
		return f.do(req)
	}
	now := time.Now()
	body := fmt.Sprintf(`{"object":"event","id":"event_01","event":"connection.activated",`+
		`"data":{"object":"connection","id":%q,"organization_id":%q,"connection_type":"GenericOIDC","state":"active","domains":[]},"created_at":%q}`,
		workostest.GlobexConnectionID, workostest.GlobexOrganizationID, now.UTC().Format(time.RFC3339Nano))

	r := post(body, workostest.SignWebhook("whsec_test", now, []byte(body)))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("verified webhook: %d %s", r.StatusCode, r.body)
	}
	if got := only[WebhookInfo](t, rec); got != (WebhookInfo{Verified: true, EventType: "connection.activated", EventID: "event_01", Status: http.StatusOK}) {
		t.Errorf("verified: %+v", got)
	}
	r = post(body, workostest.SignWebhook("whsec_other", now, []byte(body)))
	if got := only[WebhookInfo](t, rec); r.StatusCode != http.StatusUnauthorized ||
		got != (WebhookInfo{Status: http.StatusUnauthorized, Reason: "signature mismatch or stale"}) {
		t.Errorf("refused (%d): %+v", r.StatusCode, got)
	}
}

func TestObserverWorkOSRetriesAndStaleCache(t *testing.T) {
	f, rec := observedFlow(t, func(c *Config) {
		cache, err := NewConnectionCache(c.Provider, CacheConfig{TTL: time.Millisecond})
		if err != nil {
			panic(err)
		}
		c.Connections = cache
	})
	// A 429 then a success: one call of two attempts.
	f.idp.Fail("GET /connections/{id}", workostest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0"})
	f.startLogin("connection=" + workostest.AcmeConnectionID)
	calls := take[workos.CallInfo](rec)
	if len(calls) != 1 || calls[0].info.Attempts != 2 || calls[0].info.Status != http.StatusOK || calls[0].info.Route != "GET /connections/{id}" {
		t.Errorf("retried call: %+v", calls)
	}

	// WorkOS fails once the answer is past its TTL: the stale one is served.
	time.Sleep(5 * time.Millisecond)
	f.idp.Fail("GET /connections/{id}", workostest.Fault{Status: http.StatusInternalServerError, Times: -1})
	f.startLogin("connection=" + workostest.AcmeConnectionID)
	var lookups []CacheInfo
	var failed workos.CallInfo
	for _, e := range take[any](rec) {
		switch v := e.info.(type) {
		case CacheInfo:
			lookups = append(lookups, v)
		case workos.CallInfo:
			failed = v
		}
	}
	if want := []CacheInfo{{"connection", CacheStale}}; !reflect.DeepEqual(lookups, want) {
		t.Errorf("lookups: %+v, want %+v", lookups, want)
	}
	if failed.Status != http.StatusInternalServerError || failed.Err == nil || failed.Attempts < 2 {
		t.Errorf("failed call: %+v", failed)
	}
	// A connection never cached: nothing to serve.
	r := f.get("/login?connection=" + workostest.GlobexConnectionID)
	if got := take[CacheInfo](rec); r.StatusCode != http.StatusFound || len(got) != 1 || got[0].info.Result != CacheFailed {
		t.Errorf("uncached lookup during the outage (%d): %+v", r.StatusCode, got)
	}
}

// TestAuditTrail checks the audit records of a sign-in, a refused
// callback, a sign-out and a revocation, and that no secret reaches them.
func TestAuditTrail(t *testing.T) {
	audit := &syncBuffer{}
	f, _ := observedFlow(t, func(c *Config) {
		c.AuditLog = slog.New(slog.NewJSONHandler(audit, nil))
		c.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
		c.RequestID = func(r *http.Request) string { return r.Header.Get("X-Request-ID") }
	})
	alice := workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)
	cb := f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID))
	f.get(cb.String(), "X-Test-Client", "203.0.113.7", "X-Request-ID", "req-42")
	f.get(cb.String(), "X-Test-Client", "203.0.113.7", "X-Request-ID", "bad id with spaces")
	f.logout()
	if err := f.gate.Revoke(context.Background(), RevokeOrganization(workostest.GlobexOrganizationID)); err != nil {
		t.Fatal(err)
	}

	var records []map[string]any
	for line := range strings.Lines(audit.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if rec["level"] != "INFO" || rec["msg"] != "ssogate audit" {
			t.Errorf("audit record %v: want level INFO, msg \"ssogate audit\"", rec)
		}
		delete(rec, "time")
		delete(rec, "level")
		delete(rec, "msg")
		records = append(records, rec)
	}
	if len(records) != 4 {
		t.Fatalf("got %d audit records, want 4:\n%s", len(records), audit)
	}
	want := []map[string]any{
		{"event": "sign_in", "profile_id": alice, "organization_id": workostest.AcmeOrganizationID, "connection_id": workostest.AcmeConnectionID,
			"connection_type": "OktaSAML", "client_ip": "203.0.113.7", "request_id": "req-42"},
		{"event": "sign_in_refused", "reason": "state_missing", "status": float64(400), "client_ip": "203.0.113.7"},
		{"event": "sign_out", "profile_id": alice, "organization_id": workostest.AcmeOrganizationID, "connection_id": workostest.AcmeConnectionID, "client_ip": ""},
		{"event": "revocation", "kind": "organization", "id": workostest.GlobexOrganizationID, "cause": "revoke"},
	}
	for i, w := range want {
		got := records[i]
		for k, v := range w {
			if got[k] != v {
				t.Errorf("record %d: %s = %v, want %v (record %v)", i, k, got[k], v, got)
			}
		}
		if _, ok := got["email"]; ok {
			t.Errorf("record %d has an email without AuditEmails: %v", i, got)
		}
	}
	// A malformed request id is replaced, not copied; the warning about the
	// same request names the same id.
	if id, _ := records[1]["request_id"].(string); id == "" || strings.Contains(id, "bad") {
		t.Errorf("request id of a malformed X-Request-ID: %q", id)
	} else if !strings.Contains(f.logs.String(), "path=/callback request_id="+id+" err=") {
		t.Errorf("no warning with the refused callback's request id %s:\n%s", id, f.logs)
	}
	f.logs.Write([]byte(audit.String()))
	f.wantNoSecrets(cb.Query().Get("code"), cb.Query().Get("state"))
}

func TestAuditEmails(t *testing.T) {
	audit := &syncBuffer{}
	f, _ := observedFlow(t, func(c *Config) {
		c.AuditLog = slog.New(slog.NewJSONHandler(audit, nil))
		c.AuditEmails = true
	})
	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	if !strings.Contains(audit.String(), `"email":"alice@acme.com"`) || !strings.Contains(audit.String(), `"client_ip":"127.0.0.1"`) {
		t.Errorf("audit record with AuditEmails: %s", audit)
	}
}

func TestHealthHandler(t *testing.T) {
	f, _ := observedFlow(t)
	// Acme: two sign-ins and a refused one; Initech: refused at /login.
	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	f.newBrowser().signIn("organization="+workostest.AcmeOrganizationID, "/")
	cb := f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID))
	q := cb.Query()
	q.Set("code", "made-up-code")
	f.get("/callback?" + q.Encode())
	f.get("/login?email=peter@initech.com")

	admin := f.newBrowser()
	admin.idp.SetAutoSignIn(workostest.HankEmail)
	admin.signIn("connection="+workostest.GlobexConnectionID, "/")
	f.clock.Advance(2 * time.Minute)

	r := admin.apiGet("/admin/sso")
	if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: %d %s", r.StatusCode, r.body)
	}
	var report struct {
		Scope       string
		Replica     string
		Since       time.Time
		Connections []ConnectionHealth
	}
	if err := json.Unmarshal([]byte(r.body), &report); err != nil {
		t.Fatal(err)
	}
	if report.Scope != "replica" || report.Since.IsZero() {
		t.Errorf("report: %+v", report)
	}
	// The replica by its host and the address it serves on, so that two
	// replicas on one host differ.
	host, _ := os.Hostname()
	if want := host + " at " + f.app.Listener.Addr().String(); report.Replica != want {
		t.Errorf("replica: got %q, want %q", report.Replica, want)
	}
	byID := map[string]ConnectionHealth{}
	for _, c := range report.Connections {
		byID[c.ConnectionID] = c
	}
	acme := byID[workostest.AcmeConnectionID]
	if acme.SignIns != 2 || acme.Failures != 1 || acme.LastSignIn == nil || acme.LastFailure == nil ||
		acme.LastFailure.Reason != ReasonExchangeFailed || acme.LastFailure.WorkOSCode != "invalid_grant" ||
		acme.OrganizationID != workostest.AcmeOrganizationID || acme.ConnectionType != "OktaSAML" {
		t.Errorf("Acme: %+v (last failure %+v)", acme, acme.LastFailure)
	}
	if acme.Name == "" {
		t.Errorf("Acme has no name, though the cache holds it: %+v", acme)
	}
	initech := byID[workostest.InitechConnectionID]
	if initech.Failures != 1 || initech.LastFailure == nil || initech.LastFailure.Reason != ReasonInactiveConnection || initech.LastSignIn != nil {
		t.Errorf("Initech: %+v", initech)
	}
	if report.Connections[0].ConnectionID != workostest.AcmeConnectionID && report.Connections[0].ConnectionID != workostest.InitechConnectionID {
		t.Errorf("rows with failures come first: %+v", report.Connections)
	}

	page := admin.get("/admin/sso")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "exchange_failed (invalid_grant)") ||
		!strings.Contains(page.body, "This replica") || page.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("HTML page: %d %s", page.StatusCode, page.body)
	}

	// An hour later the counts are gone; the last events stay.
	f.clock.Advance(time.Hour)
	for _, c := range f.gate.SignInHealth() {
		if c.SignIns != 0 || c.Failures != 0 {
			t.Errorf("counts older than an hour: %+v", c)
		}
	}

	// Only admins see it.
	if r := f.get("/admin/sso"); r.StatusCode != http.StatusFound && r.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin: %d", r.StatusCode)
	}
}

func TestHealthBounded(t *testing.T) {
	h := newSignInHealth(time.Now)
	at := time.Now()
	for i := range maxHealthRows + 10 {
		h.record(&CallbackInfo{ConnectionID: fmt.Sprintf("conn_%04d", i), Reason: ReasonExchangeFailed}, at.Add(time.Duration(i)*time.Millisecond))
	}
	rows := h.snapshot(func(string) string { return "" })
	if len(rows) != maxHealthRows {
		t.Fatalf("%d rows, want %d", len(rows), maxHealthRows)
	}
	for _, r := range rows {
		if r.ConnectionID < "conn_0010" {
			t.Errorf("the oldest rows stay: %s", r.ConnectionID)
		}
	}
}

func TestJoinObservers(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	onlyRefusals := &Observer{SessionRefused: func(ctx context.Context, i RefusalInfo) { b.add(ctx, i) }}
	f, _ := observedFlow(t, func(c *Config) { c.Observer = JoinObservers(a.observer(), nil, onlyRefusals) })
	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	f.newBrowser().get("/app")

	calls := take[workos.CallInfo](a)
	if len(calls) != 2 || calls[1].op != "callback > POST /sso/token" {
		t.Errorf("joined observer: calls %+v, want each in the context its Start made", calls)
	}
	if got := take[RefusalInfo](b); len(got) != 1 || got[0].info.Reason != ReasonNoSession {
		t.Errorf("second observer: refusals %+v", got)
	}
	j := JoinObservers(onlyRefusals)
	if j.LoginStart != nil || j.CallbackDone != nil || j.WorkOSCallStart != nil || j.SessionRefused == nil {
		t.Error("a joined Observer sets funcs that none of its observers set")
	}
}

// TestObserversGetNoMadeUpIDs checks that an organization or connection id
// that came in a query and that WorkOS did not vouch for (it does not
// exist, or WorkOS could not be asked) reaches no observer: made-up ids
// would otherwise become metric attributes, as many as an attacker sends.
func TestObserversGetNoMadeUpIDs(t *testing.T) {
	f, rec := observedFlow(t)
	const madeUp = "conn_01MADEUP0000000000000000"
	const madeUpOrg = "org_01MADEUP0000000000000000"

	f.get("/login?connection=" + madeUp) // WorkOS: no such connection
	f.get("/login?organization=" + madeUpOrg)
	for _, e := range take[LoginInfo](rec) {
		if e.info.ConnectionID != "" || e.info.OrganizationID != "" || e.info.Reason != ReasonNoConnection {
			t.Errorf("login for an unknown id: %+v", e.info)
		}
	}

	// While WorkOS cannot be asked, the login goes on (WorkOS's
	// authorization endpoint judges the id), but the id stays unnamed, at
	// /login and at the callback.
	f.idp.Fail("GET /connections/{id}", workostest.Fault{Status: http.StatusServiceUnavailable, Times: -1})
	const unasked = "conn_01UNASKED000000000000000"
	r := f.get("/login?connection=" + unasked)
	if r.StatusCode != http.StatusFound {
		t.Fatalf("login during a lookup outage: %d", r.StatusCode)
	}
	if info := only[LoginInfo](t, rec); info.ConnectionID != "" || !info.Redirected {
		t.Errorf("login during a lookup outage: %+v", info)
	}
	state := r.location(t).Query().Get("state")
	f.get("/callback?" + url.Values{"state": {state}, "code": {"made-up-code"}}.Encode())
	if info := only[CallbackInfo](t, rec); info.ConnectionID != "" || info.SignedIn {
		t.Errorf("callback of an unverified login: %+v", info)
	}
	for _, c := range f.gate.SignInHealth() {
		if c.ConnectionID == madeUp || c.ConnectionID == unasked || c.OrganizationID == madeUpOrg {
			t.Errorf("health names a made-up id: %+v", c)
		}
	}
}

// TestWorkOSCodesAreAClosedSet sends callbacks with error codes of an
// attacker's choosing: observers (and so metric labels, the audit trail and
// the health page) see only WorkOS's documented codes or "other", and a
// callback with no login of this browser's earns no code at all.
// Before, each made-up code became a label value of its own.
func TestWorkOSCodesAreAClosedSet(t *testing.T) {
	f, rec := observedFlow(t)
	codes := map[string]bool{}
	for i := range 50 {
		f.get("/callback?" + url.Values{"error": {fmt.Sprintf("made_up_%d", i)}, "state": {"x"}}.Encode())
		codes[only[CallbackInfo](t, rec).WorkOSCode] = true
	}
	f.get("/callback?error=access_denied")
	codes[only[CallbackInfo](t, rec).WorkOSCode] = true
	if len(codes) != 1 || !codes[""] {
		t.Errorf("callbacks with no login of this browser's gave the codes %v, want none", codes)
	}

	for _, tc := range []struct{ sent, want string }{
		{"access_denied", "access_denied"},
		{"connection_invalid", "connection_invalid"},
		{"made_up_code", "other"},
		{"server_error", "server_error"},
	} {
		auth := f.startLogin("connection=" + workostest.AcmeConnectionID)
		take[any](rec)
		f.get("/callback?" + url.Values{"state": {auth.Query().Get("state")}, "error": {tc.sent}}.Encode())
		if got := only[CallbackInfo](t, rec).WorkOSCode; got != tc.want {
			t.Errorf("error=%s in a flow this browser started: WorkOSCode %q, want %q", tc.sent, got, tc.want)
		}
	}
}

// TestRequestIDHeaderNotTrustedByDefault sends an X-Request-ID of the
// client's choosing: without Config.RequestID, the audit trail gives the
// request an id of its own, so that a client cannot make its records look
// like another request's. Before, any well-formed header was taken.
func TestRequestIDHeaderNotTrustedByDefault(t *testing.T) {
	f := newFlow(t, nil)
	cb := f.authorize(f.startLogin("connection=" + workostest.AcmeConnectionID))
	f.get(cb.String(), "X-Request-ID", "req-chosen-by-client")
	logs := f.logs.String()
	if !strings.Contains(logs, "event=sign_in") || strings.Contains(logs, "req-chosen-by-client") {
		t.Errorf("the client's X-Request-ID reached the audit trail:\n%s", logs)
	}
}

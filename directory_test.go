package ssogate

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// directoryFlow is a flow whose emulator delivers its webhooks to the
// app's webhook handler, with alice and bob (Acme) and hank (Globex)
// signed in, each in a browser of their own.
type directoryFlow struct {
	*flow
	hook             http.Handler
	alice, bob, hank *flow
}

const directoryWebhookSecret = "whsec_directory_test"

func newDirectoryFlow(t *testing.T, opts ...flowOption) *directoryFlow {
	t.Helper()
	var target atomic.Pointer[http.Handler]
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*target.Load()).ServeHTTP(w, r) }))
	t.Cleanup(hooks.Close)
	f := newFlow(t, []workostest.Option{workostest.WithWebhook(hooks.URL, directoryWebhookSecret)}, opts...)
	h, err := NewWebhookHandler(WebhookConfig{Secret: directoryWebhookSecret, Cache: f.gate.Connections(), Logger: f.gate.log, now: f.idp.Now})
	if err != nil {
		t.Fatal(err)
	}
	target.Store(&h)
	d := &directoryFlow{flow: f, hook: h, alice: f}
	f.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
	d.bob = f.newBrowser()
	d.bob.signInAs(workostest.BobEmail, "organization="+workostest.AcmeOrganizationID)
	d.hank = f.newBrowser()
	d.hank.signInAs(workostest.HankEmail, "organization="+workostest.GlobexOrganizationID)
	f.clock.Advance(time.Second)
	return d
}

// flush delivers the emulator's webhooks and checks that each was
// answered 200.
func (d *directoryFlow) flush() []workostest.Delivery {
	d.t.Helper()
	d.idp.FlushWebhooks()
	ds := d.idp.Deliveries()
	for _, dl := range ds {
		if dl.Status != http.StatusOK {
			d.t.Fatalf("delivery of %s answered %d", dl.Event, dl.Status)
		}
	}
	return ds
}

// post delivers body to the webhook handler, signed now.
func (d *directoryFlow) post(body []byte) int {
	d.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", bytes.NewReader(body))
	req.Header.Set("WorkOS-Signature", workostest.SignWebhook(directoryWebhookSecret, d.idp.Now(), body))
	rec := httptest.NewRecorder()
	d.hook.ServeHTTP(rec, req)
	return rec.Code
}

// idpIDOf returns the IdP id of a user of Acme's directory, which the
// emulator makes the user's SSO IdP id.
func (d *directoryFlow) idpIDOf(email string) string {
	d.t.Helper()
	u, err := d.gate.cfg.Provider.(*workos.Client).GetDirectoryUser(context.Background(), workostest.DirectoryUserID(workostest.AcmeDirectoryID, email))
	if err != nil {
		d.t.Fatal(err)
	}
	return u.IdPID
}

func (d *directoryFlow) auditRevocations() int {
	return strings.Count(d.logs.String(), `msg="ssogate audit" event=revocation`)
}

func TestDirectoryUserDeletedEndsSessions(t *testing.T) {
	d := newDirectoryFlow(t)
	if err := d.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)); err != nil {
		t.Fatal(err)
	}
	ds := d.flush()
	if len(ds) != 1 || ds[0].Event != workos.EventDirectoryUserDeleted {
		t.Fatalf("deliveries %+v", ds)
	}
	d.bob.wantSignedOut()
	d.alice.wantSignedIn(workostest.AliceEmail)
	d.hank.wantSignedIn(workostest.HankEmail)
	audited := d.auditRevocations()
	if audited != 2 { // bob's IdP id and his email
		t.Errorf("%d revocations audited, want 2", audited)
	}
	if strings.Contains(d.logs.String(), workostest.BobEmail) {
		t.Errorf("bob's email reached the log:\n%s", d.logs)
	}

	// The same delivery again, and the same event as the Events API
	// serves it, change nothing more.
	if got := d.post(ds[0].Body); got != http.StatusOK {
		t.Fatalf("replay: %d, want 200", got)
	}
	events, err := d.gate.cfg.Provider.(*workos.Client).ListEvents(context.Background(), workos.ListEventsOptions{Events: []string{workos.EventDirectoryUserDeleted}})
	if err != nil || len(events.Data) != 1 || events.Data[0].ID != ds[0].EventID {
		t.Fatalf("events: %+v, %v", events, err)
	}
	if err := d.gate.HandleEvent(context.Background(), &events.Data[0]); err != nil {
		t.Fatal(err)
	}
	if n := d.auditRevocations(); n != audited {
		t.Errorf("a second delivery audited %d revocations more", n-audited)
	}
	d.alice.wantSignedIn(workostest.AliceEmail)
	d.hank.wantSignedIn(workostest.HankEmail)
}

func TestDirectoryUserDeactivatedEndsSessions(t *testing.T) {
	d := newDirectoryFlow(t)
	alice := workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.AliceEmail)
	if err := d.idp.SetDirectoryUserState(alice, "inactive"); err != nil {
		t.Fatal(err)
	}
	d.flush()
	d.alice.wantSignedOut()
	d.bob.wantSignedIn(workostest.BobEmail)

	// A user made active again is not an offboarding: a new sign-in
	// after it stays.
	d.clock.Advance(ClockSkew + time.Second)
	d.idp.Advance(ClockSkew + time.Second)
	if err := d.idp.SetDirectoryUserState(alice, "active"); err != nil {
		t.Fatal(err)
	}
	d.flush()
	d.alice.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
	d.alice.wantSignedIn(workostest.AliceEmail)
	d.bob.wantSignedIn(workostest.BobEmail)
}

// TestDirectoryMatch: hank's directory record has an IdP id other than
// his SSO profile's and his email in other letter case, as when SSO and
// provisioning come from two systems. The email, case-folded, finds him;
// the IdP id alone does not.
func TestDirectoryMatch(t *testing.T) {
	hank := workostest.DirectoryUserID(workostest.GlobexDirectoryID, workostest.HankEmail)
	for _, tc := range []struct {
		match   DirectoryMatch
		hankOut bool
	}{
		{MatchIdPIDOrEmail, true},
		{MatchEmail, true},
		{MatchIdPID, false},
	} {
		d := newDirectoryFlow(t, func(c *Config) { c.DirectoryMatch = tc.match })
		if err := d.idp.DeleteDirectoryUser(hank); err != nil {
			t.Fatal(err)
		}
		d.flush()
		if tc.hankOut {
			d.hank.wantSignedOut()
		} else {
			d.hank.wantSignedIn(workostest.HankEmail)
		}
		d.alice.wantSignedIn(workostest.AliceEmail)
	}
	// By IdP id alone: bob's directory record carries his SSO IdP id.
	d := newDirectoryFlow(t, func(c *Config) { c.DirectoryMatch = MatchIdPID })
	if err := d.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)); err != nil {
		t.Fatal(err)
	}
	d.flush()
	d.bob.wantSignedOut()
	d.alice.wantSignedIn(workostest.AliceEmail)

	cfg := d.gate.cfg
	cfg.Connections, cfg.DirectoryMatch = nil, MatchEmail+1
	if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "DirectoryMatch") {
		t.Errorf("an unknown DirectoryMatch: %v", err)
	}
}

// TestDirectoryMatchScopedToOrganization: the same IdP id and email in
// another organization's directory end nobody's session here.
func TestDirectoryMatchScopedToOrganization(t *testing.T) {
	d := newDirectoryFlow(t)
	if err := d.idp.AddDirectoryUser(workostest.DirectoryUser{DirectoryID: workostest.GlobexDirectoryID, Email: workostest.AliceEmail, IdPID: d.idpIDOf(workostest.AliceEmail)}); err != nil {
		t.Fatal(err)
	}
	if err := d.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.GlobexDirectoryID, workostest.AliceEmail)); err != nil {
		t.Fatal(err)
	}
	d.flush()
	d.alice.wantSignedIn(workostest.AliceEmail)
	d.bob.wantSignedIn(workostest.BobEmail)
}

func TestDirectoryDeletedEndsItsOrganizationsSessions(t *testing.T) {
	d := newDirectoryFlow(t)
	if err := d.idp.DeleteDirectory(workostest.AcmeDirectoryID); err != nil {
		t.Fatal(err)
	}
	if ds := d.flush(); len(ds) != 1 || ds[0].Event != workos.EventDirectoryDeleted {
		t.Fatalf("deliveries %+v, want one dsync.deleted", ds)
	}
	d.alice.wantSignedOut()
	d.bob.wantSignedOut()
	d.hank.wantSignedIn(workostest.HankEmail)
}

// TestDirectoryEventsChecked: a signed event of these types that is
// malformed gets 400 and ends nobody's session; other event types are
// acknowledged and change nothing.
func TestDirectoryEventsChecked(t *testing.T) {
	d := newDirectoryFlow(t)
	at := d.idp.Now().Format(time.RFC3339Nano)
	event := func(typ, data string) []byte {
		return []byte(`{"object":"event","id":"event_01TEST","event":"` + typ + `","data":` + data + `,"created_at":"` + at + `"}`)
	}
	bob := `"id":"directory_user_b","directory_id":"directory_acme","idp_id":"` + d.idpIDOf(workostest.BobEmail) + `","email":"bob@acme.com"`
	for name, body := range map[string][]byte{
		"no organization":       event(workos.EventDirectoryUserDeleted, `{`+bob+`,"state":"inactive"}`),
		"organization of junk":  event(workos.EventDirectoryUserDeleted, `{`+bob+`,"organization_id":"org acme","state":"inactive"}`),
		"no identifiers":        event(workos.EventDirectoryUserDeleted, `{"id":"directory_user_b","organization_id":"org_acme","state":"inactive"}`),
		"not an object":         event(workos.EventDirectoryUserDeleted, `"bob"`),
		"updated with no state": event(workos.EventDirectoryUserUpdated, `{`+bob+`,"organization_id":"org_acme"}`),
		"directory without org": event(workos.EventDirectoryDeleted, `{"id":"directory_acme","object":"directory"}`),
		"an idp_id of 2 KB":     event(workos.EventDirectoryUserDeleted, `{"organization_id":"org_acme","idp_id":"`+strings.Repeat("x", 2048)+`","state":"inactive"}`),
	} {
		if got := d.post(body); got != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, got)
		}
	}
	for name, body := range map[string][]byte{
		"an unknown type":     event("dsync.group.user_removed", `{`+bob+`,"organization_id":"org_acme"}`),
		"a user created":      event(workos.EventDirectoryUserCreated, `{`+bob+`,"organization_id":"org_acme","state":"active"}`),
		"a user still active": event(workos.EventDirectoryUserUpdated, `{`+bob+`,"organization_id":"org_acme","state":"active"}`),
	} {
		if got := d.post(body); got != http.StatusOK {
			t.Errorf("%s: %d, want 200", name, got)
		}
	}
	d.alice.wantSignedIn(workostest.AliceEmail)
	d.bob.wantSignedIn(workostest.BobEmail)
	if n := d.auditRevocations(); n != 0 {
		t.Errorf("%d revocations audited", n)
	}
	// And the well-formed one is acted on.
	if got := d.post(event(workos.EventDirectoryUserDeleted, `{`+bob+`,"organization_id":"org_acme","state":"inactive"}`)); got != http.StatusOK {
		t.Fatalf("well formed: %d", got)
	}
	d.bob.wantSignedOut()
	d.alice.wantSignedIn(workostest.AliceEmail)
}

// TestDirectoryEventOnEveryReplica: a deprovisioning that one replica's
// webhook handler takes ends the session on every replica.
func TestDirectoryEventOnEveryReplica(t *testing.T) {
	bp := NewLocalBackplane()
	d := newDirectoryFlow(t, func(c *Config) { c.Backplane = bp })
	other := d.newGate(func(c *Config) { c.Backplane = bp })
	t.Cleanup(func() { other.Close() })
	serve := func(b *flow) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/app", nil)
		req.Header.Set("Accept", "application/json")
		for _, c := range b.jar.Cookies(mustURL(t, d.app.URL+"/")) {
			req.AddCookie(c)
		}
		other.RequireSSO(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(rec, req)
		return rec.Code
	}
	if got := serve(d.bob); got != http.StatusOK {
		t.Fatalf("bob on the other replica: %d", got)
	}
	if err := d.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)); err != nil {
		t.Fatal(err)
	}
	d.flush()
	if got := serve(d.bob); got != http.StatusUnauthorized {
		t.Errorf("bob on the other replica: %d, want 401", got)
	}
	if got := serve(d.alice); got != http.StatusOK {
		t.Errorf("alice on the other replica: %d, want 200", got)
	}
}

func TestRevokeIdentity(t *testing.T) {
	if rs := RevokeIdentity("", "00u1", "a@b.c"); len(rs) != 0 {
		t.Errorf("no organization: %v", rs)
	}
	a := RevokeIdentity("org_acme", "00u1", " Alice@Acme.COM")
	b := RevokeIdentity("org_acme", "00u1", "alice@acme.com")
	if len(a) != 2 || a[0] != b[0] || a[1] != b[1] {
		t.Errorf("case-folded emails differ: %v %v", a, b)
	}
	c := RevokeIdentity("org_globex", "00u1", "alice@acme.com")
	e := RevokeIdentity("org_acme", "alice@acme.com", "")
	if c[0] == a[0] || c[1] == a[1] || e[0] == a[1] {
		t.Errorf("distinct identities share a key: %v %v %v", a, c, e)
	}
	for _, r := range a {
		r.At, r.Expires = time.Now(), time.Now().Add(time.Hour)
		if err := r.Validate(); err != nil || r.Kind.String() != "identity" || strings.Contains(r.ID, "alice") {
			t.Errorf("%+v: %v", r, err)
		}
	}
	for _, id := range []string{"", "idn_", "idn_" + strings.Repeat("A", 21), "idn_" + strings.Repeat("A", 23), "idn_" + strings.Repeat("*", 22), "xdn_" + strings.Repeat("A", 22), "idn_" + strings.Repeat("A", 21) + "B"} {
		if err := (Revocation{Kind: IdentityRevocation, ID: id}).Validate(); !errors.Is(err, ErrInvalidRevocation) {
			t.Errorf("%q: %v, want ErrInvalidRevocation", id, err)
		}
	}
}

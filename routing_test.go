package ssogate

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssogate/ssogate/workostest"
)

const notSetUp = "Single sign-on is not set up for your organization"

// wantRefused checks that /login?query answers status with a page holding
// text, starts no login and makes no authorization request.
func (f *flow) wantRefused(query string, status int, text string) resp {
	f.t.Helper()
	r := f.get("/login?" + query)
	if r.StatusCode != status || !strings.Contains(r.body, text) {
		f.t.Errorf("/login?%s: got %d %q, want %d with %q", query, r.StatusCode, r.body, status, text)
	}
	if len(r.stateCookies()) != 0 {
		f.t.Errorf("/login?%s set a state cookie", query)
	}
	if loc := r.Header.Get("Location"); loc != "" {
		f.t.Errorf("/login?%s redirected to %s", query, loc)
	}
	return r
}

func TestLoginRoutesByEmail(t *testing.T) {
	tests := []struct {
		name, query, user   string
		wantConn, wantHint  string
		wantDomainHint      string
		wantOrg, wantReturn string
	}{
		{"email", "email=" + workostest.AliceEmail + "&return_to=/app/x", workostest.AliceEmail,
			workostest.AcmeConnectionID, workostest.AliceEmail, "", workostest.AcmeOrganizationID, "/app/x"},
		{"mixed-case email", "email=Bob@ACME.com", workostest.BobEmail,
			workostest.AcmeConnectionID, "Bob@ACME.com", "", workostest.AcmeOrganizationID, "/"},
		{"email with explicit login hint", "email=hank@globex.com&login_hint=h.scorpio@globex.com", workostest.HankEmail,
			workostest.GlobexConnectionID, "h.scorpio@globex.com", "", workostest.GlobexOrganizationID, "/"},
		{"domain", "domain=GLOBEX.com", workostest.HankEmail,
			workostest.GlobexConnectionID, "", "globex.com", workostest.GlobexOrganizationID, "/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, []workostest.Option{workostest.WithAutoSignIn(tc.user)})
			auth := f.startLogin(tc.query)
			q := auth.Query()
			if q.Get("connection") != tc.wantConn || q.Has("organization") || q.Has("provider") {
				t.Errorf("authorization selectors %v, want connection=%s only", q, tc.wantConn)
			}
			if q.Get("login_hint") != tc.wantHint || q.Get("domain_hint") != tc.wantDomainHint {
				t.Errorf("login_hint, domain_hint = %q, %q; want %q, %q", q.Get("login_hint"), q.Get("domain_hint"), tc.wantHint, tc.wantDomainHint)
			}
			r := f.get(f.authorize(auth).String())
			if r.StatusCode != http.StatusSeeOther || r.location(t).RequestURI() != tc.wantReturn {
				t.Fatalf("callback: got %d to %q, want 303 to %s", r.StatusCode, r.Header.Get("Location"), tc.wantReturn)
			}
			f.wantSignedIn(tc.user)
			f.wantNoSecrets(q.Get("state"))
		})
	}
}

func TestLoginRoutedIntentIsEnforced(t *testing.T) {
	// The login is routed by alice's email to Acme; a code for a Globex
	// user must not sign anyone in to it.
	f := newFlow(t, []workostest.Option{workostest.WithAutoSignIn(workostest.HankEmail)})
	auth := f.startLogin("email=" + workostest.AliceEmail)
	q := auth.Query()
	q.Set("connection", workostest.GlobexConnectionID)
	auth.RawQuery = q.Encode()
	r := f.get(f.authorize(auth).String())
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("got %d %q, want 403", r.StatusCode, r.body)
	}
	f.wantSignedOut()
}

func TestLoginRefusesUnroutable(t *testing.T) {
	f := newFlow(t, nil)
	tests := []struct {
		name, query string
		status      int
		text        string
	}{
		{"inactive connection's domain", "email=" + workostest.PeterEmail, http.StatusNotFound, notSetUp},
		{"unknown domain", "email=jane@unknown.example", http.StatusNotFound, notSetUp},
		{"unknown domain by domain", "domain=unknown.example", http.StatusNotFound, notSetUp},
		{"organization with only an inactive connection", "organization=" + workostest.InitechOrganizationID, http.StatusNotFound, notSetUp},
		{"unknown organization", "organization=org_nosuch", http.StatusNotFound, notSetUp},
		{"inactive connection", "connection=" + workostest.InitechConnectionID, http.StatusNotFound, notSetUp},
		{"unknown connection", "connection=conn_nosuch", http.StatusNotFound, notSetUp},
		{"junk email", "email=not-an-email", http.StatusBadRequest, "Enter a valid work email address"},
		{"two ats", "email=a@b.com@acme.com", http.StatusBadRequest, "Enter a valid work email address"},
		{"email with header injection", "email=" + url.QueryEscape("a@acme.com\r\nX: y"), http.StatusBadRequest, "Enter a valid work email address"},
		{"IP literal", "email=a@127.0.0.1", http.StatusBadRequest, "Enter a valid work email address"},
		{"junk domain", "domain=" + url.QueryEscape("acme.com/evil"), http.StatusBadRequest, "Enter a valid domain"},
		{"email and domain", "email=a@acme.com&domain=acme.com", http.StatusBadRequest, "only one"},
		{"email and organization", "email=a@acme.com&organization=org_acme", http.StatusBadRequest, "only one"},
		{"email twice", "email=a@acme.com&email=b@globex.com", http.StatusBadRequest, "more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.wantRefused(tc.query, tc.status, tc.text)
		})
	}
	if n := f.idp.Count("GET /sso/authorize"); n != 0 {
		t.Errorf("refused logins reached WorkOS's authorization endpoint %d times", n)
	}
}

func TestLoginEmailPage(t *testing.T) {
	f := newFlow(t, nil)
	xss := `"><script>alert(1)</script>@acme.com`
	r := f.wantRefused("email="+url.QueryEscape(xss)+"&return_to=/app", http.StatusBadRequest, "Enter a valid work email address")
	if strings.Contains(r.body, "<script>") {
		t.Errorf("the email page reflects its input: %s", r.body)
	}
	for _, want := range []string{`<form method="get" action="/login">`, `name="email"`, `name="return_to" value="/app"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the email page lacks %s: %s", want, r.body)
		}
	}
	// Browsers hold the redirect that follows a form to form-action too, and
	// this form's goes to WorkOS.
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "form-action") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'none' and no form-action", csp)
	}
	// A hostile return_to is not carried into the form.
	r = f.get("/login?return_to=" + url.QueryEscape("//evil.example"))
	if r.StatusCode != http.StatusOK || strings.Contains(r.body, "evil.example") || strings.Contains(r.body, `name="return_to"`) {
		t.Errorf("email page with hostile return_to: got %d %q", r.StatusCode, r.body)
	}
	// Submitting the form (a GET back to /login) starts the login.
	f.signIn("email="+url.QueryEscape(workostest.AliceEmail)+"&return_to=/app", "/app")
}

func TestLoginOrganizationWithSeveralConnections(t *testing.T) {
	f := newFlow(t, nil)
	if err := f.idp.AddConnection(workostest.Connection{
		ID: "conn_acme_entra", OrganizationID: workostest.AcmeOrganizationID, Name: "Acme <Entra>", Type: "EntraIdOIDC", State: "active",
	}); err != nil {
		t.Fatal(err)
	}
	// WorkOS refuses an organization selector that matches several
	// connections, so the user is asked to choose, by organization or by
	// email domain alike.
	for _, query := range []string{"organization=" + workostest.AcmeOrganizationID + "&return_to=/app", "email=" + workostest.AliceEmail + "&return_to=/app"} {
		r := f.get("/login?" + query)
		if r.StatusCode != http.StatusOK || len(r.stateCookies()) != 0 {
			t.Fatalf("/login?%s: got %d, %d state cookies; want 200, none", query, r.StatusCode, len(r.stateCookies()))
		}
		if !strings.Contains(r.body, "Acme Okta") || !strings.Contains(r.body, "Acme &lt;Entra&gt;") {
			t.Errorf("/login?%s: the chooser lacks the connections' (escaped) names: %s", query, r.body)
		}
		if !strings.Contains(r.body, `href="/login?connection=conn_acme_entra&amp;`) {
			t.Errorf("/login?%s: no link to the Entra connection: %s", query, r.body)
		}
	}
	f.signIn("connection="+workostest.AcmeConnectionID+"&return_to=/app", "/app")
	f.wantSignedIn(workostest.AliceEmail)
}

func TestLoginRequestOrganization(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) {
		c.RequestOrganization = func(r *http.Request) string {
			if r.Header.Get("X-Tenant") == "acme" {
				return workostest.AcmeOrganizationID
			}
			return "org_<bad>" // ignored: not an id
		}
	})
	r := f.get("/login", "X-Tenant", "acme")
	if r.StatusCode != http.StatusFound || r.location(t).Query().Get("connection") != workostest.AcmeConnectionID {
		t.Errorf("tenant request: got %d to %q, want 302 to Acme's connection", r.StatusCode, r.Header.Get("Location"))
	}
	r = f.get("/login", "X-Tenant", "other")
	if r.StatusCode != http.StatusOK || !strings.Contains(r.body, `name="email"`) {
		t.Errorf("unknown tenant: got %d %q, want the email page", r.StatusCode, r.body)
	}
}

func TestLoginWarmCacheMakesNoWorkOSCall(t *testing.T) {
	f := newFlow(t, nil)
	for range 5 {
		f.startLogin("organization=" + workostest.AcmeOrganizationID)
		f.startLogin("email=" + workostest.BobEmail)
		f.wantRefused("email=jane@unknown.example", http.StatusNotFound, notSetUp)
	}
	if n := f.idp.Count("GET /connections"); n != 3 {
		t.Errorf("15 logins for 3 keys made %d connection lookups, want 3", n)
	}
}

func TestLoginWhenWorkOSLookupsFail(t *testing.T) {
	f := newFlow(t, nil)
	f.idp.Fail("GET /connections", workostest.Fault{Status: http.StatusInternalServerError, Times: 100})
	f.idp.Fail("GET /connections/{id}", workostest.Fault{Status: http.StatusInternalServerError, Times: 100})
	// An email cannot be routed without WorkOS.
	f.wantRefused("email="+workostest.AliceEmail, http.StatusServiceUnavailable, "Please try again")
	// An organization or a connection can: WorkOS's authorization endpoint
	// will judge it.
	if q := f.startLogin("organization=" + workostest.AcmeOrganizationID).Query(); q.Get("organization") != workostest.AcmeOrganizationID {
		t.Errorf("organization login while lookups fail: selectors %v, want the organization", q)
	}
	if q := f.startLogin("connection=" + workostest.AcmeConnectionID).Query(); q.Get("connection") != workostest.AcmeConnectionID {
		t.Errorf("connection login while lookups fail: selectors %v, want the connection", q)
	}
	if n := strings.Count(f.logs.String(), "connection lookups are failing"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
}

// TestWebhookDeletionEndsRouting deletes a connection in the emulator,
// which delivers a signed connection.deleted event to the app, and checks
// that the next /login for the organization answers "not set up".
func TestWebhookDeletionEndsRouting(t *testing.T) {
	const secret = "whsec_flow_secret"
	var target atomic.Pointer[http.Handler]
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*target.Load()).ServeHTTP(w, r) }))
	defer hooks.Close()
	f := newFlow(t, []workostest.Option{
		workostest.WithAutoSignIn(workostest.AliceEmail),
		workostest.WithWebhook(hooks.URL+"/webhooks/workos", secret),
	})
	h, err := NewWebhookHandler(WebhookConfig{Secret: secret, Cache: f.gate.Connections(), Logger: f.gate.log})
	if err != nil {
		t.Fatal(err)
	}
	target.Store(&h)

	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	f.startLogin("email=" + workostest.BobEmail) // cached too
	if err := f.idp.DeleteConnection(workostest.AcmeConnectionID); err != nil {
		t.Fatal(err)
	}
	f.idp.FlushWebhooks()
	ds := f.idp.Deliveries()
	if len(ds) != 1 || ds[0].Event != "connection.deleted" || ds[0].Status != http.StatusOK {
		t.Fatalf("deliveries %+v, want connection.deleted answered 200", ds)
	}
	f.wantRefused("organization="+workostest.AcmeOrganizationID, http.StatusNotFound, notSetUp)
	f.wantRefused("email="+workostest.BobEmail, http.StatusNotFound, notSetUp)
	// The deletion revoked the session signed in through the connection.
	f.wantSignedOut()

	// Deactivation and reactivation are seen the same way.
	if err := f.idp.SetConnectionState(workostest.GlobexConnectionID, "active"); err != nil {
		t.Fatal(err)
	}
	f.startLogin("organization=" + workostest.GlobexOrganizationID)
	f.idp.SetConnectionState(workostest.GlobexConnectionID, "inactive")
	f.idp.FlushWebhooks()
	f.wantRefused("organization="+workostest.GlobexOrganizationID, http.StatusNotFound, notSetUp)
	f.idp.SetConnectionState(workostest.GlobexConnectionID, "active")
	f.idp.FlushWebhooks()
	f.startLogin("organization=" + workostest.GlobexOrganizationID)
}

// TestCrossSiteChooserWarns sends a signed-in browser from another site to
// /login for an organization with several connections: the chooser warns
// as the confirm page does and names who is signed in now, and its names
// are cleaned of format characters. Before, the chooser (whose links are
// same-origin steps) skipped the warning, and a right-to-left override in
// a connection's name survived.
func TestCrossSiteChooserWarns(t *testing.T) {
	f := newFlow(t, nil)
	if err := f.idp.AddConnection(workostest.Connection{
		ID: "conn_acme_entra", OrganizationID: workostest.AcmeOrganizationID, Name: "Acme \u202eartnE", Type: "EntraIdOIDC", State: "active",
	}); err != nil {
		t.Fatal(err)
	}
	f.signIn("connection="+workostest.AcmeConnectionID, "/")
	const warning = "Another site sent you here to sign in"
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Referer", "https://evil.example/page"}, // a browser without Fetch Metadata
	} {
		r := f.get("/login?organization="+workostest.AcmeOrganizationID, h...)
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "Choose how to sign in") {
			t.Fatalf("%v: got %d, want the chooser: %s", h, r.StatusCode, r.body)
		}
		if !strings.Contains(r.body, warning) || !strings.Contains(r.body, "You are signed in as <strong>"+workostest.AliceEmail+"</strong>") {
			t.Errorf("%v: the chooser does not warn, naming who is signed in: %s", h, r.body)
		}
		if strings.Contains(r.body, "\u202e") {
			t.Errorf("%v: a connection's name keeps a right-to-left override", h)
		}
	}
	// Asked from this site, it does not warn.
	for _, h := range [][]string{{"Sec-Fetch-Site", "same-origin"}, {"Referer", f.app.URL + "/"}, {}} {
		if r := f.get("/login?organization="+workostest.AcmeOrganizationID, h...); strings.Contains(r.body, warning) {
			t.Errorf("%v: the chooser warns of another site", h)
		}
	}
	// A confirm page that another site led to has no autofocus: a click
	// or a key press meant for the other site must not land on it.
	r := f.get("/login?connection=conn_acme_entra", "Sec-Fetch-Site", "cross-site")
	if !strings.Contains(r.body, "Continue signing in") || strings.Contains(r.body, "autofocus") {
		t.Errorf("the confirm page: %s", r.body)
	}
	// Without Fetch Metadata, a Referer of another site leads to it too.
	if r := f.get("/login?connection=conn_acme_entra", "Referer", "https://evil.example/"); !strings.Contains(r.body, "Continue signing in") {
		t.Errorf("a cross-site Referer without Fetch Metadata started the flow: %d", r.StatusCode)
	}
}

package ssogate

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// portalFlow is the flow's app with the setup page at /admin/sso/setup
// for the admins of the user's own organization, and at /setup with no
// role gate.
func portalFlow(t *testing.T) *flow {
	t.Helper()
	f := newFlow(t, nil)
	gate := f.gate
	mux := http.NewServeMux()
	mux.Handle("/", f.handler(gate))
	mux.Handle("/admin/sso/setup", gate.RequireRole(AnyOrganization, "admin")(gate.AdminPortalHandler(workos.PortalLinkOptions{Intent: workos.PortalSSO})))
	mux.Handle("/setup", gate.AdminPortalHandler(workos.PortalLinkOptions{SuccessURL: f.app.URL + "/admin"}))
	f.app.Config.Handler = mux
	return f
}

// TestAdminPortal sends Acme's admin to Acme's portal: a fresh link each
// time, never cached, never logged, in an audit record; the link opens
// the emulator's portal for Acme.
func TestAdminPortal(t *testing.T) {
	f := portalFlow(t)
	f.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)

	var links []string
	for range 2 {
		r := f.get("/admin/sso/setup", "Sec-Fetch-Site", "same-origin")
		if r.StatusCode != http.StatusFound || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("/admin/sso/setup: %d (%s), want 302, no-store", r.StatusCode, r.body)
		}
		links = append(links, r.Header.Get("Location"))
	}
	if links[0] == links[1] || !strings.HasPrefix(links[0], f.idp.URL+"/portal?token=") {
		t.Errorf("links %q: want a fresh link to the emulator's portal each time", links)
	}
	if n := f.idp.Count("POST /portal/generate_link"); n != 2 {
		t.Errorf("%d links generated, want 2", n)
	}
	page := f.get(links[1])
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Set up single sign-on") || !strings.Contains(page.body, "Acme") {
		t.Errorf("the portal: %d %s", page.StatusCode, page.body)
	}
	logs := f.logs.String()
	if strings.Count(logs, "event=admin_portal intent=sso profile_id=") != 2 || !strings.Contains(logs, "organization_id=org_acme") {
		t.Errorf("audit records:\n%s", logs)
	}
	if u, _ := url.Parse(links[0]); strings.Contains(logs, u.Query().Get("token")) {
		t.Error("a portal link reached the log")
	}
}

// TestAdminPortalOwnOrganizationOnly: the portal opens for the session's
// organization, whatever the request names; another organization's admin
// gets their own.
func TestAdminPortalOwnOrganizationOnly(t *testing.T) {
	f := portalFlow(t)
	if err := f.idp.AddUser(workostest.User{Email: "gina@globex.com", FirstName: "Gina", ConnectionID: workostest.GlobexConnectionID, Role: "admin"}); err != nil {
		t.Fatal(err)
	}
	f.signInAs("gina@globex.com", "organization="+workostest.GlobexOrganizationID)
	r := f.get("/admin/sso/setup?organization=org_acme&organization_id=org_acme", "Sec-Fetch-Site", "same-origin")
	if r.StatusCode != http.StatusFound {
		t.Fatalf("/admin/sso/setup: %d %s", r.StatusCode, r.body)
	}
	page := f.get(r.Header.Get("Location"))
	if !strings.Contains(page.body, "Globex") || strings.Contains(page.body, "Acme") {
		t.Errorf("Globex's admin reached another portal: %s", page.body)
	}
}

// TestAdminPortalRefusals: who is refused, and how, each without a link.
func TestAdminPortalRefusals(t *testing.T) {
	f := portalFlow(t)
	generated := func() int { return f.idp.Count("POST /portal/generate_link") }

	// No session: a navigation is sent to sign in, a script gets 401.
	if r := f.get("/admin/sso/setup", "Sec-Fetch-Site", "same-origin"); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/login?") {
		t.Errorf("signed out: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := f.apiGet("/setup"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("signed out, a script: %d", r.StatusCode)
	}

	bob := f.newBrowser()
	bob.signInAs(workostest.BobEmail, "organization="+workostest.AcmeOrganizationID)
	if r := bob.get("/admin/sso/setup", "Sec-Fetch-Site", "same-origin"); r.StatusCode != http.StatusForbidden {
		t.Errorf("bob, a member: %d, want 403", r.StatusCode)
	}

	alice := f.newBrowser()
	alice.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
	if r := alice.get("/admin/sso/setup", "Sec-Fetch-Site", "cross-site"); r.StatusCode != http.StatusForbidden {
		t.Errorf("from another site: %d, want 403", r.StatusCode)
	}
	if r := alice.get("/admin/sso/setup", "Referer", "https://evil.example/"); r.StatusCode != http.StatusForbidden {
		t.Errorf("from another site, by Referer: %d, want 403", r.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, f.app.URL+"/setup", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := alice.do(req); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", r.StatusCode)
	}

	carol := f.newBrowser()
	carol.signInAs(workostest.CarolEmail, "provider=GoogleOAuth")
	if r := carol.get("/setup", "Sec-Fetch-Site", "same-origin"); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "no organization") {
		t.Errorf("carol, of no organization: %d %s", r.StatusCode, r.body)
	}
	if n := generated(); n != 0 {
		t.Errorf("%d links generated for refused requests, want 0", n)
	}

	// WorkOS failing is a page, not a redirect.
	f.idp.Fail("POST /portal/generate_link", workostest.Fault{Status: http.StatusInternalServerError, Times: 3})
	if r := alice.get("/setup", "Sec-Fetch-Site", "same-origin"); r.StatusCode != http.StatusBadGateway || r.Header.Get("Location") != "" {
		t.Errorf("WorkOS failing: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
}

// linkProvider answers portal links of its own.
type linkProvider struct {
	stubProvider
	link string
}

func (p linkProvider) GeneratePortalLink(context.Context, workos.PortalLinkOptions) (string, error) {
	return p.link, nil
}

// TestAdminPortalChecksTheLink: a link that is not an https URL (or the
// emulator's, on this machine) is not followed.
func TestAdminPortalChecksTheLink(t *testing.T) {
	for link, ok := range map[string]bool{
		"https://setup.workos.com/?token=x": true,
		"http://127.0.0.1:8788/portal?x":    true,
		"http://localhost:8788/portal?x":    true,
		"http://setup.workos.com/?token=x":  false,
		"javascript:alert(1)":               false,
		"//evil.example/":                   false,
		"https://user:pw@setup.workos.com/": false,
		"":                                  false,
	} {
		if got := portalURL(link); got != ok {
			t.Errorf("portalURL(%q) = %v, want %v", link, got, ok)
		}
	}
}

func TestAdminPortalWiring(t *testing.T) {
	g, err := New(Config{Provider: stubProvider{}, ClientID: "client_x", RedirectURI: "https://app.example/callback", CookieSecrets: [][]byte{testSecret(1)}})
	if err != nil {
		t.Fatal(err)
	}
	g2, err := New(Config{Provider: linkProvider{link: "https://setup.workos.com/"}, ClientID: "client_x", RedirectURI: "https://app.example/callback", CookieSecrets: [][]byte{testSecret(1)}})
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		g    *Middleware
		opts workos.PortalLinkOptions
	}{
		"an organization named":    {g2, workos.PortalLinkOptions{Organization: "org_acme"}},
		"an unknown intent":        {g2, workos.PortalLinkOptions{Intent: "everything"}},
		"a Provider with no links": {g, workos.PortalLinkOptions{}},
	} {
		func() {
			defer func() {
				var ce *ConfigError
				if err, _ := recover().(error); !errors.As(err, &ce) || ce.Field != "AdminPortalHandler" {
					t.Errorf("%s: got panic %v, want a *ConfigError", name, err)
				}
			}()
			tt.g.AdminPortalHandler(tt.opts)
		}()
	}
}

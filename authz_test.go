package ssogate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// authzApp serves, behind the flow's gate, one route per authorization
// gate and combinations of them.
func authzApp(f *flow) http.Handler {
	g := f.gate
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ProfileFromContext(r.Context())
		io.WriteString(w, "welcome "+p.Email)
	})
	mux := http.NewServeMux()
	mux.Handle("/", f.handler(g))
	// Alone: each gate implies RequireSSO.
	mux.Handle("/admin", g.RequireRole(workostest.AcmeOrganizationID, "admin")(ok))
	mux.Handle("/acme", g.RequireOrganization(workostest.AcmeOrganizationID)(ok))
	mux.Handle("/custom", g.RequireProfile("globex email", func(p *Profile) bool {
		return strings.HasSuffix(p.Email, "@globex.com")
	})(ok))
	// After RequireSSO, as r.Use(gate.RequireSSO, gate.RequireGroup(...)).
	mux.Handle("/eng", g.RequireSSO(g.RequireGroup(workostest.AcmeOrganizationID, "engineering")(ok)))
	// Two gates: both must let the user through.
	mux.Handle("/acme-members", g.RequireSSO(g.RequireOrganization(workostest.AcmeOrganizationID)(g.RequireRole(workostest.AcmeOrganizationID, "member")(ok))))
	// Any of the values listed lets the user through.
	mux.Handle("/execs-or-admins", g.RequireGroup(AnyOrganization, "executives", "admins")(ok))
	return mux
}

func TestAuthorizationGates(t *testing.T) {
	f := newFlow(t, nil)
	f.app.Config.Handler = authzApp(f)
	users := map[string]*flow{}
	for _, u := range []struct{ email, org string }{
		{workostest.AliceEmail, workostest.AcmeOrganizationID},  // admin; engineering, admins
		{workostest.BobEmail, workostest.AcmeOrganizationID},    // member; engineering
		{workostest.HankEmail, workostest.GlobexOrganizationID}, // owner; executives
	} {
		b := f.newBrowser()
		b.signInAs(u.email, "organization="+u.org)
		users[u.email] = b
	}
	allowed := map[string][]string{
		"/admin":           {workostest.AliceEmail},
		"/acme":            {workostest.AliceEmail, workostest.BobEmail},
		"/custom":          {workostest.HankEmail},
		"/eng":             {workostest.AliceEmail, workostest.BobEmail},
		"/acme-members":    {workostest.BobEmail},
		"/execs-or-admins": {workostest.AliceEmail, workostest.HankEmail},
	}
	for path, who := range allowed {
		for email, b := range users {
			t.Run(path+" "+email, func(t *testing.T) {
				in := false
				for _, w := range who {
					in = in || w == email
				}
				nav := b.get(path)
				api := b.apiGet(path)
				if in {
					if nav.StatusCode != http.StatusOK || nav.body != "welcome "+email || api.StatusCode != http.StatusOK {
						t.Fatalf("got %d %q (API %d), want 200 welcome", nav.StatusCode, nav.body, api.StatusCode)
					}
					return
				}
				if nav.StatusCode != http.StatusForbidden {
					t.Fatalf("navigation: got %d %q, want 403", nav.StatusCode, nav.body)
				}
				for _, want := range []string{"signed in as <strong>" + email + "</strong>", `action="/logout"`, `href="/"`, "No access"} {
					if !strings.Contains(nav.body, want) {
						t.Errorf("403 page lacks %q:\n%s", want, nav.body)
					}
				}
				if ct := nav.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" || nav.Header.Get("Cache-Control") != "no-store" || nav.Header.Get("Content-Security-Policy") == "" {
					t.Errorf("403 page headers %v", nav.Header)
				}
				var body struct{ Error, Message string }
				if api.StatusCode != http.StatusForbidden || json.Unmarshal([]byte(api.body), &body) != nil || body.Error != "forbidden" || body.Message == "" {
					t.Errorf("API: got %d %q, want 403 with error forbidden", api.StatusCode, api.body)
				}
				if api.Header.Get("Content-Type") != "application/json" {
					t.Errorf("API Content-Type %q", api.Header.Get("Content-Type"))
				}
			})
		}
	}

	t.Run("signed out", func(t *testing.T) {
		b := f.newBrowser()
		for _, path := range []string{"/admin", "/acme", "/custom", "/execs-or-admins"} {
			if r := b.get(path); r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/login?return_to=") {
				t.Errorf("%s: got %d to %q, want 302 to sign in", path, r.StatusCode, r.Header.Get("Location"))
			}
			if r := b.apiGet(path); r.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s API: got %d, want 401", path, r.StatusCode)
			}
		}
	})

	logs := f.logs.String()
	bob := workostest.ProfileID(workostest.AcmeConnectionID, workostest.BobEmail)
	if !strings.Contains(logs, `msg="ssogate: access refused" profile_id=`+bob+" gate=role path=/admin") {
		t.Errorf("no debug line for bob's refusal at /admin:\n%s", logs)
	}
	for _, b := range users {
		b.wantNoSecrets()
	}
}

// TestAuthorizationGateValues checks the gates on profiles the emulator
// does not make: several roles, no role, mixed case.
func TestAuthorizationGateValues(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		gate func(http.Handler) http.Handler
		p    Profile
		want int
	}{
		{"role among roles", g.RequireRole("org_acme", "billing"), Profile{OrganizationID: "org_acme", Roles: []workos.Role{{Slug: "member"}, {Slug: "billing"}}}, 200},
		{"role is case-sensitive", g.RequireRole("org_acme", "admin"), Profile{OrganizationID: "org_acme", Role: &workos.Role{Slug: "Admin"}}, 403},
		{"no role", g.RequireRole("org_acme", "admin"), Profile{OrganizationID: "org_acme"}, 403},
		{"role of another organization", g.RequireRole("org_acme", "admin"), Profile{OrganizationID: "org_globex", Role: &workos.Role{Slug: "admin"}}, 403},
		{"role without an organization", g.RequireRole("org_acme", "admin"), Profile{Role: &workos.Role{Slug: "admin"}}, 403},
		{"role of any organization", g.RequireRole(AnyOrganization, "admin"), Profile{OrganizationID: "org_globex", Role: &workos.Role{Slug: "admin"}}, 200},
		{"group is case-sensitive", g.RequireGroup("org_acme", "Engineering"), Profile{OrganizationID: "org_acme", Groups: []string{"engineering"}}, 403},
		{"group exactly", g.RequireGroup("org_acme", "Eng Team"), Profile{OrganizationID: "org_acme", Groups: []string{"x", "Eng Team"}}, 200},
		{"group of another organization", g.RequireGroup("org_acme", "Eng Team"), Profile{OrganizationID: "org_acmex", Groups: []string{"Eng Team"}}, 403},
		{"group of any organization", g.RequireGroup(AnyOrganization, "Eng Team"), Profile{OrganizationID: "org_acmex", Groups: []string{"Eng Team"}}, 200},
		{"no organization", g.RequireOrganization("org_acme"), Profile{}, 403},
		{"organization prefix only", g.RequireOrganization("org_acme"), Profile{OrganizationID: "org_acmex"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.ID = "prof_x"
			h := tt.gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r = r.WithContext(context.WithValue(r.Context(), contextKey{}, &Session{Profile: tt.p, owner: g.sessions}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Errorf("got %d, want %d", rec.Code, tt.want)
			}
		})
	}
}

func TestAuthorizationGateConfig(t *testing.T) {
	g, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, field string
		make        func()
	}{
		{"no organizations", "RequireOrganization", func() { g.RequireOrganization() }},
		{"organization not an id", "RequireOrganization", func() { g.RequireOrganization("acme") }},
		{"no roles", "RequireRole", func() { g.RequireRole("org_acme") }},
		{"empty role", "RequireRole", func() { g.RequireRole("org_acme", "admin", "") }},
		{"role without an organization", "RequireRole", func() { g.RequireRole("admin") }},
		{"role with a malformed organization", "RequireRole", func() { g.RequireRole("acme", "admin") }},
		{"no groups", "RequireGroup", func() { g.RequireGroup(AnyOrganization) }},
		{"group without an organization", "RequireGroup", func() { g.RequireGroup("finance") }},
		{"no predicate", "RequireProfile", func() { g.RequireProfile("x", nil) }},
		{"no name", "RequireProfile", func() { g.RequireProfile("", func(*Profile) bool { return true }) }},
		{"no max age", "RequireRecentLogin", func() { g.RequireRecentLogin(0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				err, _ := recover().(error)
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Field != tt.field || !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("got panic %v, want a *ConfigError for %s", err, tt.field)
				}
			}()
			tt.make()
		})
	}
}

// TestRoleGatesAreScopedToTheirOrganization checks that the roles and
// groups that one customer's identity provider asserts do not open another
// organization's gates: before the gates took an organization, a Globex
// user whom Globex's IT made "admin" in group "finance" passed an app's
// RequireRole("admin") and RequireGroup("finance") written for Acme's
// staff.
func TestRoleGatesAreScopedToTheirOrganization(t *testing.T) {
	f := newFlow(t, nil)
	const mallory = "mallory@globex.com"
	if err := f.idp.AddUser(workostest.User{Email: mallory, ConnectionID: workostest.GlobexConnectionID,
		Role: "admin", Groups: []string{"finance"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.idp.AddUser(workostest.User{Email: "fiona@acme.com", ConnectionID: workostest.AcmeConnectionID,
		Role: "member", Groups: []string{"finance"}}); err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "console") })
	g := f.gate
	mux := http.NewServeMux()
	mux.Handle("/", f.handler(g))
	mux.Handle("/staff/admin", g.RequireRole(workostest.AcmeOrganizationID, "admin")(ok))
	mux.Handle("/staff/finance", g.RequireGroup(workostest.AcmeOrganizationID, "finance")(ok))
	mux.Handle("/settings", g.RequireRole(AnyOrganization, "admin")(ok))
	f.app.Config.Handler = mux

	m := f.newBrowser()
	m.signInAs(mallory, "organization="+workostest.GlobexOrganizationID)
	for _, path := range []string{"/staff/admin", "/staff/finance"} {
		if r := m.get(path); r.StatusCode != http.StatusForbidden {
			t.Errorf("Globex admin at %s: got %d %q, want 403", path, r.StatusCode, r.body)
		}
	}
	// A route scoped to the user's own organization takes any tenant's admins.
	if r := m.get("/settings"); r.StatusCode != http.StatusOK {
		t.Errorf("Globex admin at /settings: got %d, want 200", r.StatusCode)
	}

	a := f.newBrowser()
	a.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
	if r := a.get("/staff/admin"); r.StatusCode != http.StatusOK {
		t.Errorf("Acme admin at /staff/admin: got %d, want 200", r.StatusCode)
	}
	fi := f.newBrowser()
	fi.signInAs("fiona@acme.com", "organization="+workostest.AcmeOrganizationID)
	if r := fi.get("/staff/finance"); r.StatusCode != http.StatusOK {
		t.Errorf("Acme finance at /staff/finance: got %d, want 200", r.StatusCode)
	}
}

// TestGateTrustsOnlyItsOwnSessions runs two Middlewares in one app, one for
// customers and one for staff, each with its own cookie and secret. A
// customer's session in the request context must not open a staff gate:
// before gates checked whose session it was, a customer admin reached the
// staff console with no staff cookie at all.
func TestGateTrustsOnlyItsOwnSessions(t *testing.T) {
	f := newFlow(t, nil)
	customer := f.gate
	staff := f.newGate(func(c *Config) {
		c.CookieName = "staff"
		c.CookieSecrets = [][]byte{flowRotatedSecret}
		c.LoginPath = "/staff/login"
		c.LogoutPath = "/staff/logout"
		c.RedirectURI = f.app.URL + "/staff/callback"
	})
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "staff console") })
	mux := http.NewServeMux()
	mux.Handle("/", f.handler(customer))
	staff.Mount(mux)
	isAdmin := func(p *Profile) bool { return p.Role != nil && p.Role.Slug == "admin" }
	mux.Handle("/staff/console", customer.RequireSSO(staff.RequireProfile("admin", isAdmin)(console)))
	mux.Handle("/staff/org", customer.RequireSSO(staff.RequireOrganization(workostest.AcmeOrganizationID)(console)))
	mux.Handle("/staff/role", customer.RequireSSO(staff.RequireRole(workostest.AcmeOrganizationID, "admin")(console)))
	mux.Handle("/staff/recent", customer.RequireSSO(staff.RequireRecentLogin(time.Hour)(console)))
	f.app.Config.Handler = mux

	f.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID) // an admin, as a customer
	for _, path := range []string{"/staff/console", "/staff/org", "/staff/role", "/staff/recent"} {
		r := f.get(path)
		if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/staff/login?") {
			t.Errorf("%s with only a customer session: got %d %q to %q, want 302 to the staff login", path, r.StatusCode, r.body, r.Header.Get("Location"))
		}
		if r := f.apiGet(path); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s API with only a customer session: got %d, want 401", path, r.StatusCode)
		}
	}
}

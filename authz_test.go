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
	mux.Handle("/admin", g.RequireRole("admin")(ok))
	mux.Handle("/acme", g.RequireOrganization(workostest.AcmeOrganizationID)(ok))
	mux.Handle("/custom", g.RequireProfile("globex email", func(p *Profile) bool {
		return strings.HasSuffix(p.Email, "@globex.com")
	})(ok))
	// After RequireSSO, as r.Use(gate.RequireSSO, gate.RequireGroup(...)).
	mux.Handle("/eng", g.RequireSSO(g.RequireGroup("engineering")(ok)))
	// Two gates: both must let the user through.
	mux.Handle("/acme-members", g.RequireSSO(g.RequireOrganization(workostest.AcmeOrganizationID)(g.RequireRole("member")(ok))))
	// Any of the values listed lets the user through.
	mux.Handle("/execs-or-admins", g.RequireGroup("executives", "admins")(ok))
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
		{"role among roles", g.RequireRole("billing"), Profile{Roles: []Role{{"member"}, {"billing"}}}, 200},
		{"role is case-sensitive", g.RequireRole("admin"), Profile{Role: &Role{"Admin"}}, 403},
		{"no role", g.RequireRole("admin"), Profile{}, 403},
		{"group is case-sensitive", g.RequireGroup("Engineering"), Profile{Groups: []string{"engineering"}}, 403},
		{"group exactly", g.RequireGroup("Eng Team"), Profile{Groups: []string{"x", "Eng Team"}}, 200},
		{"no organization", g.RequireOrganization("org_acme"), Profile{}, 403},
		{"organization prefix only", g.RequireOrganization("org_acme"), Profile{OrganizationID: "org_acmex"}, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.ID = "prof_x"
			h := tt.gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			r := httptest.NewRequest(http.MethodGet, "/x", nil)
			r = r.WithContext(context.WithValue(r.Context(), contextKey{}, &Session{Profile: tt.p}))
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
		{"no roles", "RequireRole", func() { g.RequireRole() }},
		{"empty role", "RequireRole", func() { g.RequireRole("admin", "") }},
		{"no groups", "RequireGroup", func() { g.RequireGroup() }},
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

package ssogate

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ssogate/ssogate/workostest"
)

// TestPagesLeadSomewhere checks that each of ssogate's own pages offers the
// next step, with the app's after-login path as home.
func TestPagesLeadSomewhere(t *testing.T) {
	const home = `href="/dashboard"`
	f := newFlow(t, nil, func(c *Config) { c.AfterLoginPath = "/dashboard" })
	if err := f.idp.AddConnection(workostest.Connection{
		ID: "conn_acme_entra", OrganizationID: workostest.AcmeOrganizationID, Name: "Acme Entra", Type: "EntraIdOIDC", State: "active",
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		do     func() resp
		status int
		want   []string
	}{
		{"not set up, from an email", func() resp { return f.get("/login?email=pat@unknown.example&return_to=/app") }, http.StatusNotFound,
			[]string{"not set up", `<a href="/login?return_to=%2Fapp">Try another email</a>`, home}},
		{"not set up, from an organization", func() resp { return f.get("/login?organization=org_nowhere") }, http.StatusNotFound,
			[]string{"not set up", `<a href="/login">Try another email</a>`, home}},
		{"an expired sign-in", func() resp { return f.get("/callback?code=x&state=" + strings.Repeat("s", 43)) }, http.StatusBadRequest,
			[]string{"expired", `<a href="/login">Sign in again</a>`, home}},
		{"the email form", func() resp { return f.get("/login") }, http.StatusOK,
			[]string{`<label for="email">Work email</label>`, "autofocus", home}},
		{"the email form with a problem", func() resp { return f.get("/login?email=not-an-email") }, http.StatusBadRequest,
			[]string{`role="alert" id="problem"`, `aria-invalid="true" aria-describedby="problem"`, home}},
		{"the chooser", func() resp { return f.get("/login?organization=" + workostest.AcmeOrganizationID + "&return_to=/app") }, http.StatusOK,
			[]string{"Acme Entra", `<a class="secondary" href="/login?return_to=%2Fapp">Use another email</a>`, home}},
		{"the sign-out confirmation", func() resp { return f.get("/logout", "Sec-Fetch-Site", "cross-site") }, http.StatusOK,
			[]string{`<button type="submit" autofocus>Sign out</button>`, `Stay signed in`, home}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.do()
			if r.StatusCode != tt.status {
				t.Fatalf("got %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("the page lacks %s:\n%s", w, r.body)
				}
			}
			if !strings.Contains(r.body, "<main>") || !strings.Contains(r.body, `<html lang="en">`) {
				t.Errorf("the page has no main landmark or language:\n%s", r.body)
			}
		})
	}

	t.Run("no email form to go back to", func(t *testing.T) {
		g := newFlow(t, nil, func(c *Config) { c.DefaultOrganization = workostest.GlobexOrganizationID })
		r := g.get("/login?organization=org_nowhere")
		if r.StatusCode != http.StatusNotFound || strings.Contains(r.body, "Try another email") || !strings.Contains(r.body, `href="/"`) {
			t.Errorf("got %d %q, want 404 with a home link and no email link", r.StatusCode, r.body)
		}
	})
}

package workostest

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuthorizeRejectsWithoutRedirect(t *testing.T) {
	s := newTestServer(t, WithRedirectURIs(testRedirect))
	tests := []struct {
		name     string
		kv       []string
		wantCode string
	}{
		{"unknown client", []string{"client_id", "client_other"}, "invalid_client"},
		{"missing client", []string{"client_id", "-"}, "invalid_client"},
		{"missing redirect", []string{"redirect_uri", "-"}, "invalid_redirect_uri"},
		{"relative redirect", []string{"redirect_uri", "/callback"}, "invalid_redirect_uri"},
		{"javascript redirect", []string{"redirect_uri", "javascript:alert(1)"}, "invalid_redirect_uri"},
		{"unregistered redirect", []string{"redirect_uri", "http://evil.test/callback"}, "invalid_redirect_uri"},
		{"redirect with extra slash", []string{"redirect_uri", testRedirect + "/"}, "invalid_redirect_uri"},
		{"response type token", []string{"response_type", "token", "connection", AcmeConnectionID}, "unsupported_response_type"},
		{"plain pkce", []string{"code_challenge", "abc", "code_challenge_method", "plain", "connection", AcmeConnectionID}, "invalid_request"},
		{"method without challenge", []string{"code_challenge_method", "S256", "connection", AcmeConnectionID}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, s, authorizeURL(s, tt.kv...))
			if r.status != http.StatusBadRequest {
				t.Fatalf("got status %d, want 400", r.status)
			}
			if loc := r.header.Get("Location"); loc != "" {
				t.Errorf("got Location %q, want none", loc)
			}
			var body struct{ Error string }
			decode(t, r.body, &body)
			if body.Error != tt.wantCode {
				t.Errorf("got error %q, want %q", body.Error, tt.wantCode)
			}
		})
	}
}

func TestAuthorizeErrorPageForBrowsers(t *testing.T) {
	s := newTestServer(t)
	req, _ := http.NewRequest(http.MethodGet, authorizeURL(s, "redirect_uri", "ftp://x/<b>"), nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	r := do(t, noRedirect(s), req)
	if r.status != http.StatusBadRequest {
		t.Fatalf("got status %d, want 400", r.status)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("got Content-Type %q, want text/html", ct)
	}
	if !strings.Contains(r.body, "invalid_redirect_uri") {
		t.Errorf("page does not name the error: %s", r.body)
	}
}

func TestAuthorizeSelectorErrors(t *testing.T) {
	s := newTestServer(t)
	if err := s.AddConnection(Connection{ID: "conn_acme_second", OrganizationID: AcmeOrganizationID, Type: "GenericSAML"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddConnection(Connection{ID: "conn_github_1", Type: "GitHubOAuth"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddConnection(Connection{ID: "conn_github_2", Type: "GitHubOAuth"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		kv        []string
		wantError string
	}{
		{"no selector", nil, "invalid_connection_selector"},
		{"connection_id is not a selector", []string{"connection_id", AcmeConnectionID}, "invalid_connection_selector"},
		{"organization_id is not a selector", []string{"organization_id", AcmeOrganizationID}, "invalid_connection_selector"},
		{"connection and organization", []string{"connection", AcmeConnectionID, "organization", AcmeOrganizationID}, "ambiguous_connection_selector"},
		{"connection and provider", []string{"connection", AcmeConnectionID, "provider", "GoogleOAuth"}, "ambiguous_connection_selector"},
		{"unknown connection", []string{"connection", "conn_nope"}, "connection_invalid"},
		{"inactive connection", []string{"connection", InitechConnectionID}, "connection_unlinked"},
		{"unknown organization", []string{"organization", "org_nope"}, "organization_invalid"},
		{"organization without active connection", []string{"organization", InitechOrganizationID}, "connection_invalid"},
		{"organization with two active connections", []string{"organization", AcmeOrganizationID}, "ambiguous_connection_selector"},
		{"unknown provider", []string{"provider", "MySpaceOAuth"}, "invalid_connection_selector"},
		{"provider without connection", []string{"provider", "AppleOAuth"}, "connection_invalid"},
		{"provider with two connections", []string{"provider", "GitHubOAuth"}, "connection_strategy_invalid"},
		{"domain and connection", []string{"domain", "acme.com", "connection", AcmeConnectionID}, "ambiguous_connection_selector"},
		{"domain nobody claims", []string{"domain", "nowhere.example"}, "connection_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := location(t, get(t, s, authorizeURL(s, tt.kv...)))
			if got := u.Scheme + "://" + u.Host + u.Path; got != testRedirect {
				t.Errorf("got redirect to %q, want %q", got, testRedirect)
			}
			q := u.Query()
			if got := q.Get("error"); got != tt.wantError {
				t.Errorf("got error %q, want %q (%s)", got, tt.wantError, q.Get("error_description"))
			}
			if q.Get("error_description") == "" {
				t.Error("got no error_description")
			}
			if got := q.Get("state"); got != "st-123" {
				t.Errorf("got state %q, want st-123", got)
			}
			if q.Has("code") {
				t.Error("got a code with an error")
			}
		})
	}
}

func TestAuthorizeKeepsRedirectQueryAndOmitsAbsentState(t *testing.T) {
	s := newTestServer(t, WithAutoSignIn(AliceEmail))
	u := location(t, get(t, s, authorizeURL(s, "redirect_uri", "https://app.test/cb?tenant=a", "state", "-", "connection", AcmeConnectionID)))
	q := u.Query()
	if got := q.Get("tenant"); got != "a" {
		t.Errorf("got tenant %q, want a", got)
	}
	if q.Has("state") {
		t.Errorf("got state %q, want none", q.Get("state"))
	}
	if q.Get("code") == "" {
		t.Error("got no code")
	}
}

// signInPage fetches the hosted page for the selector and returns its body.
func signInPageBody(t *testing.T, s *Server, kv ...string) string {
	t.Helper()
	r := get(t, s, authorizeURL(s, kv...))
	if r.status != http.StatusOK {
		t.Fatalf("got status %d, want 200; body %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("got Content-Type %q, want text/html", ct)
	}
	return r.body
}

func TestSignInPageListsUsers(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name      string
		kv        []string
		want      []string
		wantNotIn []string
	}{
		{"acme by connection", []string{"connection", AcmeConnectionID}, []string{AliceEmail, BobEmail, "Sign in with Okta", "Acme"}, []string{HankEmail, CarolEmail}},
		{"globex by organization", []string{"organization", GlobexOrganizationID}, []string{HankEmail, "Globex"}, []string{AliceEmail}},
		{"google by provider", []string{"provider", "GoogleOAuth"}, []string{CarolEmail, "Sign in with Google"}, []string{AliceEmail}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := signInPageBody(t, s, tt.kv...)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page does not contain %q", w)
				}
			}
			for _, w := range tt.wantNotIn {
				if strings.Contains(body, w) {
					t.Errorf("page contains %q", w)
				}
			}
		})
	}
}

func TestSignInPageEscapes(t *testing.T) {
	s := newTestServer(t, WithSeed(Seed{
		Organizations: []Organization{{ID: "org_x", Name: `<script>alert("org")</script>`}},
		Connections:   []Connection{{ID: "conn_x", OrganizationID: "org_x", Type: "GenericSAML"}},
		Users:         []User{{Email: `"><img src=x>@x.test`, FirstName: "<b>Eve</b>", ConnectionID: "conn_x"}},
	}))
	body := signInPageBody(t, s, "connection", "conn_x")
	for _, bad := range []string{"<script>", "<b>Eve", "<img"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(body, "&lt;b&gt;Eve&lt;/b&gt;") {
		t.Error("page does not contain the escaped name")
	}
}

func TestSignInPageLoginHint(t *testing.T) {
	s := newTestServer(t)
	body := signInPageBody(t, s, "connection", AcmeConnectionID, "login_hint", "BOB@acme.com")
	i := strings.Index(body, `value="`+BobEmail+`" autofocus`)
	if i < 0 {
		t.Fatalf("bob's button is not preselected")
	}
	if !strings.Contains(body[:i], `class="user hint"`) {
		t.Error("bob's button is not highlighted")
	}
	if strings.Count(body, "autofocus") != 1 {
		t.Errorf("got %d autofocus, want 1", strings.Count(body, "autofocus"))
	}
}

// pendingID extracts the pending request id from a sign-in page.
func pendingID(t *testing.T, body string) string {
	t.Helper()
	const marker = `name="request" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatal("page has no request id")
	}
	rest := body[i+len(marker):]
	return html.UnescapeString(rest[:strings.Index(rest, `"`)])
}

func completeForm(t *testing.T, s *Server, form url.Values) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/sso/authorize/complete", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, noRedirect(s), req)
}

func TestSignInPageComplete(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name      string
		form      url.Values
		wantError string
	}{
		{"choose bob", url.Values{"email": {BobEmail}}, ""},
		{"cancel", url.Values{"action": {"cancel"}}, "access_denied"},
		{"user of another connection", url.Values{"email": {HankEmail}}, "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := pendingID(t, signInPageBody(t, s, "connection", AcmeConnectionID))
			tt.form.Set("request", id)
			u := location(t, completeForm(t, s, tt.form))
			q := u.Query()
			if got := q.Get("state"); got != "st-123" {
				t.Errorf("got state %q, want st-123", got)
			}
			if got := q.Get("error"); got != tt.wantError {
				t.Errorf("got error %q, want %q", got, tt.wantError)
			}
			if tt.wantError == "" {
				p := exchange(t, s, q.Get("code"), "")
				if p.Email != BobEmail {
					t.Errorf("got email %q, want %q", p.Email, BobEmail)
				}
			}
			// The pending request is single use.
			if r := completeForm(t, s, tt.form); r.status != http.StatusBadRequest {
				t.Errorf("reusing the request: got status %d, want 400", r.status)
			}
		})
	}
}

func TestSignInPageExpires(t *testing.T) {
	s := newTestServer(t)
	id := pendingID(t, signInPageBody(t, s, "connection", AcmeConnectionID))
	s.Advance(codeTTL)
	r := completeForm(t, s, url.Values{"request": {id}, "email": {AliceEmail}})
	if r.status != http.StatusBadRequest {
		t.Errorf("got status %d, want 400", r.status)
	}
}

func TestAutoSignIn(t *testing.T) {
	s := newTestServer(t, WithAutoSignIn(HankEmail))
	u := location(t, get(t, s, authorizeURL(s, "organization", GlobexOrganizationID)))
	if got := u.Query().Get("state"); got != "st-123" {
		t.Errorf("got state %q, want st-123", got)
	}
	p := exchange(t, s, u.Query().Get("code"), "")
	if p.Email != HankEmail || p.ConnectionID != GlobexConnectionID {
		t.Errorf("got %s via %s, want %s via %s", p.Email, p.ConnectionID, HankEmail, GlobexConnectionID)
	}

	// A user who is not on the selected connection is denied.
	u = location(t, get(t, s, authorizeURL(s, "connection", AcmeConnectionID)))
	if got := u.Query().Get("error"); got != "access_denied" {
		t.Errorf("got error %q, want access_denied", got)
	}

	// "" shows the page again.
	s.SetAutoSignIn("")
	signInPageBody(t, s, "connection", AcmeConnectionID)
}

// TestAuthorizeDomainSelector uses the deprecated domain selector, which
// WorkOS still takes: it signs in through the connection of the domain.
func TestAuthorizeDomainSelector(t *testing.T) {
	s := newTestServer(t)
	code := login(t, s, HankEmail, "domain", "Globex.com")
	f := tokenRequestForm(s, code, "")
	r := postToken(t, s, f, false)
	var tok struct {
		Profile struct {
			ConnectionID string `json:"connection_id"`
		}
	}
	decode(t, r.body, &tok)
	if r.status != http.StatusOK || tok.Profile.ConnectionID != GlobexConnectionID {
		t.Errorf("domain=Globex.com: got %d %s, want a profile of %s", r.status, r.body, GlobexConnectionID)
	}
}

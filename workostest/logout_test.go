package workostest

import (
	"net/http"
	"strings"
	"testing"
)

func TestLogoutAuthorize(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantError  string
	}{
		{"oidc user", `{"profile_id":"` + ProfileID(GlobexConnectionID, HankEmail) + `"}`, 200, ""},
		{"saml user", `{"profile_id":"` + ProfileID(AcmeConnectionID, AliceEmail) + `"}`, 400, "connection_invalid"},
		{"oauth user", `{"profile_id":"` + ProfileID(GoogleConnectionID, CarolEmail) + `"}`, 400, "connection_invalid"},
		{"unknown profile", `{"profile_id":"prof_nope"}`, 404, ""},
		{"no profile", `{}`, 400, "connection_invalid"}, // the spec's 400, not a 422
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := api(t, s, http.MethodPost, "/sso/logout/authorize", tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("got status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			if tt.wantError != "" {
				wantOAuthError(t, r, tt.wantStatus, tt.wantError)
			}
			if tt.wantStatus != 200 {
				return
			}
			var out struct {
				LogoutURL   string `json:"logout_url"`
				LogoutToken string `json:"logout_token"`
			}
			decode(t, r.body, &out)
			if want := s.URL + "/sso/logout?token=" + out.LogoutToken; out.LogoutToken == "" || out.LogoutURL != want {
				t.Errorf("got logout_url %q token %q, want %q", out.LogoutURL, out.LogoutToken, want)
			}
			page := get(t, s, out.LogoutURL)
			if page.status != 200 || !strings.Contains(page.body, "signed out") {
				t.Errorf("got %d %s, want the signed-out page", page.status, page.body)
			}
			// A spent, unknown or missing token: the spec's 404 and message.
			for _, u := range []string{out.LogoutURL, s.URL + "/sso/logout?token=nope", s.URL + "/sso/logout"} {
				if again := get(t, s, u); again.status != 404 || !strings.Contains(again.body, `"message"`) {
					t.Errorf("%s: got %d %s, want 404 with a message", u, again.status, again.body)
				}
			}
		})
	}
}

func TestLogoutRedirect(t *testing.T) {
	s := newTestServer(t, WithLogoutRedirect("http://app.test/signed-out"))
	r := api(t, s, http.MethodPost, "/sso/logout/authorize", `{"profile_id":"`+ProfileID(GlobexConnectionID, HankEmail)+`"}`)
	var out struct {
		LogoutURL string `json:"logout_url"`
	}
	decode(t, r.body, &out)
	if got := location(t, get(t, s, out.LogoutURL)).String(); got != "http://app.test/signed-out" {
		t.Errorf("got redirect to %q, want http://app.test/signed-out", got)
	}
}

func TestLogoutAuthorizeNeedsAPIKey(t *testing.T) {
	s := newTestServer(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/sso/logout/authorize", strings.NewReader(`{"profile_id":"x"}`))
	if r := do(t, noRedirect(s), req); r.status != http.StatusUnauthorized {
		t.Errorf("got status %d, want 401", r.status)
	}
}

package workostest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wireProfile is the test's own reading of a profile.
type wireProfile struct {
	Object           string                  `json:"object"`
	ID               string                  `json:"id"`
	OrganizationID   *string                 `json:"organization_id"`
	ConnectionID     string                  `json:"connection_id"`
	ConnectionType   string                  `json:"connection_type"`
	IdPID            string                  `json:"idp_id"`
	Email            string                  `json:"email"`
	FirstName        *string                 `json:"first_name"`
	LastName         *string                 `json:"last_name"`
	Name             *string                 `json:"name"`
	Role             *struct{ Slug string }  `json:"role"`
	Roles            []struct{ Slug string } `json:"roles"`
	Groups           []string                `json:"groups"`
	CustomAttributes map[string]any          `json:"custom_attributes"`
	RawAttributes    map[string]any          `json:"raw_attributes"`
}

type wireToken struct {
	TokenType   string      `json:"token_type"`
	AccessToken string      `json:"access_token"`
	ExpiresIn   int         `json:"expires_in"`
	Profile     wireProfile `json:"profile"`
}

func tokenRequestForm(s *Server, code, verifier string) url.Values {
	f := url.Values{
		"client_id":     {s.ClientID},
		"client_secret": {s.APIKey},
		"grant_type":    {"authorization_code"},
		"code":          {code},
	}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

func postToken(t *testing.T, s *Server, form url.Values, asJSON bool) response {
	t.Helper()
	var body, ct string
	if asJSON {
		m := map[string]string{}
		for k := range form {
			m[k] = form.Get(k)
		}
		b, _ := json.Marshal(m)
		body, ct = string(b), "application/json"
	} else {
		body, ct = form.Encode(), "application/x-www-form-urlencoded"
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/sso/token", strings.NewReader(body))
	req.Header.Set("Content-Type", ct)
	return do(t, noRedirect(s), req)
}

// exchangeToken exchanges code and returns the whole token response.
func exchangeToken(t *testing.T, s *Server, code, verifier string) wireToken {
	t.Helper()
	r := postToken(t, s, tokenRequestForm(s, code, verifier), false)
	if r.status != http.StatusOK {
		t.Fatalf("exchange: got status %d, want 200; body %s", r.status, r.body)
	}
	var tok wireToken
	decode(t, r.body, &tok)
	return tok
}

func exchange(t *testing.T, s *Server, code, verifier string) wireProfile {
	t.Helper()
	return exchangeToken(t, s, code, verifier).Profile
}

func wantOAuthError(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("got status %d, want %d; body %s", r.status, status, r.body)
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	decode(t, r.body, &body)
	if body.Error != code {
		t.Errorf("got error %q, want %q", body.Error, code)
	}
	if body.Description == "" {
		t.Error("got no error_description")
	}
}

func TestTokenExchangeProfile(t *testing.T) {
	s := newTestServer(t)
	for _, asJSON := range []bool{false, true} {
		name := map[bool]string{false: "form", true: "json"}[asJSON]
		t.Run(name, func(t *testing.T) {
			code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
			r := postToken(t, s, tokenRequestForm(s, code, ""), asJSON)
			if r.status != http.StatusOK {
				t.Fatalf("got status %d, want 200; body %s", r.status, r.body)
			}
			var tok wireToken
			decode(t, r.body, &tok)
			if tok.TokenType != "Bearer" || tok.ExpiresIn != 600 || tok.AccessToken == "" {
				t.Errorf("got token_type %q expires_in %d access_token %q, want Bearer 600 non-empty", tok.TokenType, tok.ExpiresIn, tok.AccessToken)
			}
			p := tok.Profile
			org := AcmeOrganizationID
			first, last, full := "Alice", "Anderson", "Alice Anderson"
			want := wireProfile{
				Object: "profile", ID: ProfileID(AcmeConnectionID, AliceEmail), OrganizationID: &org,
				ConnectionID: AcmeConnectionID, ConnectionType: "OktaSAML", IdPID: p.IdPID, Email: AliceEmail,
				FirstName: &first, LastName: &last, Name: &full,
				Role: &struct{ Slug string }{"admin"}, Roles: []struct{ Slug string }{{"admin"}},
				Groups:           []string{"engineering", "admins"},
				CustomAttributes: map[string]any{"department": "Engineering"},
				RawAttributes:    map[string]any{},
			}
			if !reflect.DeepEqual(p, want) {
				t.Errorf("got profile %+v, want %+v", p, want)
			}
			if p.IdPID == "" {
				t.Error("got empty idp_id")
			}
		})
	}
}

func TestTokenProfileNulls(t *testing.T) {
	s := newTestServer(t)
	r := postToken(t, s, tokenRequestForm(s, login(t, s, CarolEmail, "provider", "GoogleOAuth"), ""), false)
	var raw struct {
		Profile map[string]json.RawMessage `json:"profile"`
	}
	decode(t, r.body, &raw)
	tests := []struct {
		name, field, want string
	}{
		{"no organization", "organization_id", "null"},
		{"no role", "role", "null"},
		{"no roles", "roles", "null"},
		{"groups empty", "groups", "[]"},
		{"custom attributes empty", "custom_attributes", "{}"},
		{"raw attributes empty", "raw_attributes", "{}"},
		{"type", "connection_type", `"GoogleOAuth"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(raw.Profile[tt.field]); got != tt.want {
				t.Errorf("got %s %s, want %s", tt.field, got, tt.want)
			}
		})
	}
}

// TestTokenErrors checks the exchange's errors as WorkOS's OpenAPI spec
// gives them: 400 with one of its four codes (a wrong client ID or secret
// is 400 invalid_client: the spec documents no 401 there).
func TestTokenErrors(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name       string
		mutate     func(url.Values)
		asJSON     bool
		wantStatus int
		wantError  string
	}{
		{"wrong secret", func(f url.Values) { f.Set("client_secret", "sk_wrong") }, false, 400, "invalid_client"},
		{"wrong secret json", func(f url.Values) { f.Set("client_secret", "sk_wrong") }, true, 400, "invalid_client"},
		{"wrong client", func(f url.Values) { f.Set("client_id", "client_other") }, false, 400, "invalid_client"},
		{"no secret", func(f url.Values) { f.Del("client_secret") }, false, 400, "invalid_client"},
		{"refresh grant", func(f url.Values) { f.Set("grant_type", "refresh_token") }, false, 400, "unsupported_grant_type"},
		{"unknown code", func(f url.Values) { f.Set("code", "nope") }, false, 400, "invalid_grant"},
		{"no code", func(f url.Values) { f.Del("code") }, true, 400, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tokenRequestForm(s, login(t, s, AliceEmail, "connection", AcmeConnectionID), "")
			tt.mutate(f)
			wantOAuthError(t, postToken(t, s, f, tt.asJSON), tt.wantStatus, tt.wantError)
		})
	}
}

func TestTokenCodeSingleUse(t *testing.T) {
	s := newTestServer(t)
	code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
	exchange(t, s, code, "")
	r := postToken(t, s, tokenRequestForm(s, code, ""), false)
	wantOAuthError(t, r, 400, "invalid_grant")
	if !strings.Contains(r.body, "The code has expired or has already been used.") {
		t.Errorf("got body %s, want the WorkOS description", r.body)
	}
}

func TestTokenCodeExpiry(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		wantOK  bool
	}{
		{"just in time", codeTTL - time.Second, true},
		{"at ten minutes", codeTTL, false},
		{"long after", time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
			s.Advance(tt.advance)
			r := postToken(t, s, tokenRequestForm(s, code, ""), false)
			if tt.wantOK {
				if r.status != http.StatusOK {
					t.Errorf("got status %d, want 200", r.status)
				}
				return
			}
			wantOAuthError(t, r, 400, "invalid_grant")
		})
	}
}

func TestTokenWithClock(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := newTestServer(t, WithClock(func() time.Time { return now }))
	if got := s.Now(); !got.Equal(now) {
		t.Fatalf("got Now %v, want %v", got, now)
	}
	code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
	s.Advance(11 * time.Minute)
	wantOAuthError(t, postToken(t, s, tokenRequestForm(s, code, ""), false), 400, "invalid_grant")
}

func TestTokenPKCE(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	tests := []struct {
		name      string
		challenge string
		method    string
		verifier  string
		wantOK    bool
	}{
		{"match", challengeOf(verifier), "S256", verifier, true},
		{"match without method", challengeOf(verifier), "-", verifier, true},
		{"mismatch", challengeOf(verifier), "S256", verifier + "x", false},
		{"missing verifier", challengeOf(verifier), "S256", "", false},
		{"challenge sent as verifier", challengeOf(verifier), "S256", challengeOf(verifier), false},
		{"no pkce", "-", "-", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			code := login(t, s, AliceEmail, "connection", AcmeConnectionID,
				"code_challenge", tt.challenge, "code_challenge_method", tt.method)
			r := postToken(t, s, tokenRequestForm(s, code, tt.verifier), true)
			if tt.wantOK {
				if r.status != http.StatusOK {
					t.Errorf("got status %d, want 200; body %s", r.status, r.body)
				}
				return
			}
			wantOAuthError(t, r, 400, "invalid_grant")
			// The failed attempt spent the code.
			wantOAuthError(t, postToken(t, s, tokenRequestForm(s, code, verifier), true), 400, "invalid_grant")
		})
	}
}

func TestProfileEndpoint(t *testing.T) {
	s := newTestServer(t)
	tok := exchangeToken(t, s, login(t, s, HankEmail, "connection", GlobexConnectionID), "")
	tests := []struct {
		name       string
		auth       string
		advance    time.Duration
		wantStatus int
	}{
		{"access token", "Bearer " + tok.AccessToken, 0, 200},
		{"api key", "Bearer " + s.APIKey, 0, 401},
		{"none", "", 0, 401},
		{"garbage", "Bearer nope", 0, 401},
		{"expired access token", "Bearer " + tok.AccessToken, accessTokenTTL, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Advance(tt.advance)
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/sso/profile", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			r := do(t, noRedirect(s), req)
			if r.status != tt.wantStatus {
				t.Fatalf("got status %d, want %d", r.status, tt.wantStatus)
			}
			if tt.wantStatus == 401 {
				if r.body != `{"error":"Unauthorized"}` {
					t.Errorf("got body %s, want {\"error\":\"Unauthorized\"}", r.body)
				}
				return
			}
			var p wireProfile
			decode(t, r.body, &p)
			if p.Email != HankEmail || p.ID != tok.Profile.ID {
				t.Errorf("got %s %s, want %s %s", p.Email, p.ID, HankEmail, tok.Profile.ID)
			}
		})
	}
}

// TestTokenCodeOfDeactivatedConnection pins what the emulator does with a
// code issued before its connection became inactive: it exchanges it, as
// nothing in WorkOS's API reference says otherwise. POST /sso/token lists
// only invalid_client, unauthorized_client, invalid_grant ("the code has
// expired or has already been used") and unsupported_grant_type, and the
// official SDKs pass the answer through. An app must therefore not count
// on WorkOS to refuse such a code: ssogate's callback refuses the sign-in
// itself when the connection was revoked while it was in progress.
func TestTokenCodeOfDeactivatedConnection(t *testing.T) {
	s := newTestServer(t)
	code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
	if err := s.SetConnectionState(AcmeConnectionID, "inactive"); err != nil {
		t.Fatal(err)
	}
	p := exchange(t, s, code, "")
	if p.ConnectionID != AcmeConnectionID || p.Email != AliceEmail {
		t.Errorf("got profile %+v, want alice's through %s", p, AcmeConnectionID)
	}
	// A new sign-in through the inactive connection is refused.
	if u := location(t, get(t, s, authorizeURL(s, "connection", AcmeConnectionID))); u.Query().Get("error") == "" {
		t.Errorf("authorize through an inactive connection: redirected to %s, want an error", u)
	}
}

package workos

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

// These tests run the Client against the workostest emulator over real
// HTTP. The two were written apart from each other, against the contract
// in workos-api.md, so agreement here is evidence that both follow it.

const emulatorRedirectURI = "https://app.example.com/callback"

// newEmulator starts an emulator that is closed when the test ends.
func newEmulator(t *testing.T, opts ...workostest.Option) *workostest.Server {
	t.Helper()
	srv := workostest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// newEmulatorClient returns a client of srv that authenticates with apiKey,
// records its waits instead of sleeping, and records every request it sends.
func newEmulatorClient(t *testing.T, srv *workostest.Server, apiKey string) (*Client, *waitRecorder, *requestRecorder) {
	t.Helper()
	rr := &requestRecorder{next: srv.Client().Transport}
	c, err := NewClient(ClientConfig{
		APIKey:     apiKey,
		ClientID:   srv.ClientID,
		BaseURL:    srv.URL,
		HTTPClient: &http.Client{Transport: rr},
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	w := &waitRecorder{}
	c.sleep = w.sleep
	c.randN = func(n int64) int64 { return n - 1 }
	return c, w, rr
}

// browser returns an HTTP client for srv that stops at each redirect.
func browser(srv *workostest.Server) *http.Client {
	hc := *srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// authorize builds the authorization URL for opts, follows it as a browser
// would and returns the query of the redirect back to the application.
func authorize(t *testing.T, srv *workostest.Server, c *Client, opts AuthorizationURLOptions) url.Values {
	t.Helper()
	if opts.RedirectURI == "" {
		opts.RedirectURI = emulatorRedirectURI
	}
	authURL, err := c.AuthorizationURL(opts)
	if err != nil {
		t.Fatalf("AuthorizationURL: %v", err)
	}
	resp, err := browser(srv).Get(authURL)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: got status %d, want %d", resp.StatusCode, http.StatusFound)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != opts.RedirectURI {
		t.Fatalf("authorize redirected to %q, want %q", got, opts.RedirectURI)
	}
	return loc.Query()
}

// signIn runs the browser side of a login with PKCE through the connection
// selected by opts and returns the code and the verifier.
func signIn(t *testing.T, srv *workostest.Server, c *Client, opts AuthorizationURLOptions) (code, verifier string) {
	t.Helper()
	verifier = NewPKCEVerifier()
	opts.CodeChallenge = PKCEChallenge(verifier)
	opts.State = "st"
	q := authorize(t, srv, c, opts)
	if q.Get("error") != "" {
		t.Fatalf("authorize: got error %q (%s), want a code", q.Get("error"), q.Get("error_description"))
	}
	code = q.Get("code")
	if code == "" {
		t.Fatal("authorize: got no code")
	}
	return code, verifier
}

// apiError returns err as an *APIError, failing the test if it is not one.
func apiError(t *testing.T, err error) *APIError {
	t.Helper()
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v (%T), want an *APIError", err, err)
	}
	return apiErr
}

// emulatedAliceProfile is the profile the default seed gives Alice.
func emulatedAliceProfile() Profile {
	return Profile{
		ID:               workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail),
		OrganizationID:   workostest.AcmeOrganizationID,
		ConnectionID:     workostest.AcmeConnectionID,
		ConnectionType:   OktaSAML,
		Email:            workostest.AliceEmail,
		FirstName:        "Alice",
		LastName:         "Anderson",
		Name:             "Alice Anderson",
		Role:             &Role{Slug: "admin"},
		Roles:            []Role{{Slug: "admin"}},
		Groups:           []string{"engineering", "admins"},
		CustomAttributes: map[string]any{"department": "Engineering"},
		RawAttributes:    map[string]any{},
	}
}

func carolProfile() Profile {
	return Profile{
		ID:               workostest.ProfileID(workostest.GoogleConnectionID, workostest.CarolEmail),
		ConnectionID:     workostest.GoogleConnectionID,
		ConnectionType:   ConnectionTypeGoogleOAuth,
		Email:            workostest.CarolEmail,
		FirstName:        "Carol",
		LastName:         "Chen",
		Name:             "Carol Chen",
		Groups:           []string{},
		CustomAttributes: map[string]any{},
		RawAttributes:    map[string]any{},
	}
}

func hankProfile() Profile {
	return Profile{
		ID:               workostest.ProfileID(workostest.GlobexConnectionID, workostest.HankEmail),
		OrganizationID:   workostest.GlobexOrganizationID,
		ConnectionID:     workostest.GlobexConnectionID,
		ConnectionType:   GenericOIDC,
		Email:            workostest.HankEmail,
		FirstName:        "Hank",
		LastName:         "Scorpio",
		Name:             "Hank Scorpio",
		Role:             &Role{Slug: "owner"},
		Roles:            []Role{{Slug: "owner"}},
		Groups:           []string{"executives"},
		CustomAttributes: map[string]any{},
		RawAttributes:    map[string]any{},
	}
}

// checkProfile compares got with want; the IdP id is only required to be set,
// since the emulator derives it.
func checkProfile(t *testing.T, got, want Profile) {
	t.Helper()
	if got.IdPID == "" {
		t.Error("IdPID: got empty, want the user's id at the identity provider")
	}
	want.IdPID = got.IdPID
	if !reflect.DeepEqual(got, want) {
		t.Errorf("profile:\ngot  %+v\nwant %+v", got, want)
	}
}

func TestEmulatorSignIn(t *testing.T) {
	tests := []struct {
		name  string
		email string
		opts  AuthorizationURLOptions
		want  Profile
	}{
		{
			name:  "organization",
			email: workostest.AliceEmail,
			opts:  AuthorizationURLOptions{OrganizationID: workostest.AcmeOrganizationID},
			want:  emulatedAliceProfile(),
		},
		{
			name:  "connection",
			email: workostest.AliceEmail,
			opts:  AuthorizationURLOptions{ConnectionID: workostest.AcmeConnectionID},
			want:  emulatedAliceProfile(),
		},
		{
			name:  "connection with every option",
			email: workostest.AliceEmail,
			opts: AuthorizationURLOptions{
				ConnectionID:        workostest.AcmeConnectionID,
				LoginHint:           workostest.AliceEmail,
				DomainHint:          "acme.com",
				ForceLogin:          true,
				Nonce:               "n-0S6_WzA2Mj",
				ProviderScopes:      []string{"openid", "email"},
				ProviderQueryParams: map[string]string{"hd": "acme.com"},
			},
			want: emulatedAliceProfile(),
		},
		{
			name:  "provider",
			email: workostest.CarolEmail,
			opts:  AuthorizationURLOptions{Provider: GoogleOAuth},
			want:  carolProfile(),
		},
		{
			name:  "oidc connection",
			email: workostest.HankEmail,
			opts:  AuthorizationURLOptions{ConnectionID: workostest.GlobexConnectionID},
			want:  hankProfile(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t, workostest.WithAutoSignIn(tt.email), workostest.WithRedirectURIs(emulatorRedirectURI))
			c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
			ctx := context.Background()

			verifier := NewPKCEVerifier()
			opts := tt.opts
			opts.RedirectURI = emulatorRedirectURI
			opts.State = "state with spaces & symbols/=?é"
			opts.CodeChallenge = PKCEChallenge(verifier)
			q := authorize(t, srv, c, opts)
			if got := q.Get("state"); got != opts.State {
				t.Errorf("state: got %q, want %q", got, opts.State)
			}
			if q.Get("error") != "" {
				t.Fatalf("authorize: got error %q (%s), want a code", q.Get("error"), q.Get("error_description"))
			}

			pt, err := c.ExchangeCode(ctx, q.Get("code"), verifier)
			if err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			checkProfile(t, pt.Profile, tt.want)
			if pt.AccessToken == "" {
				t.Error("AccessToken: got empty, want a token")
			}
			if pt.TokenType != "Bearer" {
				t.Errorf("TokenType: got %q, want Bearer", pt.TokenType)
			}
			if pt.ExpiresIn != 600*time.Second {
				t.Errorf("ExpiresIn: got %v, want 10m0s", pt.ExpiresIn)
			}
			if pt.OAuthTokens != nil {
				t.Errorf("OAuthTokens: got %+v, want nil", pt.OAuthTokens)
			}

			p, err := c.GetProfile(ctx, pt.AccessToken)
			if err != nil {
				t.Fatalf("GetProfile: %v", err)
			}
			if !reflect.DeepEqual(*p, pt.Profile) {
				t.Errorf("GetProfile:\ngot  %+v\nwant %+v", *p, pt.Profile)
			}

			_, err = c.GetProfile(ctx, srv.APIKey)
			if !errors.Is(err, ErrUnauthorized) {
				t.Errorf("GetProfile with the API key: got %v, want ErrUnauthorized", err)
			}
		})
	}
}

// TestEmulatorSignInIdPIDStable checks that the IdP id is the same in every
// sign-in of the same user.
func TestEmulatorSignInIdPIDStable(t *testing.T) {
	srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	var ids []string
	for range 2 {
		code, verifier := signIn(t, srv, c, AuthorizationURLOptions{ConnectionID: workostest.AcmeConnectionID})
		pt, err := c.ExchangeCode(context.Background(), code, verifier)
		if err != nil {
			t.Fatalf("ExchangeCode: %v", err)
		}
		ids = append(ids, pt.Profile.IdPID)
	}
	if ids[0] == "" || ids[0] != ids[1] {
		t.Errorf("IdPIDs of two sign-ins: got %q, want equal and not empty", ids)
	}
}

func TestEmulatorSignInErrors(t *testing.T) {
	tests := []struct {
		name      string
		opts      AuthorizationURLOptions
		wantError string
	}{
		{"unknown connection", AuthorizationURLOptions{ConnectionID: "conn_missing"}, "connection_invalid"},
		{"inactive connection", AuthorizationURLOptions{ConnectionID: workostest.InitechConnectionID}, "connection_unlinked"},
		{"unknown organization", AuthorizationURLOptions{OrganizationID: "org_missing"}, "organization_invalid"},
		{"provider without connection", AuthorizationURLOptions{Provider: GitHubOAuth}, "connection_invalid"},
		{"user not on connection", AuthorizationURLOptions{ConnectionID: workostest.GlobexConnectionID}, "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
			c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
			opts := tt.opts
			opts.State = "st"
			q := authorize(t, srv, c, opts)
			if got := q.Get("error"); got != tt.wantError {
				t.Errorf("error: got %q, want %q", got, tt.wantError)
			}
			if got := q.Get("state"); got != "st" {
				t.Errorf("state: got %q, want st", got)
			}
			if q.Has("code") {
				t.Errorf("got a code with error %q", q.Get("error"))
			}
		})
	}
}

func TestEmulatorExchangeErrors(t *testing.T) {
	tests := []struct {
		name string
		// exchange is given a fresh code and its verifier.
		exchange func(t *testing.T, srv *workostest.Server, c *Client, code, verifier string) error
		want     error
	}{
		{
			name: "code reused",
			exchange: func(t *testing.T, _ *workostest.Server, c *Client, code, verifier string) error {
				if _, err := c.ExchangeCode(context.Background(), code, verifier); err != nil {
					t.Fatalf("first ExchangeCode: %v", err)
				}
				_, err := c.ExchangeCode(context.Background(), code, verifier)
				return err
			},
			want: ErrInvalidGrant,
		},
		{
			name: "code expired",
			exchange: func(t *testing.T, srv *workostest.Server, c *Client, code, verifier string) error {
				srv.Advance(11 * time.Minute)
				_, err := c.ExchangeCode(context.Background(), code, verifier)
				return err
			},
			want: ErrInvalidGrant,
		},
		{
			name: "wrong verifier",
			exchange: func(t *testing.T, _ *workostest.Server, c *Client, code, _ string) error {
				_, err := c.ExchangeCode(context.Background(), code, NewPKCEVerifier())
				return err
			},
			want: ErrInvalidGrant,
		},
		{
			name: "missing verifier",
			exchange: func(t *testing.T, _ *workostest.Server, c *Client, code, _ string) error {
				_, err := c.ExchangeCode(context.Background(), code, "")
				return err
			},
			want: ErrInvalidGrant,
		},
		{
			name: "wrong verifier spends the code",
			exchange: func(t *testing.T, _ *workostest.Server, c *Client, code, verifier string) error {
				c.ExchangeCode(context.Background(), code, NewPKCEVerifier())
				_, err := c.ExchangeCode(context.Background(), code, verifier)
				return err
			},
			want: ErrInvalidGrant,
		},
		{
			name: "unknown code",
			exchange: func(t *testing.T, _ *workostest.Server, c *Client, _, verifier string) error {
				_, err := c.ExchangeCode(context.Background(), "not-a-code", verifier)
				return err
			},
			want: ErrInvalidGrant,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
			c, w, _ := newEmulatorClient(t, srv, srv.APIKey)
			code, verifier := signIn(t, srv, c, AuthorizationURLOptions{OrganizationID: workostest.AcmeOrganizationID})
			err := tt.exchange(t, srv, c, code, verifier)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			apiErr := apiError(t, err)
			if apiErr.StatusCode != http.StatusBadRequest {
				t.Errorf("status: got %d, want 400", apiErr.StatusCode)
			}
			if errors.Is(err, ErrServer) || errors.Is(err, ErrInvalidClient) {
				t.Errorf("got %v, want only an invalid grant", err)
			}
			if strings.Contains(err.Error(), code) || strings.Contains(err.Error(), verifier) {
				t.Errorf("error %q repeats the code or the verifier", err)
			}
			if got := w.got(); len(got) != 0 {
				t.Errorf("waits: got %v, want none (invalid_grant is final)", got)
			}
		})
	}
}

// TestEmulatorAccessTokenExpires checks that GetProfile fails once the
// access token's expires_in has passed on the server clock.
func TestEmulatorAccessTokenExpires(t *testing.T) {
	srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	code, verifier := signIn(t, srv, c, AuthorizationURLOptions{OrganizationID: workostest.AcmeOrganizationID})
	pt, err := c.ExchangeCode(context.Background(), code, verifier)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	srv.Advance(pt.ExpiresIn)
	_, err = c.GetProfile(context.Background(), pt.AccessToken)
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("got %v, want ErrUnauthorized", err)
	}
}

func TestEmulatorWrongAPIKey(t *testing.T) {
	const wrongKey = "sk_test_not_the_emulators_key"
	ctx := context.Background()
	tests := []struct {
		name  string
		route string
		call  func(c *Client, code string) error
		want  []error
	}{
		{
			name:  "ExchangeCode",
			route: "POST /sso/token",
			call: func(c *Client, code string) error {
				_, err := c.ExchangeCode(ctx, code, "")
				return err
			},
			want: []error{ErrInvalidClient},
		},
		{
			name:  "GetConnection",
			route: "GET /connections/{id}",
			call: func(c *Client, _ string) error {
				_, err := c.GetConnection(ctx, workostest.AcmeConnectionID)
				return err
			},
			want: []error{ErrUnauthorized},
		},
		{
			name:  "ListConnections",
			route: "GET /connections",
			call: func(c *Client, _ string) error {
				_, err := c.ListConnections(ctx, ListConnectionsOptions{})
				return err
			},
			want: []error{ErrUnauthorized},
		},
		{
			name:  "DeleteConnection",
			route: "DELETE /connections/{id}",
			call: func(c *Client, _ string) error {
				return c.DeleteConnection(ctx, workostest.AcmeConnectionID)
			},
			want: []error{ErrUnauthorized},
		},
		{
			name:  "AuthorizeLogout",
			route: "POST /sso/logout/authorize",
			call: func(c *Client, _ string) error {
				_, err := c.AuthorizeLogout(ctx, workostest.ProfileID(workostest.GlobexConnectionID, workostest.HankEmail))
				return err
			},
			want: []error{ErrUnauthorized},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
			good, _, _ := newEmulatorClient(t, srv, srv.APIKey)
			code := authorize(t, srv, good, AuthorizationURLOptions{ConnectionID: workostest.AcmeConnectionID}).Get("code")
			c, w, _ := newEmulatorClient(t, srv, wrongKey)
			err := tt.call(c, code)
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("got %v, want %v", err, want)
				}
			}
			if strings.Contains(err.Error(), wrongKey) {
				t.Errorf("error %q repeats the API key", err)
			}
			if got := srv.Count(tt.route); got != 1 {
				t.Errorf("%s calls: got %d, want 1", tt.route, got)
			}
			if got := w.got(); len(got) != 0 {
				t.Errorf("waits: got %v, want none", got)
			}
			// Nothing was done with the wrong key: the connection is still
			// there and the code still works with the right one.
			if _, err := good.GetConnection(ctx, workostest.AcmeConnectionID); err != nil {
				t.Errorf("GetConnection with the right key: %v", err)
			}
			if _, err := good.ExchangeCode(ctx, code, ""); err != nil {
				t.Errorf("ExchangeCode with the right key: %v", err)
			}
		})
	}
}

// TestEmulatorGetProfileIgnoresAPIKey checks that GetProfile authenticates
// with the access token alone: a client with a wrong API key still works.
func TestEmulatorGetProfileIgnoresAPIKey(t *testing.T) {
	srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
	good, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	code, verifier := signIn(t, srv, good, AuthorizationURLOptions{ConnectionID: workostest.AcmeConnectionID})
	pt, err := good.ExchangeCode(context.Background(), code, verifier)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	other, _, _ := newEmulatorClient(t, srv, "sk_test_some_other_key")
	p, err := other.GetProfile(context.Background(), pt.AccessToken)
	if err != nil {
		t.Fatalf("GetProfile: %v", err)
	}
	if p.ID != pt.Profile.ID {
		t.Errorf("profile id: got %q, want %q", p.ID, pt.Profile.ID)
	}
}

func TestEmulatorNotFound(t *testing.T) {
	tests := []struct {
		name     string
		id       string
		wantPath string
	}{
		{"unknown", "conn_missing", "/connections/conn_missing"},
		{"slash in id", "conn/x", "/connections/conn/x"},
		{"query characters in id", "conn?x=1#y", "/connections/conn?x=1#y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t)
			c, w, _ := newEmulatorClient(t, srv, srv.APIKey)
			_, err := c.GetConnection(context.Background(), tt.id)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
			apiErr := apiError(t, err)
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests: got %d, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Route != "GET /connections/{id}" || r.Path != tt.wantPath || len(r.Query) != 0 {
				t.Errorf("request: got route %q path %q query %v, want route GET /connections/{id} path %q and no query",
					r.Route, r.Path, r.Query, tt.wantPath)
			}
			if apiErr.RequestID == "" || apiErr.RequestID != r.RequestID {
				t.Errorf("RequestID: got %q, want %q", apiErr.RequestID, r.RequestID)
			}
			if apiErr.Code != "entity_not_found" {
				t.Errorf("Code: got %q, want entity_not_found", apiErr.Code)
			}
			if !strings.Contains(err.Error(), r.RequestID) {
				t.Errorf("error %q does not quote the request id", err)
			}
			if got := w.got(); len(got) != 0 {
				t.Errorf("waits: got %v, want none", got)
			}
		})
	}
}

func TestEmulatorFaults(t *testing.T) {
	ctx := context.Background()
	getConnection := func(c *Client, _ string) error {
		_, err := c.GetConnection(ctx, workostest.AcmeConnectionID)
		return err
	}
	exchange := func(c *Client, code string) error {
		_, err := c.ExchangeCode(ctx, code, "")
		return err
	}
	const htmlBody = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
	tests := []struct {
		name      string
		route     string
		fault     workostest.Fault
		call      func(c *Client, code string) error
		want      error // nil for success
		wantCalls int
		wantWaits []time.Duration
		check     func(t *testing.T, apiErr *APIError)
	}{
		{
			name:  "500 then success on GET /connections is retried",
			route: "GET /connections",
			fault: workostest.Fault{Status: 500},
			call: func(c *Client, _ string) error {
				list, err := c.ListConnections(ctx, ListConnectionsOptions{})
				if err == nil && len(list.Data) != 4 {
					return errors.New("got a short list after the retry")
				}
				return err
			},
			wantCalls: 2,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:      "503 twice then success on GET /connections/{id}",
			route:     "GET /connections/{id}",
			fault:     workostest.Fault{Status: 503, Times: 2},
			call:      getConnection,
			wantCalls: 3,
			wantWaits: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:      "500 on POST /sso/token is not retried",
			route:     "POST /sso/token",
			fault:     workostest.Fault{Status: 500},
			call:      exchange,
			want:      ErrServer,
			wantCalls: 1,
		},
		{
			name:      "429 with Retry-After on POST /sso/token is retried",
			route:     "POST /sso/token",
			fault:     workostest.Fault{Status: 429, RetryAfter: "2"},
			call:      exchange,
			wantCalls: 2,
			wantWaits: []time.Duration{2 * time.Second},
		},
		{
			name:  "429 with Retry-After as a date on GET /connections",
			route: "GET /connections",
			fault: workostest.Fault{Status: 429, RetryAfter: time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)},
			call: func(c *Client, _ string) error {
				_, err := c.ListConnections(ctx, ListConnectionsOptions{})
				return err
			},
			want:      ErrRateLimited,
			wantCalls: 1,
			check: func(t *testing.T, apiErr *APIError) {
				if apiErr.RetryAfter < 59*time.Minute || apiErr.RetryAfter > time.Hour {
					t.Errorf("RetryAfter: got %v, want about 1h", apiErr.RetryAfter)
				}
			},
		},
		{
			name:      "429 with Retry-After beyond MaxRetryAfter",
			route:     "POST /sso/token",
			fault:     workostest.Fault{Status: 429, RetryAfter: "120"},
			call:      exchange,
			want:      ErrRateLimited,
			wantCalls: 1,
			check: func(t *testing.T, apiErr *APIError) {
				if apiErr.RetryAfter != 120*time.Second {
					t.Errorf("RetryAfter: got %v, want 2m0s", apiErr.RetryAfter)
				}
				if apiErr.RequestID == "" {
					t.Error("RequestID: got empty, want the emulator's")
				}
			},
		},
		{
			name:      "bare string body",
			route:     "GET /connections/{id}",
			fault:     workostest.Fault{Status: 429, Body: `"Ratelimited"`, Times: -1},
			call:      getConnection,
			want:      ErrRateLimited,
			wantCalls: 6,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second},
			check: func(t *testing.T, apiErr *APIError) {
				if apiErr.Message != "Ratelimited" || apiErr.Code != "" {
					t.Errorf("Code, Message: got %q, %q, want \"\", Ratelimited", apiErr.Code, apiErr.Message)
				}
			},
		},
		{
			name:      "HTML body on GET",
			route:     "GET /connections/{id}",
			fault:     workostest.Fault{Status: 502, Body: htmlBody, Times: -1},
			call:      getConnection,
			want:      ErrServer,
			wantCalls: 6,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second},
			check: func(t *testing.T, apiErr *APIError) {
				if apiErr.StatusCode != 502 || apiErr.Message != "" || apiErr.Code != "" {
					t.Errorf("got status %d code %q message %q, want 502 and no text", apiErr.StatusCode, apiErr.Code, apiErr.Message)
				}
			},
		},
		{
			name:      "HTML body on POST /sso/token",
			route:     "POST /sso/token",
			fault:     workostest.Fault{Status: 503, Body: htmlBody},
			call:      exchange,
			want:      ErrServer,
			wantCalls: 1,
		},
		{
			name:      "plain text body",
			route:     "POST /sso/logout/authorize",
			fault:     workostest.Fault{Status: 400, Body: "bad request\r\nX-Injected: yes"},
			call:      func(c *Client, _ string) error { _, err := c.AuthorizeLogout(ctx, "prof_x"); return err },
			want:      ErrBadRequest,
			wantCalls: 1,
			check: func(t *testing.T, apiErr *APIError) {
				if apiErr.Message != "" {
					t.Errorf("Message: got %q, want none for a body that is not JSON", apiErr.Message)
				}
			},
		},
		{
			name:      "validation errors as strings",
			route:     "POST /sso/logout/authorize",
			fault:     workostest.Fault{Status: 422, Body: `{"message":"Validation failed","errors":["profile_id is invalid"]}`},
			call:      func(c *Client, _ string) error { _, err := c.AuthorizeLogout(ctx, "prof_x"); return err },
			want:      ErrValidation,
			wantCalls: 1,
			check: func(t *testing.T, apiErr *APIError) {
				if want := []FieldError{{Message: "profile_id is invalid"}}; !reflect.DeepEqual(apiErr.Errors, want) {
					t.Errorf("Errors: got %+v, want %+v", apiErr.Errors, want)
				}
			},
		},
		{
			name:  "503 on POST /sso/logout/authorize is retried",
			route: "POST /sso/logout/authorize",
			fault: workostest.Fault{Status: 503},
			call: func(c *Client, _ string) error {
				_, err := c.AuthorizeLogout(ctx, workostest.ProfileID(workostest.GlobexConnectionID, workostest.HankEmail))
				return err
			},
			wantCalls: 2,
			wantWaits: []time.Duration{time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
			c, w, rr := newEmulatorClient(t, srv, srv.APIKey)
			code := authorize(t, srv, c, AuthorizationURLOptions{ConnectionID: workostest.AcmeConnectionID}).Get("code")

			srv.Fail(tt.route, tt.fault)
			err := tt.call(c, code)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("got %v, want success", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if got := srv.Count(tt.route); got != tt.wantCalls {
				t.Errorf("%s calls: got %d, want %d", tt.route, got, tt.wantCalls)
			}
			if got := w.got(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits: got %v, want %v", got, tt.wantWaits)
			}
			if tt.check != nil {
				tt.check(t, apiError(t, err))
			}
			// Every attempt of one call carries the same Idempotency-Key.
			var keys []string
			for _, r := range rr.reqs {
				keys = append(keys, r.Header.Get("Idempotency-Key"))
			}
			if len(slices.Compact(keys)) != 1 {
				t.Errorf("Idempotency-Keys of the attempts: got %q, want one for all", keys)
			}
		})
	}
}

// TestEmulatorFaultAfterEffect checks calls whose failure did not stop the
// request from taking effect, as workos-api.md warns.
func TestEmulatorFaultAfterEffect(t *testing.T) {
	ctx := context.Background()
	t.Run("code exchange", func(t *testing.T) {
		srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
		c, w, _ := newEmulatorClient(t, srv, srv.APIKey)
		code, verifier := signIn(t, srv, c, AuthorizationURLOptions{OrganizationID: workostest.AcmeOrganizationID})
		srv.Fail("POST /sso/token", workostest.Fault{Status: 502, Process: true})
		if _, err := c.ExchangeCode(ctx, code, verifier); !errors.Is(err, ErrServer) {
			t.Fatalf("got %v, want ErrServer", err)
		}
		if got := w.got(); len(got) != 0 {
			t.Errorf("waits: got %v, want none", got)
		}
		// The code was spent by the failed call: the retry hazard.
		if _, err := c.ExchangeCode(ctx, code, verifier); !errors.Is(err, ErrInvalidGrant) {
			t.Errorf("second exchange: got %v, want ErrInvalidGrant", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		srv := newEmulator(t)
		c, w, _ := newEmulatorClient(t, srv, srv.APIKey)
		srv.Fail("DELETE /connections/{id}", workostest.Fault{Status: 500, Process: true})
		err := c.DeleteConnection(ctx, workostest.GlobexConnectionID)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound from the retry, as DeleteConnection documents", err)
		}
		if got := srv.Count("DELETE /connections/{id}"); got != 2 {
			t.Errorf("DELETE calls: got %d, want 2", got)
		}
		if got := len(w.got()); got != 1 {
			t.Errorf("waits: got %d, want 1", got)
		}
		if _, err := c.GetConnection(ctx, workostest.GlobexConnectionID); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetConnection after delete: got %v, want ErrNotFound", err)
		}
	})
}

func TestEmulatorFaultDelay(t *testing.T) {
	tests := []struct {
		name  string
		route string
		call  func(ctx context.Context, c *Client) error
	}{
		{"GetConnection", "GET /connections/{id}", func(ctx context.Context, c *Client) error {
			_, err := c.GetConnection(ctx, workostest.AcmeConnectionID)
			return err
		}},
		{"ExchangeCode", "POST /sso/token", func(ctx context.Context, c *Client) error {
			_, err := c.ExchangeCode(ctx, "code", "")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t)
			c, w, _ := newEmulatorClient(t, srv, srv.APIKey)
			srv.Fail(tt.route, workostest.Fault{Delay: time.Minute})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			// Waiting out the delay would end in the real answer, not an error.
			err := tt.call(ctx, c)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want context.DeadlineExceeded", err)
			}
			if got := w.got(); len(got) != 0 {
				t.Errorf("waits: got %v, want none", got)
			}
		})
	}
}

// seedConnection is what a connection of the default seed looks like
// through the client.
type seedConnection struct {
	id, orgID, name string
	typ             ConnectionType
	state           ConnectionState
	domains         []string
	createdAt       time.Time
}

var seedEpoch = time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC)

var seedConnections = []seedConnection{
	{workostest.AcmeConnectionID, workostest.AcmeOrganizationID, "Acme Okta", OktaSAML, ConnectionActive, []string{"acme.com"}, seedEpoch},
	{workostest.GlobexConnectionID, workostest.GlobexOrganizationID, "Globex OIDC", GenericOIDC, ConnectionActive, []string{"globex.com"}, seedEpoch.Add(time.Hour)},
	{workostest.GoogleConnectionID, "", "Google OAuth", ConnectionTypeGoogleOAuth, ConnectionActive, nil, seedEpoch.Add(2 * time.Hour)},
	{workostest.InitechConnectionID, workostest.InitechOrganizationID, "Initech SAML", GenericSAML, ConnectionInactive, []string{"initech.com"}, seedEpoch.Add(3 * time.Hour)},
}

func checkConnection(t *testing.T, got *Connection, want seedConnection) {
	t.Helper()
	if got.ID != want.id || got.OrganizationID != want.orgID || got.Name != want.name ||
		got.ConnectionType != want.typ || got.State != want.state {
		t.Errorf("connection: got id %q org %q name %q type %q state %q, want %q %q %q %q %q",
			got.ID, got.OrganizationID, got.Name, got.ConnectionType, got.State,
			want.id, want.orgID, want.name, want.typ, want.state)
	}
	if got.Active() != (want.state == ConnectionActive) {
		t.Errorf("Active: got %v, want %v", got.Active(), want.state == ConnectionActive)
	}
	var domains []string
	for _, d := range got.Domains {
		domains = append(domains, d.Domain)
		if !strings.HasPrefix(d.ID, "org_domain_") {
			t.Errorf("domain %q id: got %q, want org_domain_...", d.Domain, d.ID)
		}
	}
	if !slices.Equal(domains, want.domains) {
		t.Errorf("domains: got %q, want %q", domains, want.domains)
	}
	if !got.CreatedAt.Equal(want.createdAt) || !got.UpdatedAt.Equal(want.createdAt) {
		t.Errorf("created_at, updated_at: got %v, %v, want %v", got.CreatedAt, got.UpdatedAt, want.createdAt)
	}
}

func TestEmulatorGetConnection(t *testing.T) {
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	for _, want := range seedConnections {
		t.Run(want.id, func(t *testing.T) {
			got, err := c.GetConnection(context.Background(), want.id)
			if err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			checkConnection(t, got, want)
		})
	}
}

func connectionIDs(conns []Connection) []string {
	ids := []string{}
	for _, c := range conns {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestEmulatorListConnections(t *testing.T) {
	const githubID = "conn_github_oauth"
	acme, globex, google, initech := workostest.AcmeConnectionID, workostest.GlobexConnectionID,
		workostest.GoogleConnectionID, workostest.InitechConnectionID
	tests := []struct {
		name      string
		opts      ListConnectionsOptions
		wantQuery url.Values // as the emulator received it
		wantIDs   []string
		wantAfter bool
	}{
		{name: "default order is desc", opts: ListConnectionsOptions{},
			wantQuery: url.Values{}, wantIDs: []string{githubID, initech, google, globex, acme}},
		{name: "desc", opts: ListConnectionsOptions{Order: OrderDesc},
			wantQuery: url.Values{"order": {"desc"}}, wantIDs: []string{githubID, initech, google, globex, acme}},
		{name: "asc", opts: ListConnectionsOptions{Order: OrderAsc},
			wantQuery: url.Values{"order": {"asc"}}, wantIDs: []string{acme, globex, google, initech, githubID}},
		{name: "limit", opts: ListConnectionsOptions{Limit: 2},
			wantQuery: url.Values{"limit": {"2"}}, wantIDs: []string{githubID, initech}, wantAfter: true},
		{name: "limit asc", opts: ListConnectionsOptions{Limit: 3, Order: OrderAsc},
			wantQuery: url.Values{"limit": {"3"}, "order": {"asc"}}, wantIDs: []string{acme, globex, google}, wantAfter: true},
		{name: "limit 100", opts: ListConnectionsOptions{Limit: 100},
			wantQuery: url.Values{"limit": {"100"}}, wantIDs: []string{githubID, initech, google, globex, acme}},
		{name: "organization", opts: ListConnectionsOptions{OrganizationID: workostest.AcmeOrganizationID},
			wantQuery: url.Values{"organization_id": {"org_acme"}}, wantIDs: []string{acme}},
		{name: "domain", opts: ListConnectionsOptions{Domain: "globex.com"},
			wantQuery: url.Values{"domain": {"globex.com"}}, wantIDs: []string{globex}},
		{name: "unknown domain", opts: ListConnectionsOptions{Domain: "example.org"},
			wantQuery: url.Values{"domain": {"example.org"}}, wantIDs: []string{}},
		{name: "type OktaSAML", opts: ListConnectionsOptions{ConnectionType: OktaSAML},
			wantQuery: url.Values{"connection_type": {"OktaSAML"}}, wantIDs: []string{acme}},
		{name: "type GoogleOAuth", opts: ListConnectionsOptions{ConnectionType: ConnectionTypeGoogleOAuth},
			wantQuery: url.Values{"connection_type": {"GoogleOAuth"}}, wantIDs: []string{google}},
		{name: "type GitHubOAuth is sent as GithubOAuth", opts: ListConnectionsOptions{ConnectionType: ConnectionTypeGitHubOAuth},
			wantQuery: url.Values{"connection_type": {"GithubOAuth"}}, wantIDs: []string{githubID}},
		{name: "search", opts: ListConnectionsOptions{Search: "oauth"},
			wantQuery: url.Values{"search": {"oauth"}}, wantIDs: []string{githubID, google}},
		{name: "search and organization", opts: ListConnectionsOptions{Search: "okta", OrganizationID: workostest.GlobexOrganizationID},
			wantQuery: url.Values{"search": {"okta"}, "organization_id": {"org_globex"}}, wantIDs: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t)
			err := srv.AddConnection(workostest.Connection{
				ID: githubID, Name: "GitHub OAuth", Type: "GitHubOAuth", CreatedAt: seedEpoch.Add(4 * time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
			list, err := c.ListConnections(context.Background(), tt.opts)
			if err != nil {
				t.Fatalf("ListConnections: %v", err)
			}
			if got := connectionIDs(list.Data); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("ids: got %q, want %q", got, tt.wantIDs)
			}
			if got := list.ListMetadata.After != ""; got != tt.wantAfter {
				t.Errorf("has after cursor: got %v (%q), want %v", got, list.ListMetadata.After, tt.wantAfter)
			}
			if list.ListMetadata.Before != "" {
				t.Errorf("before cursor of the first page: got %q, want none", list.ListMetadata.Before)
			}
			for _, conn := range list.Data {
				if conn.ID == githubID && conn.ConnectionType != ConnectionTypeGitHubOAuth {
					t.Errorf("GitHub connection type: got %q, want %q", conn.ConnectionType, ConnectionTypeGitHubOAuth)
				}
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("requests: got %d, want 1", len(reqs))
			}
			if !reflect.DeepEqual(reqs[0].Query, tt.wantQuery) {
				t.Errorf("query: got %v, want %v", reqs[0].Query, tt.wantQuery)
			}
		})
	}
}

// TestEmulatorListConnectionsPages walks a listing forward with After and
// back with Before.
func TestEmulatorListConnectionsPages(t *testing.T) {
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	ctx := context.Background()
	first, err := c.ListConnections(ctx, ListConnectionsOptions{Limit: 2, Order: OrderAsc})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.ListConnections(ctx, ListConnectionsOptions{Limit: 2, Order: OrderAsc, After: first.ListMetadata.After})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := connectionIDs(second.Data), []string{workostest.GoogleConnectionID, workostest.InitechConnectionID}; !slices.Equal(got, want) {
		t.Errorf("second page: got %q, want %q", got, want)
	}
	if second.ListMetadata.After != "" || second.ListMetadata.Before == "" {
		t.Errorf("second page cursors: got %+v, want only before", second.ListMetadata)
	}
	back, err := c.ListConnections(ctx, ListConnectionsOptions{Limit: 2, Order: OrderAsc, Before: second.ListMetadata.Before})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := connectionIDs(back.Data), connectionIDs(first.Data); !slices.Equal(got, want) {
		t.Errorf("page before the second: got %q, want %q", got, want)
	}
}

func TestEmulatorAllConnections(t *testing.T) {
	var asc []string
	for _, sc := range seedConnections {
		asc = append(asc, sc.id)
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	tests := []struct {
		name      string
		opts      ListConnectionsOptions
		want      []string
		wantCalls int
	}{
		{"limit 1", ListConnectionsOptions{Limit: 1}, desc, 4},
		{"limit 1 asc", ListConnectionsOptions{Limit: 1, Order: OrderAsc}, asc, 4},
		{"limit 3", ListConnectionsOptions{Limit: 3}, desc, 2},
		{"limit 4", ListConnectionsOptions{Limit: 4}, desc, 1},
		{"default limit", ListConnectionsOptions{}, desc, 1},
		{"filtered", ListConnectionsOptions{Limit: 1, Search: "o", Order: OrderAsc},
			[]string{workostest.AcmeConnectionID, workostest.GlobexConnectionID, workostest.GoogleConnectionID}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t)
			c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
			var got []string
			for conn, err := range AllConnections(context.Background(), c.ListConnections, tt.opts) {
				if err != nil {
					t.Fatalf("AllConnections: %v", err)
				}
				got = append(got, conn.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids: got %q, want %q", got, tt.want)
			}
			if n := srv.Count("GET /connections"); n != tt.wantCalls {
				t.Errorf("GET /connections calls: got %d, want %d", n, tt.wantCalls)
			}
			for i, r := range srv.Requests() {
				if after := r.Query.Get("after"); (i == 0) != (after == "") {
					t.Errorf("request %d: after %q, want a cursor on every request but the first", i, after)
				}
			}
		})
	}
}

func TestEmulatorDeleteConnection(t *testing.T) {
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	ctx := context.Background()
	if err := c.DeleteConnection(ctx, workostest.GlobexConnectionID); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}
	if _, err := c.GetConnection(ctx, workostest.GlobexConnectionID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetConnection after delete: got %v, want ErrNotFound", err)
	}
	if err := c.DeleteConnection(ctx, workostest.GlobexConnectionID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteConnection: got %v, want ErrNotFound", err)
	}
	if err := c.DeleteConnection(ctx, "conn_missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteConnection of unknown: got %v, want ErrNotFound", err)
	}
	list, err := c.ListConnections(ctx, ListConnectionsOptions{Order: OrderAsc})
	if err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	want := []string{workostest.AcmeConnectionID, workostest.GoogleConnectionID, workostest.InitechConnectionID}
	if got := connectionIDs(list.Data); !slices.Equal(got, want) {
		t.Errorf("ids after delete: got %q, want %q", got, want)
	}
	wantStatuses := []int{204, 404, 404, 404, 200}
	var statuses []int
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	if !slices.Equal(statuses, wantStatuses) {
		t.Errorf("statuses: got %v, want %v", statuses, wantStatuses)
	}
	if got := srv.Count("DELETE /connections/{id}"); got != 3 {
		t.Errorf("DELETE calls: got %d, want 3", got)
	}
	if got := srv.Count("DELETE /connections/" + workostest.GlobexConnectionID); got != 2 {
		t.Errorf("DELETE %s calls: got %d, want 2", workostest.GlobexConnectionID, got)
	}
}

func TestEmulatorListConnectionsInvalid(t *testing.T) {
	tests := []struct {
		name      string
		query     url.Values
		wantField string
	}{
		{"limit 0", url.Values{"limit": {"0"}}, "limit"},
		{"limit 101", url.Values{"limit": {"101"}}, "limit"},
		{"limit -1", url.Values{"limit": {"-1"}}, "limit"},
		{"order", url.Values{"order": {"sideways"}}, "order"},
		{"GitHubOAuth spelled as the type", url.Values{"connection_type": {"GitHubOAuth"}}, "connection_type"},
		{"cursor", url.Values{"after": {"not-a-cursor"}}, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newEmulator(t)
			c, w, _ := newEmulatorClient(t, srv, srv.APIKey)
			// Bypass ListConnections' own checks to see the emulator's answer.
			var list ConnectionList
			err := c.do(context.Background(), &call{method: http.MethodGet, path: "/connections", query: tt.query}, &list)
			if !errors.Is(err, ErrValidation) {
				t.Fatalf("got %v, want ErrValidation", err)
			}
			apiErr := apiError(t, err)
			if apiErr.Code != "invalid_request_parameters" {
				t.Errorf("Code: got %q, want invalid_request_parameters", apiErr.Code)
			}
			if len(apiErr.Errors) != 1 || apiErr.Errors[0].Field != tt.wantField || apiErr.Errors[0].Code == "" {
				t.Errorf("Errors: got %+v, want one for field %q with a code", apiErr.Errors, tt.wantField)
			}
			if got := w.got(); len(got) != 0 {
				t.Errorf("waits: got %v, want none", got)
			}
		})
	}

	// The client refuses the same options itself, without a request.
	local := []struct {
		name string
		opts ListConnectionsOptions
	}{
		{"limit 101", ListConnectionsOptions{Limit: 101}},
		{"limit -1", ListConnectionsOptions{Limit: -1}},
		{"order", ListConnectionsOptions{Order: "sideways"}},
	}
	for _, tt := range local {
		t.Run("client "+tt.name, func(t *testing.T) {
			srv := newEmulator(t)
			c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
			_, err := c.ListConnections(context.Background(), tt.opts)
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("got %v, want ErrInvalidOptions", err)
			}
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				t.Errorf("got an *APIError %v, want a local error", apiErr)
			}
			if got := len(srv.Requests()); got != 0 {
				t.Errorf("requests: got %d, want 0", got)
			}
		})
	}
}

func TestEmulatorLogout(t *testing.T) {
	const signedOut = "https://app.example.com/signed-out"
	srv := newEmulator(t, workostest.WithAutoSignIn(workostest.HankEmail), workostest.WithLogoutRedirect(signedOut))
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	ctx := context.Background()

	code, verifier := signIn(t, srv, c, AuthorizationURLOptions{OrganizationID: workostest.GlobexOrganizationID})
	pt, err := c.ExchangeCode(ctx, code, verifier)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if want := workostest.ProfileID(workostest.GlobexConnectionID, workostest.HankEmail); pt.Profile.ID != want {
		t.Fatalf("profile id: got %q, want %q", pt.Profile.ID, want)
	}
	la, err := c.AuthorizeLogout(ctx, pt.Profile.ID)
	if err != nil {
		t.Fatalf("AuthorizeLogout: %v", err)
	}
	if !strings.HasPrefix(la.LogoutURL, srv.URL+"/sso/logout?token=") || la.LogoutToken == "" {
		t.Errorf("got %+v, want a logout URL on the emulator and a token", la)
	}
	u, err := url.Parse(la.LogoutURL)
	if err != nil || u.Query().Get("token") != la.LogoutToken {
		t.Errorf("logout URL %q: got token %q, want %q", la.LogoutURL, u.Query().Get("token"), la.LogoutToken)
	}

	for i, want := range []int{http.StatusFound, http.StatusNotFound} { // spent: the spec's 404
		resp, err := browser(srv).Get(la.LogoutURL)
		if err != nil {
			t.Fatalf("GET logout URL: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("visit %d of the logout URL: got status %d, want %d", i+1, resp.StatusCode, want)
		}
		if want == http.StatusFound {
			if got := resp.Header.Get("Location"); got != signedOut {
				t.Errorf("logout redirect: got %q, want %q", got, signedOut)
			}
		}
	}

	tests := []struct {
		name      string
		profileID string
		want      error
		status    int
	}{
		{"SAML", workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail), ErrConnectionInvalid, 400},
		{"OAuth", workostest.ProfileID(workostest.GoogleConnectionID, workostest.CarolEmail), ErrConnectionInvalid, 400},
		{"unknown profile", "prof_missing", ErrNotFound, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.AuthorizeLogout(ctx, tt.profileID)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if apiErr := apiError(t, err); apiErr.StatusCode != tt.status || apiErr.RequestID == "" {
				t.Errorf("got status %d request id %q, want %d and an id", apiErr.StatusCode, apiErr.RequestID, tt.status)
			}
		})
	}
}

// TestEmulatorLogoutPage follows the logout URL to the emulator's own
// signed-out page when no redirect is configured.
func TestEmulatorLogoutPage(t *testing.T) {
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	la, err := c.AuthorizeLogout(context.Background(), workostest.ProfileID(workostest.GlobexConnectionID, workostest.HankEmail))
	if err != nil {
		t.Fatalf("AuthorizeLogout: %v", err)
	}
	resp, err := browser(srv).Get(la.LogoutURL)
	if err != nil {
		t.Fatalf("GET logout URL: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status: got %d, want 200", resp.StatusCode)
	}
}

// TestEmulatorRequests runs every endpoint once and checks what reached the
// emulator: routes, paths, statuses and the client's headers.
func TestEmulatorRequests(t *testing.T) {
	srv := newEmulator(t, workostest.WithAutoSignIn(workostest.HankEmail))
	c, _, rr := newEmulatorClient(t, srv, srv.APIKey)
	ctx := context.Background()

	code, verifier := signIn(t, srv, c, AuthorizationURLOptions{ConnectionID: workostest.GlobexConnectionID})
	pt, err := c.ExchangeCode(ctx, code, verifier)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if _, err := c.GetProfile(ctx, pt.AccessToken); err != nil {
		t.Fatalf("GetProfile: %v", err)
	}
	if _, err := c.ListConnections(ctx, ListConnectionsOptions{Limit: 5, Domain: "globex.com"}); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	if _, err := c.GetConnection(ctx, workostest.AcmeConnectionID); err != nil {
		t.Fatalf("GetConnection: %v", err)
	}
	if _, err := c.AuthorizeLogout(ctx, pt.Profile.ID); err != nil {
		t.Fatalf("AuthorizeLogout: %v", err)
	}
	if err := c.DeleteConnection(ctx, workostest.InitechConnectionID); err != nil {
		t.Fatalf("DeleteConnection: %v", err)
	}

	want := []workostest.Request{
		{Method: "GET", Path: "/sso/authorize", Route: "GET /sso/authorize", Status: 302},
		{Method: "POST", Path: "/sso/token", Route: "POST /sso/token", Status: 200},
		{Method: "GET", Path: "/sso/profile", Route: "GET /sso/profile", Status: 200},
		{Method: "GET", Path: "/connections", Route: "GET /connections", Status: 200},
		{Method: "GET", Path: "/connections/conn_acme_okta", Route: "GET /connections/{id}", Status: 200},
		{Method: "POST", Path: "/sso/logout/authorize", Route: "POST /sso/logout/authorize", Status: 200},
		{Method: "DELETE", Path: "/connections/conn_initech_saml", Route: "DELETE /connections/{id}", Status: 204},
	}
	got := srv.Requests()
	if len(got) != len(want) {
		t.Fatalf("requests: got %d, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, r := range got {
		w := want[i]
		if r.Method != w.Method || r.Path != w.Path || r.Route != w.Route || r.Status != w.Status {
			t.Errorf("request %d: got %s %s (%s) %d, want %s %s (%s) %d",
				i, r.Method, r.Path, r.Route, r.Status, w.Method, w.Path, w.Route, w.Status)
		}
		if r.RequestID == "" || seen[r.RequestID] {
			t.Errorf("request %d: request id %q, want a fresh one", i, r.RequestID)
		}
		seen[r.RequestID] = true
		if srv.Count(r.Route) != 1 {
			t.Errorf("Count(%q): got %d, want 1", r.Route, srv.Count(r.Route))
		}
	}
	if q := got[3].Query; !reflect.DeepEqual(q, url.Values{"limit": {"5"}, "domain": {"globex.com"}}) {
		t.Errorf("list query: got %v, want limit=5 and domain=globex.com", q)
	}
	if len(got[1].Query) != 0 || len(got[5].Query) != 0 {
		t.Errorf("POST queries: got %v and %v, want none: secrets travel in the body", got[1].Query, got[5].Query)
	}

	// The client's own requests, one per API call after the browser's.
	sent := rr.reqs
	if len(sent) != len(want)-1 {
		t.Fatalf("client requests: got %d, want %d", len(sent), len(want)-1)
	}
	contentTypes := []string{"application/x-www-form-urlencoded", "", "", "", "application/json", ""}
	for i, r := range sent {
		w := want[i+1]
		if r.Method != w.Method || r.URL.Path != w.Path {
			t.Errorf("client request %d: got %s %s, want %s %s", i, r.Method, r.URL.Path, w.Method, w.Path)
		}
		bearer := srv.APIKey
		if w.Path == "/sso/profile" {
			bearer = pt.AccessToken
		}
		checkCommonHeaders(t, recordedRequest{Method: r.Method, Header: r.Header}, bearer)
		checkHeader(t, r.Header, "Content-Type", contentTypes[i])
	}
}

// TestEmulatorGitHubProvider signs in through a GitHub connection selected
// with provider=GitHubOAuth: the selector spells GitHub as the type does,
// unlike the connection_type filter of the list.
func TestEmulatorGitHubProvider(t *testing.T) {
	const githubID, email = "conn_github_oauth", "dana@example.org"
	srv := newEmulator(t, workostest.WithAutoSignIn(email))
	if err := srv.AddConnection(workostest.Connection{ID: githubID, Name: "GitHub OAuth", Type: "GitHubOAuth"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddUser(workostest.User{Email: email, FirstName: "Dana", ConnectionID: githubID}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	code, verifier := signIn(t, srv, c, AuthorizationURLOptions{Provider: GitHubOAuth})
	pt, err := c.ExchangeCode(context.Background(), code, verifier)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	want := Profile{
		ID:               workostest.ProfileID(githubID, email),
		ConnectionID:     githubID,
		ConnectionType:   ConnectionTypeGitHubOAuth,
		Email:            email,
		FirstName:        "Dana",
		Name:             "Dana",
		Groups:           []string{},
		CustomAttributes: map[string]any{},
		RawAttributes:    map[string]any{},
	}
	checkProfile(t, pt.Profile, want)
}

// TestEmulatorWrongClientID checks a client whose client ID the emulator
// does not know.
func TestEmulatorWrongClientID(t *testing.T) {
	srv := newEmulator(t, workostest.WithAutoSignIn(workostest.AliceEmail))
	good, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	code := authorize(t, srv, good, AuthorizationURLOptions{ConnectionID: workostest.AcmeConnectionID}).Get("code")
	c, err := NewClient(ClientConfig{APIKey: srv.APIKey, ClientID: "client_someone_else", BaseURL: srv.URL})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if _, err := c.ExchangeCode(context.Background(), code, ""); !errors.Is(err, ErrInvalidClient) {
		t.Errorf("ExchangeCode: got %v, want ErrInvalidClient", err)
	}

	// The emulator refuses the authorization request itself, without
	// sending the browser back.
	authURL, err := c.AuthorizationURL(AuthorizationURLOptions{ConnectionID: workostest.AcmeConnectionID, RedirectURI: emulatorRedirectURI})
	if err != nil {
		t.Fatalf("AuthorizationURL: %v", err)
	}
	resp, err := browser(srv).Get(authURL)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("authorize: got status %d location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestEmulatorAllConnectionsWhileDeleting deletes connections while a walk
// is under way: the rest still come, once each, in order.
func TestEmulatorAllConnectionsWhileDeleting(t *testing.T) {
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	ctx := context.Background()
	var got []string
	for conn, err := range AllConnections(ctx, c.ListConnections, ListConnectionsOptions{Limit: 1, Order: OrderAsc}) {
		if err != nil {
			t.Fatalf("AllConnections: %v", err)
		}
		got = append(got, conn.ID)
		switch conn.ID {
		case workostest.AcmeConnectionID:
			// The connection just seen, on which the cursor stands.
			if err := c.DeleteConnection(ctx, conn.ID); err != nil {
				t.Fatalf("DeleteConnection: %v", err)
			}
		case workostest.GlobexConnectionID:
			// The next one.
			if err := c.DeleteConnection(ctx, workostest.GoogleConnectionID); err != nil {
				t.Fatalf("DeleteConnection: %v", err)
			}
		}
	}
	want := []string{workostest.AcmeConnectionID, workostest.GlobexConnectionID, workostest.InitechConnectionID}
	if !slices.Equal(got, want) {
		t.Errorf("ids: got %q, want %q", got, want)
	}
}

// TestAllConnectionsEveryOrder walks the emulator's connections in each
// order WorkOS takes, five a page: each connection once, newest first but
// for asc. With normal, WorkOS's spec pages with before (older records),
// which AllConnections follows.
func TestAllConnectionsEveryOrder(t *testing.T) {
	idp := workostest.NewServer()
	t.Cleanup(idp.Close)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 23 {
		if err := idp.AddConnection(workostest.Connection{ID: fmt.Sprintf("conn_page%02d", i), Type: "GenericSAML", CreatedAt: start.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := NewClient(ClientConfig{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL})
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range []Order{"", OrderDesc, OrderAsc, OrderNormal} {
		var ids []string
		for conn, err := range AllConnections(context.Background(), c.ListConnections, ListConnectionsOptions{Limit: 5, Order: order}) {
			if err != nil {
				t.Fatalf("order %q: %v", order, err)
			}
			if strings.HasPrefix(conn.ID, "conn_page") {
				ids = append(ids, conn.ID)
			}
		}
		want := fmt.Sprintf("conn_page%02d", 22)
		if order == OrderAsc {
			want = "conn_page00"
		}
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		if len(ids) != 23 || len(seen) != 23 || ids[0] != want {
			t.Errorf("order %q: got %d ids (%d distinct), first %v, want 23 starting at %s", order, len(ids), len(seen), ids[:min(len(ids), 1)], want)
		}
	}
}

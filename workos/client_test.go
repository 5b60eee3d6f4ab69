package workos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	testAPIKey   = "sk_test_a1b2c3d4e5f6SECRETKEY"
	testClientID = "client_01TEST"
)

// waitRecorder stands in for the client's sleep and records each wait.
type waitRecorder struct {
	mu    sync.Mutex // guards waits
	waits []time.Duration
}

func (w *waitRecorder) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waits = append(w.waits, d)
	return ctx.Err()
}

func (w *waitRecorder) got() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// newTestClient returns a client for baseURL whose waits are recorded, not
// slept, and whose jitter always picks the longest wait.
func newTestClient(t *testing.T, baseURL string, retry RetryPolicy) (*Client, *waitRecorder) {
	t.Helper()
	c, err := NewClient(ClientConfig{APIKey: testAPIKey, ClientID: testClientID, BaseURL: baseURL, Retry: retry})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	w := &waitRecorder{}
	c.sleep = w.sleep
	c.randN = func(n int64) int64 { return n - 1 }
	return c, w
}

// recordedRequest is what a test server saw of one request.
type recordedRequest struct {
	Method, Path, RawPath, RawQuery string
	Header                          http.Header
	Body                            string
}

// testServer is an httptest server that records requests and answers each
// with the next of its responses (the last one repeats).
type testServer struct {
	*httptest.Server
	mu        sync.Mutex // guards requests and responses
	requests  []recordedRequest
	responses []testResponse
}

type testResponse struct {
	status int
	header map[string]string
	body   string
}

func newTestServer(t *testing.T, responses ...testResponse) *testServer {
	t.Helper()
	s := &testServer{responses: responses}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, recordedRequest{
			Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: string(body),
		})
		resp := s.responses[min(len(s.requests), len(s.responses))-1]
		s.mu.Unlock()
		for k, v := range resp.header {
			w.Header().Set(k, v)
		}
		if resp.status == 0 {
			resp.status = http.StatusOK
		}
		w.WriteHeader(resp.status)
		io.WriteString(w, resp.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) recorded() []recordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recordedRequest(nil), s.requests...)
}

func (s *testServer) only(t *testing.T) recordedRequest {
	t.Helper()
	reqs := s.recorded()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

func checkHeader(t *testing.T, h http.Header, key, want string) {
	t.Helper()
	if got := h.Get(key); got != want {
		t.Errorf("header %s: got %q, want %q", key, got, want)
	}
}

// checkCommonHeaders checks the headers every request carries.
func checkCommonHeaders(t *testing.T, r recordedRequest, bearer string) {
	t.Helper()
	checkHeader(t, r.Header, "Authorization", "Bearer "+bearer)
	checkHeader(t, r.Header, "User-Agent", "ssogate/"+Version)
	checkHeader(t, r.Header, "Accept", "application/json")
	key := r.Header.Get("Idempotency-Key")
	if r.Method == http.MethodPost && len(key) != 36 {
		t.Errorf("Idempotency-Key: got %q, want a UUID", key)
	}
	if r.Method != http.MethodPost && key != "" {
		t.Errorf("Idempotency-Key on %s: got %q, want none", r.Method, key)
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "errors", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient(ClientConfig{APIKey: testAPIKey, ClientID: testClientID})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if c.baseURL != "https://api.workos.com" {
		t.Errorf("baseURL: got %q, want https://api.workos.com", c.baseURL)
	}
	if c.http == http.DefaultClient || c.http.Timeout != 60*time.Second {
		t.Errorf("HTTP client: got timeout %v (default client %t), want a private client with a 60s timeout", c.http.Timeout, c.http == http.DefaultClient)
	}
	want := RetryPolicy{MaxRetries: 5, MinBackoff: time.Second, MaxBackoff: 30 * time.Second, MaxRetryAfter: 60 * time.Second}
	if c.retry != want {
		t.Errorf("retry: got %+v, want %+v", c.retry, want)
	}
	if c.logger == nil || c.logger.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("logger: got one that logs, want a discarding one")
	}

	c, err = NewClient(ClientConfig{APIKey: testAPIKey, ClientID: testClientID, Retry: RetryPolicy{MaxRetries: -1}})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if c.retry.MaxRetries != 0 {
		t.Errorf("MaxRetries -1: got %d retries, want 0", c.retry.MaxRetries)
	}

	// A caller's client is copied, not changed, and redirects are not followed.
	own := &http.Client{Timeout: 5 * time.Second}
	c, err = NewClient(ClientConfig{APIKey: testAPIKey, ClientID: testClientID, BaseURL: "http://127.0.0.1:1/base/", HTTPClient: own})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if own.CheckRedirect != nil {
		t.Errorf("caller's CheckRedirect: got set, want untouched")
	}
	if c.http.Timeout != 5*time.Second {
		t.Errorf("timeout: got %v, want 5s", c.http.Timeout)
	}
	if c.baseURL != "http://127.0.0.1:1/base" {
		t.Errorf("baseURL: got %q, want http://127.0.0.1:1/base", c.baseURL)
	}
}

// TestNewClientCleartextLoopback pins that http reaches loopback
// addresses, where a local emulator listens.
func TestNewClientCleartextLoopback(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:8788", "http://localhost:8788", "http://[::1]:8788", "http://emulator.localhost"} {
		if _, err := NewClient(ClientConfig{APIKey: testAPIKey, ClientID: testClientID, BaseURL: base}); err != nil {
			t.Errorf("%s: %v", base, err)
		}
	}
}

func TestNewClientErrors(t *testing.T) {
	valid := ClientConfig{APIKey: testAPIKey, ClientID: testClientID}
	tests := []struct {
		name      string
		change    func(*ClientConfig)
		wantField string
	}{
		{"missing API key", func(c *ClientConfig) { c.APIKey = "" }, "ClientConfig.APIKey"},
		{"API key without sk_", func(c *ClientConfig) { c.APIKey = "pk_test_SECRETKEY" }, "ClientConfig.APIKey"},
		{"API key with newline", func(c *ClientConfig) { c.APIKey = "sk_test_SECRET\nKEY" }, "ClientConfig.APIKey"},
		{"API key with space", func(c *ClientConfig) { c.APIKey = "sk_test_SECRET KEY" }, "ClientConfig.APIKey"},
		{"missing client ID", func(c *ClientConfig) { c.ClientID = "" }, "ClientConfig.ClientID"},
		{"client ID without client_", func(c *ClientConfig) { c.ClientID = "proj_123" }, "ClientConfig.ClientID"},
		{"relative base URL", func(c *ClientConfig) { c.BaseURL = "/workos" }, "ClientConfig.BaseURL"},
		{"base URL without scheme", func(c *ClientConfig) { c.BaseURL = "api.workos.com" }, "ClientConfig.BaseURL"},
		{"ftp base URL", func(c *ClientConfig) { c.BaseURL = "ftp://api.workos.com" }, "ClientConfig.BaseURL"},
		{"base URL with query", func(c *ClientConfig) { c.BaseURL = "https://api.workos.com/?x=1" }, "ClientConfig.BaseURL"},
		{"base URL with empty query", func(c *ClientConfig) { c.BaseURL = "https://api.workos.com/?" }, "ClientConfig.BaseURL"},
		{"base URL with fragment", func(c *ClientConfig) { c.BaseURL = "https://api.workos.com/#top" }, "ClientConfig.BaseURL"},
		{"base URL with credentials", func(c *ClientConfig) { c.BaseURL = "https://u:p@api.workos.com" }, "ClientConfig.BaseURL"},
		{"base URL unparsable", func(c *ClientConfig) { c.BaseURL = "https://api.workos.com:port" }, "ClientConfig.BaseURL"},
		// The API key would travel in clear beyond this machine.
		{"cleartext base URL", func(c *ClientConfig) { c.BaseURL = "http://api.workos.com" }, "ClientConfig.BaseURL"},
		{"cleartext base URL on the LAN", func(c *ClientConfig) { c.BaseURL = "http://10.0.0.5:8788" }, "ClientConfig.BaseURL"},
		{"cleartext base URL named like localhost", func(c *ClientConfig) { c.BaseURL = "http://localhost.attacker.example" }, "ClientConfig.BaseURL"},
		{"negative MinBackoff", func(c *ClientConfig) { c.Retry.MinBackoff = -1 }, "ClientConfig.Retry.MinBackoff"},
		{"negative MaxBackoff", func(c *ClientConfig) { c.Retry.MaxBackoff = -1 }, "ClientConfig.Retry.MaxBackoff"},
		{"MaxBackoff below MinBackoff", func(c *ClientConfig) { c.Retry.MinBackoff, c.Retry.MaxBackoff = 2*time.Second, time.Second }, "ClientConfig.Retry.MaxBackoff"},
		{"negative MaxRetryAfter", func(c *ClientConfig) { c.Retry.MaxRetryAfter = -1 }, "ClientConfig.Retry.MaxRetryAfter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			c, err := NewClient(cfg)
			if c != nil || err == nil {
				t.Fatalf("got client %v, error %v; want an error", c, err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %T, want *ConfigError", err)
			}
			if ce.Field != tt.wantField {
				t.Errorf("field: got %q, want %q", ce.Field, tt.wantField)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("errors.Is(err, ErrInvalidConfig): got false, want true")
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q repeats the API key", err)
			}
		})
	}
}

func TestAuthorizationURL(t *testing.T) {
	c, _ := newTestClient(t, "https://api.workos.com/", RetryPolicy{})
	const base = "https://api.workos.com/sso/authorize?"
	tests := []struct {
		name    string
		opts    AuthorizationURLOptions
		want    string
		wantErr bool
	}{
		{
			name: "connection",
			opts: AuthorizationURLOptions{ConnectionID: "conn_1", RedirectURI: "https://app.test/callback", State: "st"},
			want: base + "client_id=client_01TEST&connection=conn_1&redirect_uri=https%3A%2F%2Fapp.test%2Fcallback&response_type=code&state=st",
		},
		{
			name: "organization with PKCE",
			opts: AuthorizationURLOptions{OrganizationID: "org_1", RedirectURI: "http://localhost:8080/cb", CodeChallenge: "chal"},
			want: base + "client_id=client_01TEST&code_challenge=chal&code_challenge_method=S256&organization=org_1&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&response_type=code",
		},
		{
			name: "provider with every option",
			opts: AuthorizationURLOptions{
				Provider: GitHubOAuth, RedirectURI: "https://app.test/cb", State: "s t", CodeChallenge: "c",
				LoginHint: "a@b.test", DomainHint: "b.test", ForceLogin: true, Nonce: "n",
				ProviderScopes:      []string{"read:user", "repo"},
				ProviderQueryParams: map[string]string{"allow_signup": "false", "hd": "b.test"},
			},
			want: base + "client_id=client_01TEST&code_challenge=c&code_challenge_method=S256&domain_hint=b.test&login_hint=a%40b.test&nonce=n" +
				"&prompt=login&provider=GitHubOAuth&provider_query_params%5Ballow_signup%5D=false&provider_query_params%5Bhd%5D=b.test" +
				"&provider_scopes=read%3Auser%2Crepo&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&response_type=code&state=s+t",
		},
		{name: "no selector", opts: AuthorizationURLOptions{RedirectURI: "https://app.test/cb"}, wantErr: true},
		{name: "two selectors", opts: AuthorizationURLOptions{ConnectionID: "conn_1", OrganizationID: "org_1", RedirectURI: "https://app.test/cb"}, wantErr: true},
		{name: "three selectors", opts: AuthorizationURLOptions{ConnectionID: "conn_1", OrganizationID: "org_1", Provider: GoogleOAuth, RedirectURI: "https://app.test/cb"}, wantErr: true},
		{name: "unknown provider", opts: AuthorizationURLOptions{Provider: "GithubOAuth", RedirectURI: "https://app.test/cb"}, wantErr: true},
		{name: "missing redirect URI", opts: AuthorizationURLOptions{ConnectionID: "conn_1"}, wantErr: true},
		{name: "relative redirect URI", opts: AuthorizationURLOptions{ConnectionID: "conn_1", RedirectURI: "/callback"}, wantErr: true},
		{name: "redirect URI without host", opts: AuthorizationURLOptions{ConnectionID: "conn_1", RedirectURI: "https:///callback"}, wantErr: true},
		{name: "javascript redirect URI", opts: AuthorizationURLOptions{ConnectionID: "conn_1", RedirectURI: "javascript:alert(1)"}, wantErr: true},
		{name: "empty provider query param key", opts: AuthorizationURLOptions{ConnectionID: "conn_1", RedirectURI: "https://app.test/cb", ProviderQueryParams: map[string]string{"": "x"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AuthorizationURL(tt.opts)
			if tt.wantErr {
				if err == nil || !errors.Is(err, ErrInvalidOptions) || !strings.HasPrefix(err.Error(), "workos: ") {
					t.Fatalf("got %q, %v; want an error matching ErrInvalidOptions", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

const profileJSON = `{
	"object": "profile",
	"id": "prof_1",
	"idp_id": "00u1",
	"organization_id": null,
	"connection_id": "conn_1",
	"connection_type": "OktaSAML",
	"email": "alice@foo-corp.test",
	"first_name": null,
	"last_name": "Liddell",
	"name": null,
	"role": {"slug": "admin"},
	"roles": [{"slug": "admin"}, {"slug": "member"}],
	"groups": ["eng"],
	"custom_attributes": {"department": "R&D"},
	"raw_attributes": {},
	"brand_new_field": {"anything": [1, 2]}
}`

var wantProfile = Profile{
	ID: "prof_1", IdPID: "00u1", ConnectionID: "conn_1", ConnectionType: OktaSAML,
	Email: "alice@foo-corp.test", LastName: "Liddell",
	Role: &Role{Slug: "admin"}, Roles: []Role{{Slug: "admin"}, {Slug: "member"}}, Groups: []string{"eng"},
	CustomAttributes: map[string]any{"department": "R&D"}, RawAttributes: map[string]any{},
}

func TestExchangeCode(t *testing.T) {
	tests := []struct {
		name     string
		verifier string
		body     string
		want     *ProfileAndToken
	}{
		{
			name:     "every field",
			verifier: "verifier-123",
			body: `{"token_type":"Bearer","access_token":"tok_1","expires_in":600,"profile":` + profileJSON +
				`,"oauth_tokens":{"access_token":"gho_1","refresh_token":"r","expires_at":1700000000,"scopes":["repo"]},"unknown":true}`,
			want: &ProfileAndToken{
				Profile: wantProfile, AccessToken: "tok_1", TokenType: "Bearer", ExpiresIn: 10 * time.Minute,
				OAuthTokens: &OAuthTokens{AccessToken: "gho_1", RefreshToken: "r", ExpiresAt: 1700000000, Scopes: []string{"repo"}},
			},
		},
		{
			name: "optional fields absent, without PKCE",
			body: `{"access_token":"tok_1","profile":{"id":"prof_2","email":"b@c.test","role":null,"roles":null,"groups":null}}`,
			want: &ProfileAndToken{Profile: Profile{ID: "prof_2", Email: "b@c.test"}, AccessToken: "tok_1"},
		},
		{
			name: "optional fields null",
			body: `{"token_type":null,"access_token":"tok_1","expires_in":null,"oauth_tokens":null,"profile":{"id":"prof_2"}}`,
			want: &ProfileAndToken{Profile: Profile{ID: "prof_2"}, AccessToken: "tok_1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, testResponse{body: tt.body})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			got, err := c.ExchangeCode(context.Background(), "code_1", tt.verifier)
			if err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			r := srv.only(t)
			if r.Method != http.MethodPost || r.Path != "/sso/token" {
				t.Errorf("request: got %s %s, want POST /sso/token", r.Method, r.Path)
			}
			checkCommonHeaders(t, r, testAPIKey)
			checkHeader(t, r.Header, "Content-Type", "application/x-www-form-urlencoded")
			form, err := url.ParseQuery(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			wantForm := url.Values{
				"client_id": {testClientID}, "client_secret": {testAPIKey},
				"grant_type": {"authorization_code"}, "code": {"code_1"},
			}
			if tt.verifier != "" {
				wantForm.Set("code_verifier", tt.verifier)
			}
			if !reflect.DeepEqual(form, wantForm) {
				t.Errorf("form: got %v, want %v", form, wantForm)
			}
		})
	}
}

func TestExchangeCodeRejects(t *testing.T) {
	tests := []struct {
		name    string
		code    string
		body    string
		wantErr error
	}{
		{name: "empty code", code: "", wantErr: ErrInvalidOptions},
		{name: "no access token", code: "c", body: `{"profile":{"id":"prof_1"}}`},
		{name: "no profile", code: "c", body: `{"access_token":"tok"}`},
		{name: "not JSON", code: "c", body: `<html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, testResponse{body: tt.body})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			got, err := c.ExchangeCode(context.Background(), tt.code, "")
			if err == nil {
				t.Fatalf("got %+v, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
			if tt.code == "" && len(srv.recorded()) != 0 {
				t.Errorf("got %d requests, want none", len(srv.recorded()))
			}
		})
	}
}

func TestGetProfile(t *testing.T) {
	srv := newTestServer(t, testResponse{body: profileJSON})
	c, _ := newTestClient(t, srv.URL, RetryPolicy{})
	got, err := c.GetProfile(context.Background(), "access_tok_1")
	if err != nil {
		t.Fatalf("GetProfile: %v", err)
	}
	if !reflect.DeepEqual(*got, wantProfile) {
		t.Errorf("got  %+v\nwant %+v", *got, wantProfile)
	}
	r := srv.only(t)
	if r.Method != http.MethodGet || r.Path != "/sso/profile" || r.Body != "" {
		t.Errorf("request: got %s %s with body %q, want GET /sso/profile without body", r.Method, r.Path, r.Body)
	}
	// The access token, never the API key.
	checkCommonHeaders(t, r, "access_tok_1")

	if _, err := c.GetProfile(context.Background(), ""); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty token: got %v, want ErrInvalidOptions", err)
	}
}

const connectionJSON = `{"object":"connection","id":"conn_1","organization_id":"org_1","connection_type":"OktaSAML",
	"name":"Foo Corp","state":"active","status":"linked",
	"domains":[{"object":"connection_domain","id":"org_domain_1","domain":"foo-corp.test"}],
	"created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-16T12:00:00.000Z","options":{"x":1}}`

var wantConnection = Connection{
	ID: "conn_1", OrganizationID: "org_1", ConnectionType: OktaSAML, Name: "Foo Corp", State: ConnectionActive,
	Domains:   []ConnectionDomain{{ID: "org_domain_1", Domain: "foo-corp.test"}},
	CreatedAt: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 16, 12, 0, 0, 0, time.UTC),
}

func TestGetConnection(t *testing.T) {
	tests := []struct {
		name        string
		id          string
		body        string
		wantRawPath string
		want        Connection
	}{
		{name: "full", id: "conn_1", body: connectionJSON, wantRawPath: "/connections/conn_1", want: wantConnection},
		{
			name: "no organization, unknown state and type", id: "conn_2",
			body:        `{"id":"conn_2","connection_type":"BrandNewSAML","state":"hibernating","domains":[]}`,
			wantRawPath: "/connections/conn_2",
			want:        Connection{ID: "conn_2", ConnectionType: "BrandNewSAML", State: "hibernating", Domains: []ConnectionDomain{}},
		},
		{name: "id escaped", id: "a/../b?c#d", body: `{"id":"x"}`, wantRawPath: "/connections/a%2F..%2Fb%3Fc%23d", want: Connection{ID: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, testResponse{body: tt.body})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			got, err := c.GetConnection(context.Background(), tt.id)
			if err != nil {
				t.Fatalf("GetConnection: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
			r := srv.only(t)
			if r.Method != http.MethodGet || r.RawPath != tt.wantRawPath || r.RawQuery != "" {
				t.Errorf("request: got %s %s?%s, want GET %s", r.Method, r.RawPath, r.RawQuery, tt.wantRawPath)
			}
			checkCommonHeaders(t, r, testAPIKey)
		})
	}
	c, _ := newTestClient(t, "http://127.0.0.1:1", RetryPolicy{})
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetConnection(context.Background(), id); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("id %q: got %v, want ErrInvalidOptions", id, err)
		}
		if err := c.DeleteConnection(context.Background(), id); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("delete id %q: got %v, want ErrInvalidOptions", id, err)
		}
	}
}

func TestListConnections(t *testing.T) {
	tests := []struct {
		name      string
		opts      ListConnectionsOptions
		wantQuery url.Values
	}{
		{name: "zero options send nothing", opts: ListConnectionsOptions{}, wantQuery: url.Values{}},
		{
			name: "every option",
			opts: ListConnectionsOptions{
				ConnectionType: OktaSAML, Domain: "foo.test", OrganizationID: "org_1", Search: "alice@foo.test",
				Limit: 100, Before: "b1", After: "a1", Order: OrderAsc,
			},
			wantQuery: url.Values{
				"connection_type": {"OktaSAML"}, "domain": {"foo.test"}, "organization_id": {"org_1"},
				"search": {"alice@foo.test"}, "limit": {"100"}, "before": {"b1"}, "after": {"a1"}, "order": {"asc"},
			},
		},
		{name: "GitHub spelled as the filter wants", opts: ListConnectionsOptions{ConnectionType: ConnectionTypeGitHubOAuth, Limit: 1}, wantQuery: url.Values{"connection_type": {"GithubOAuth"}, "limit": {"1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, testResponse{body: `{"object":"list","data":[` + connectionJSON + `],"list_metadata":{"before":null,"after":"conn_9"}}`})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			got, err := c.ListConnections(context.Background(), tt.opts)
			if err != nil {
				t.Fatalf("ListConnections: %v", err)
			}
			want := &ConnectionList{Data: []Connection{wantConnection}, ListMetadata: ListMetadata{After: "conn_9"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			r := srv.only(t)
			if r.Method != http.MethodGet || r.Path != "/connections" {
				t.Errorf("request: got %s %s, want GET /connections", r.Method, r.Path)
			}
			checkCommonHeaders(t, r, testAPIKey)
			q, _ := url.ParseQuery(r.RawQuery)
			if !reflect.DeepEqual(q, tt.wantQuery) {
				t.Errorf("query: got %v, want %v", q, tt.wantQuery)
			}
		})
	}
}

func TestListConnectionsRejects(t *testing.T) {
	tests := []struct {
		name string
		opts ListConnectionsOptions
	}{
		{"negative limit", ListConnectionsOptions{Limit: -1}},
		{"limit over 100", ListConnectionsOptions{Limit: 101}},
		{"unknown order", ListConnectionsOptions{Order: "sideways"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, testResponse{body: `{}`})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			if _, err := c.ListConnections(context.Background(), tt.opts); !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("got %v, want ErrInvalidOptions", err)
			}
			if n := len(srv.recorded()); n != 0 {
				t.Errorf("got %d requests, want none", n)
			}
		})
	}
}

func TestListConnectionsNullData(t *testing.T) {
	srv := newTestServer(t, testResponse{body: `{"object":"list","data":null,"list_metadata":null}`})
	c, _ := newTestClient(t, srv.URL, RetryPolicy{})
	got, err := c.ListConnections(context.Background(), ListConnectionsOptions{})
	if err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	if len(got.Data) != 0 || got.ListMetadata != (ListMetadata{}) {
		t.Errorf("got %+v, want an empty page", got)
	}
}

func TestDeleteConnection(t *testing.T) {
	tests := []struct {
		name string
		resp testResponse
	}{
		{"204 empty", testResponse{status: http.StatusNoContent}},
		{"200 empty", testResponse{status: http.StatusOK}},
		{"200 with body", testResponse{status: http.StatusOK, body: `{"whatever":true}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.resp)
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			if err := c.DeleteConnection(context.Background(), "conn_1"); err != nil {
				t.Fatalf("DeleteConnection: %v", err)
			}
			r := srv.only(t)
			if r.Method != http.MethodDelete || r.Path != "/connections/conn_1" {
				t.Errorf("request: got %s %s, want DELETE /connections/conn_1", r.Method, r.Path)
			}
			checkCommonHeaders(t, r, testAPIKey)
		})
	}
}

func TestAuthorizeLogout(t *testing.T) {
	srv := newTestServer(t, testResponse{body: `{"logout_url":"https://auth.workos.test/sso/logout?token=lt","logout_token":"lt","extra":1}`})
	c, _ := newTestClient(t, srv.URL, RetryPolicy{})
	got, err := c.AuthorizeLogout(context.Background(), "prof_1")
	if err != nil {
		t.Fatalf("AuthorizeLogout: %v", err)
	}
	want := &LogoutAuthorization{LogoutURL: "https://auth.workos.test/sso/logout?token=lt", LogoutToken: "lt"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	r := srv.only(t)
	if r.Method != http.MethodPost || r.Path != "/sso/logout/authorize" {
		t.Errorf("request: got %s %s, want POST /sso/logout/authorize", r.Method, r.Path)
	}
	checkCommonHeaders(t, r, testAPIKey)
	checkHeader(t, r.Header, "Content-Type", "application/json")
	if r.Body != `{"profile_id":"prof_1"}` {
		t.Errorf("body: got %s, want {\"profile_id\":\"prof_1\"}", r.Body)
	}

	if _, err := c.AuthorizeLogout(context.Background(), ""); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty profile id: got %v, want ErrInvalidOptions", err)
	}

	srv = newTestServer(t, testResponse{status: http.StatusBadRequest, body: readFixture(t, "connection_invalid.json")})
	c, _ = newTestClient(t, srv.URL, RetryPolicy{})
	_, err = c.AuthorizeLogout(context.Background(), "prof_1")
	if !errors.Is(err, ErrConnectionInvalid) || !errors.Is(err, ErrBadRequest) {
		t.Errorf("got %v, want ErrConnectionInvalid and ErrBadRequest", err)
	}
}

func TestAPIErrorShapes(t *testing.T) {
	tests := []struct {
		fixture    string
		status     int
		header     map[string]string
		sentinels  []error
		wantCode   string
		wantMsg    string
		wantErrors []FieldError
		wantRetry  time.Duration
	}{
		{fixture: "object.json", status: 404, sentinels: []error{ErrNotFound}, wantCode: "entity_not_found", wantMsg: "Connection not found: conn_missing"},
		{fixture: "object_unknown_fields.json", status: 403, sentinels: []error{ErrForbidden}, wantCode: "forbidden", wantMsg: "Forbidden"},
		{
			fixture: "object_field_errors.json", status: 422, sentinels: []error{ErrValidation},
			wantCode: "invalid_request_parameters", wantMsg: "Validation failed",
			wantErrors: []FieldError{{Field: "domain", Code: "domain_invalid"}, {Field: "limit", Code: "too_large"}},
		},
		{
			fixture: "object_string_errors.json", status: 400, sentinels: []error{ErrBadRequest}, wantMsg: "Invalid request",
			wantErrors: []FieldError{{Message: "limit must be at most 100"}, {Message: "order is invalid"}},
		},
		{fixture: "oauth_invalid_grant.json", status: 400, sentinels: []error{ErrInvalidGrant, ErrBadRequest}, wantCode: "invalid_grant", wantMsg: "The code has expired or has already been used."},
		{fixture: "oauth_invalid_client.json", status: 401, sentinels: []error{ErrInvalidClient, ErrUnauthorized}, wantCode: "invalid_client", wantMsg: "Invalid client secret."},
		// The spec's status for it; the 401 above is what WorkOS has answered.
		{fixture: "oauth_invalid_client.json", status: 400, sentinels: []error{ErrInvalidClient, ErrBadRequest}, wantCode: "invalid_client", wantMsg: "Invalid client secret."},
		{fixture: "connection_invalid.json", status: 400, sentinels: []error{ErrConnectionInvalid, ErrBadRequest}, wantCode: "connection_invalid", wantMsg: "Logout is not supported for this connection."},
		{fixture: "unauthorized.json", status: 401, sentinels: []error{ErrUnauthorized}, wantCode: "Unauthorized"},
		{fixture: "bare_string.json", status: 429, header: map[string]string{"Retry-After": "12"}, sentinels: []error{ErrRateLimited}, wantMsg: "Ratelimited", wantRetry: 12 * time.Second},
		{fixture: "proxy.html", status: 502, sentinels: []error{ErrServer}},
		{fixture: "empty", status: 503, header: map[string]string{"Retry-After": "0"}, sentinels: []error{ErrServer}},
		{fixture: "truncated.json", status: 500, sentinels: []error{ErrServer}},
	}
	all := []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation, ErrRateLimited,
		ErrServer, ErrInvalidGrant, ErrInvalidClient, ErrConnectionInvalid}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			header := map[string]string{"X-Request-ID": "req_123", "Content-Type": "application/json"}
			for k, v := range tt.header {
				header[k] = v
			}
			srv := newTestServer(t, testResponse{status: tt.status, header: header, body: readFixture(t, tt.fixture)})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{MaxRetries: -1})
			_, err := c.GetConnection(context.Background(), "conn_missing")
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %T %v, want *APIError", err, err)
			}
			for _, s := range all {
				want := false
				for _, w := range tt.sentinels {
					want = want || w == s
				}
				if got := errors.Is(err, s); got != want {
					t.Errorf("errors.Is(err, %v): got %t, want %t", s, got, want)
				}
			}
			want := &APIError{
				StatusCode: tt.status, Method: "GET", Path: "/connections/conn_missing", Code: tt.wantCode,
				Message: tt.wantMsg, Errors: tt.wantErrors, RequestID: "req_123", RetryAfter: tt.wantRetry,
			}
			if !reflect.DeepEqual(apiErr, want) {
				t.Errorf("got  %+v\nwant %+v", apiErr, want)
			}
			if s := err.Error(); !strings.HasPrefix(s, "workos: GET /connections/conn_missing: ") || !strings.Contains(s, "req_123") {
				t.Errorf("Error(): got %q, want the request and the request id", s)
			}
		})
	}
}

// TestErrorsHideSecrets checks that no error text and no log record holds
// the API key, the code, the verifier or the access token, whatever the
// response echoes back.
func TestErrorsHideSecrets(t *testing.T) {
	const (
		code     = "01HCODEVALUE0123456789"
		verifier = "verifier_ABCDEFGHIJ0123456789"
		token    = "access_token_ZYXWVU98765"
	)
	secrets := []string{testAPIKey, code, verifier, token}
	echo := strings.Join(secrets, " ") + " " + url.QueryEscape(testAPIKey+"/"+code)
	long := strings.Repeat("x", 190) + testAPIKey // the key straddles the message cap
	bodies := map[string]string{
		"object message":     fmt.Sprintf(`{"message":%q,"code":%q}`, echo, testAPIKey),
		"oauth description":  fmt.Sprintf(`{"error":%q,"error_description":%q}`, code, echo),
		"field errors":       fmt.Sprintf(`{"message":"bad","errors":[{"field":%q,"code":%q,"message":%q},%q]}`, testAPIKey, code, echo, echo),
		"bare string":        fmt.Sprintf(`%q`, echo),
		"escaped in JSON":    `{"message":"` + strings.ReplaceAll(testAPIKey, "_", `\u005f`) + `"}`,
		"key across the cap": fmt.Sprintf(`{"message":%q}`, long),
		"HTML echo":          "<html><body>" + echo + "</body></html>",
		"plain text echo":    echo,
		"huge":               `{"message":"` + strings.Repeat(echo, 5000) + `"}`,
		"empty":              "",
		"control characters": fmt.Sprintf(`{"message":"a\n\r\u0000\u2028b %s"}`, testAPIKey),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			srv := newTestServer(t, testResponse{
				status: http.StatusBadRequest,
				header: map[string]string{"X-Request-ID": "req " + testAPIKey},
				body:   body,
			})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			c.logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			_, errExchange := c.ExchangeCode(context.Background(), code, verifier)
			_, errProfile := c.GetProfile(context.Background(), token)
			checks := []struct {
				err  error
				sent []string // the secrets the request carried
			}{
				{errExchange, []string{testAPIKey, code, verifier}},
				{errProfile, []string{testAPIKey, token}},
			}
			for _, ch := range checks {
				if ch.err == nil {
					t.Fatal("got nil error, want one")
				}
				if n := len(ch.err.Error()); n > 600 {
					t.Errorf("Error() is %d bytes long, want at most 600", n)
				}
				text := ch.err.Error() + fmt.Sprintf(" %+v %#v", ch.err, ch.err)
				for _, s := range ch.sent {
					if strings.Contains(text, s) || strings.Contains(text, s[:len(s)-4]) {
						t.Errorf("error %q holds a secret", text)
					}
				}
			}
			for _, s := range append(secrets, "client_secret", "Bearer") {
				if strings.Contains(logs.String(), s) {
					t.Errorf("logs hold %q:\n%s", s, logs.String())
				}
			}
		})
	}
}

func TestRetryBackoff(t *testing.T) {
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	unavailable := testResponse{status: http.StatusServiceUnavailable, body: `{"message":"down"}`}
	ok := testResponse{body: connectionJSON}
	tests := []struct {
		name      string
		retry     RetryPolicy
		randN     func(int64) int64
		responses []testResponse
		wantWaits []time.Duration
		wantErr   error
	}{
		{
			name: "recovers after three failures", responses: []testResponse{unavailable, unavailable, unavailable, ok},
			wantWaits: []time.Duration{s(1), s(2), s(4)},
		},
		{
			name: "gives up after the default five retries", responses: []testResponse{unavailable},
			wantWaits: []time.Duration{s(1), s(2), s(4), s(8), s(16)}, wantErr: ErrServer,
		},
		{
			name: "backoff capped at MaxBackoff", retry: RetryPolicy{MaxRetries: 7}, responses: []testResponse{unavailable},
			wantWaits: []time.Duration{s(1), s(2), s(4), s(8), s(16), s(30), s(30)}, wantErr: ErrServer,
		},
		{
			name: "jitter low end is half the backoff", retry: RetryPolicy{MaxRetries: 3, MinBackoff: 100 * time.Millisecond},
			randN:     func(int64) int64 { return 0 },
			responses: []testResponse{unavailable}, wantErr: ErrServer,
			wantWaits: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond},
		},
		{name: "retries disabled", retry: RetryPolicy{MaxRetries: -1}, responses: []testResponse{unavailable}, wantErr: ErrServer},
		{name: "404 is not retried", responses: []testResponse{{status: 404, body: `{"message":"nope"}`}}, wantErr: ErrNotFound},
		{name: "501 is not retried", responses: []testResponse{{status: 501}}, wantErr: ErrServer},
		{
			name: "every retryable status", responses: []testResponse{{status: 500}, {status: 502}, {status: 503}, {status: 504}, {status: 429}, ok},
			wantWaits: []time.Duration{s(1), s(2), s(4), s(8), s(16)},
		},
		{
			name: "Retry-After honoured", responses: []testResponse{{status: 429, header: map[string]string{"Retry-After": "7"}}, ok},
			wantWaits: []time.Duration{s(7)},
		},
		{
			name: "Retry-After on 503 honoured", responses: []testResponse{{status: 503, header: map[string]string{"Retry-After": "3"}}, ok},
			wantWaits: []time.Duration{s(3)},
		},
		{
			name: "Retry-After zero falls back to backoff", responses: []testResponse{{status: 429, header: map[string]string{"Retry-After": "0"}}, ok},
			wantWaits: []time.Duration{s(1)},
		},
		{
			name: "Retry-After at the cap honoured", retry: RetryPolicy{MaxRetryAfter: 10 * time.Second},
			responses: []testResponse{{status: 429, header: map[string]string{"Retry-After": "10"}}, ok},
			wantWaits: []time.Duration{s(10)},
		},
		{
			name: "Retry-After over the cap ends the retries", retry: RetryPolicy{MaxRetryAfter: 10 * time.Second},
			responses: []testResponse{{status: 429, header: map[string]string{"Retry-After": "11"}}, ok},
			wantErr:   ErrRateLimited,
		},
		{
			name: "Retry-After over the default cap", responses: []testResponse{{status: 429, header: map[string]string{"Retry-After": "3600"}}, ok},
			wantErr: ErrRateLimited,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.responses...)
			c, w := newTestClient(t, srv.URL, tt.retry)
			if tt.randN != nil {
				c.randN = tt.randN
			}
			_, err := c.GetConnection(context.Background(), "conn_1")
			if tt.wantErr == nil && err != nil {
				t.Fatalf("got %v, want success", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			if got := w.got(); !reflect.DeepEqual(got, tt.wantWaits) && (len(got) != 0 || len(tt.wantWaits) != 0) {
				t.Errorf("waits: got %v, want %v", got, tt.wantWaits)
			}
			if got, want := len(srv.recorded()), len(tt.wantWaits)+1; got != want {
				t.Errorf("attempts: got %d, want %d", got, want)
			}
		})
	}
}

func TestRetryAfterDate(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := newTestServer(t,
		testResponse{status: 429, header: map[string]string{"Retry-After": now.Add(20 * time.Second).Format(http.TimeFormat)}},
		testResponse{body: `{"data":[]}`})
	c, w := newTestClient(t, srv.URL, RetryPolicy{})
	c.now = func() time.Time { return now }
	if _, err := c.ListConnections(context.Background(), ListConnectionsOptions{}); err != nil {
		t.Fatalf("ListConnections: %v", err)
	}
	if got, want := w.got(), []time.Duration{20 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("waits: got %v, want %v", got, want)
	}
}

func TestRetryStopsBeforeDeadline(t *testing.T) {
	srv := newTestServer(t, testResponse{status: 429, header: map[string]string{"Retry-After": "30"}})
	c, w := newTestClient(t, srv.URL, RetryPolicy{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.GetConnection(ctx, "conn_1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter != 30*time.Second {
		t.Fatalf("got %v, want the 429 with its Retry-After", err)
	}
	if got := w.got(); len(got) != 0 {
		t.Errorf("waits: got %v, want none", got)
	}
}

func TestRetryContextCancelledDuringWait(t *testing.T) {
	srv := newTestServer(t, testResponse{status: 429, header: map[string]string{"Retry-After": "30"}})
	c, _ := newTestClient(t, srv.URL, RetryPolicy{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The caller gives up once the 30 s wait has begun; the real sleep
	// must end then, or this test hangs.
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepContext(ctx, d)
	}
	_, err := c.GetConnection(ctx, "conn_1")
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrRateLimited) {
		t.Errorf("got %v, want context.Canceled wrapped with the last error", err)
	}
}

func TestContextCancelledBeforeRequest(t *testing.T) {
	srv := newTestServer(t, testResponse{body: `{}`})
	c, w := newTestClient(t, srv.URL, RetryPolicy{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetConnection(ctx, "conn_1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if len(w.got()) != 0 {
		t.Errorf("waits: got %v, want none", w.got())
	}
}

// closedURL returns the URL of a listener that has been closed, where
// connections are refused.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestExchangeCodeRetries(t *testing.T) {
	ok := testResponse{body: `{"access_token":"tok","profile":{"id":"prof_1"}}`}
	tests := []struct {
		name         string
		responses    []testResponse
		wantAttempts int
		wantErr      error
	}{
		{name: "500 not retried", responses: []testResponse{{status: 500}, ok}, wantAttempts: 1, wantErr: ErrServer},
		{name: "503 not retried", responses: []testResponse{{status: 503}, ok}, wantAttempts: 1, wantErr: ErrServer},
		{name: "invalid_grant not retried", responses: []testResponse{{status: 400, body: `{"error":"invalid_grant"}`}, ok}, wantAttempts: 1, wantErr: ErrInvalidGrant},
		{name: "429 retried", responses: []testResponse{{status: 429}, {status: 429}, ok}, wantAttempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.responses...)
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			_, err := c.ExchangeCode(context.Background(), "code", "")
			if tt.wantErr == nil && err != nil {
				t.Fatalf("got %v, want success", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
			reqs := srv.recorded()
			if len(reqs) != tt.wantAttempts {
				t.Fatalf("attempts: got %d, want %d", len(reqs), tt.wantAttempts)
			}
			for _, r := range reqs[1:] {
				if got, want := r.Header.Get("Idempotency-Key"), reqs[0].Header.Get("Idempotency-Key"); got != want {
					t.Errorf("Idempotency-Key of a retry: got %q, want %q", got, want)
				}
			}
		})
	}
}

func TestConnectionRefusedRetried(t *testing.T) {
	for _, name := range []string{"ExchangeCode", "GetConnection"} {
		t.Run(name, func(t *testing.T) {
			c, w := newTestClient(t, closedURL(t), RetryPolicy{MaxRetries: 2})
			var err error
			if name == "ExchangeCode" {
				_, err = c.ExchangeCode(context.Background(), "code", "")
			} else {
				_, err = c.GetConnection(context.Background(), "conn_1")
			}
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("got %v, want ECONNREFUSED", err)
			}
			if got := len(w.got()); got != 2 {
				t.Errorf("retries: got %d, want 2", got)
			}
			prefix := "workos: POST /sso/token: "
			if name == "GetConnection" {
				prefix = "workos: GET /connections/conn_1: "
			}
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("got %q, want prefix %q", err, prefix)
			}
		})
	}
}

// TestTransportErrorAfterSend checks a connection dropped after the request
// was sent: safe requests are retried, the code exchange is not.
func TestTransportErrorAfterSend(t *testing.T) {
	var mu sync.Mutex // guards attempts
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		attempts++
		mu.Unlock()
		io.ReadAll(r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	tests := []struct {
		name         string
		call         func(*Client) error
		wantAttempts int
	}{
		{"ExchangeCode", func(c *Client) error { _, err := c.ExchangeCode(context.Background(), "code", ""); return err }, 1},
		{"AuthorizeLogout", func(c *Client) error { _, err := c.AuthorizeLogout(context.Background(), "prof_1"); return err }, 3},
		{"DeleteConnection", func(c *Client) error { return c.DeleteConnection(context.Background(), "conn_1") }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			attempts = 0
			mu.Unlock()
			c, _ := newTestClient(t, srv.URL, RetryPolicy{MaxRetries: 2})
			if err := tt.call(c); err == nil {
				t.Fatal("got nil error, want one")
			}
			mu.Lock()
			defer mu.Unlock()
			if attempts != tt.wantAttempts {
				t.Errorf("attempts: got %d, want %d", attempts, tt.wantAttempts)
			}
		})
	}
}

// requestRecorder is a RoundTripper that keeps the requests it sees.
type requestRecorder struct {
	mu   sync.Mutex // guards reqs
	reqs []*http.Request
	next http.RoundTripper
}

func (rr *requestRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	rr.mu.Lock()
	rr.reqs = append(rr.reqs, r)
	rr.mu.Unlock()
	return rr.next.RoundTrip(r)
}

// TestTokenRequestNotReplayable checks that net/http cannot replay the
// code exchange by itself: the request has no GetBody.
func TestTokenRequestNotReplayable(t *testing.T) {
	srv := newTestServer(t, testResponse{body: `{"access_token":"tok","profile":{"id":"prof_1"},"logout_url":"u"}`})
	rr := &requestRecorder{next: http.DefaultTransport}
	c, err := NewClient(ClientConfig{APIKey: testAPIKey, ClientID: testClientID, BaseURL: srv.URL, HTTPClient: &http.Client{Transport: rr}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExchangeCode(context.Background(), "code", ""); err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if _, err := c.AuthorizeLogout(context.Background(), "prof_1"); err != nil {
		t.Fatalf("AuthorizeLogout: %v", err)
	}
	if len(rr.reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(rr.reqs))
	}
	if rr.reqs[0].GetBody != nil {
		t.Errorf("token request GetBody: got set, want nil")
	}
	if rr.reqs[0].ContentLength <= 0 {
		t.Errorf("token request ContentLength: got %d, want the body's length", rr.reqs[0].ContentLength)
	}
	if rr.reqs[1].GetBody == nil {
		t.Errorf("logout request GetBody: got nil, want set")
	}
}

func TestTransportErrorHidesQuery(t *testing.T) {
	c, _ := newTestClient(t, closedURL(t), RetryPolicy{MaxRetries: -1})
	_, err := c.ListConnections(context.Background(), ListConnectionsOptions{Search: "alice@foo.test"})
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	if s := err.Error(); strings.Contains(s, "alice") || !strings.HasPrefix(s, "workos: GET /connections: ") {
		t.Errorf("got %q, want the method and path without the query", s)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var mu sync.Mutex // guards followed
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		mu.Lock()
		followed = true
		mu.Unlock()
	}))
	defer target.Close()
	srv := newTestServer(t, testResponse{status: http.StatusFound, header: map[string]string{"Location": target.URL + "/steal"}})
	c, _ := newTestClient(t, srv.URL, RetryPolicy{})
	_, err := c.GetConnection(context.Background(), "conn_1")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusFound {
		t.Errorf("got %v, want an *APIError with status 302", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if followed {
		t.Errorf("redirect: got followed, want not")
	}
}

func TestResponseTooLarge(t *testing.T) {
	srv := newTestServer(t, testResponse{body: `{"id":"conn_1","name":"` + strings.Repeat("x", maxSuccessBody) + `"}`})
	c, w := newTestClient(t, srv.URL, RetryPolicy{})
	if _, err := c.GetConnection(context.Background(), "conn_1"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v, want a size error", err)
	}
	if len(w.got()) != 0 {
		t.Errorf("waits: got %v, want none", w.got())
	}
}

func TestLogging(t *testing.T) {
	srv := newTestServer(t,
		testResponse{status: 503, header: map[string]string{"X-Request-ID": "req_1"}},
		testResponse{status: 503, header: map[string]string{"X-Request-ID": "req_2"}})
	var logs bytes.Buffer
	c, _ := newTestClient(t, srv.URL, RetryPolicy{MaxRetries: 1})
	c.logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c.ListConnections(context.Background(), ListConnectionsOptions{Search: "alice@foo.test"})
	var records []map[string]any
	dec := json.NewDecoder(&logs)
	for dec.More() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		records = append(records, rec)
	}
	if len(records) != 2 {
		t.Fatalf("got %d records, want 2", len(records))
	}
	want := []map[string]any{
		{"level": "DEBUG", "method": "GET", "path": "/connections", "attempt": 1.0, "status": 503.0, "request_id": "req_1", "wait": 1e9},
		{"level": "WARN", "method": "GET", "path": "/connections", "attempt": 2.0, "status": 503.0, "request_id": "req_2", "reason": "retries exhausted"},
	}
	for i, w := range want {
		for k, v := range w {
			if records[i][k] != v {
				t.Errorf("record %d %s: got %v, want %v", i, k, records[i][k], v)
			}
		}
	}
	if strings.Contains(logs.String(), "alice") {
		t.Errorf("logs hold the query:\n%s", logs.String())
	}
}

// pagedProvider serves ListConnections from fixed pages keyed by cursor.
type pagedProvider struct {
	pages map[string]ConnectionList
	errAt string
	calls []string
}

func (p *pagedProvider) ListConnections(_ context.Context, opts ListConnectionsOptions) (*ConnectionList, error) {
	p.calls = append(p.calls, opts.After)
	if opts.Before != "" {
		// WorkOS refuses before and after together.
		return nil, fmt.Errorf("before %q sent with after %q", opts.Before, opts.After)
	}
	if opts.After == p.errAt && p.errAt != "" {
		return nil, ErrServer
	}
	page, ok := p.pages[opts.After]
	if !ok {
		return nil, fmt.Errorf("unexpected cursor %q", opts.After)
	}
	return &page, nil
}

func conns(ids ...string) []Connection {
	var out []Connection
	for _, id := range ids {
		out = append(out, Connection{ID: id})
	}
	return out
}

func TestAllConnections(t *testing.T) {
	pages := map[string]ConnectionList{
		"":    {Data: conns("c1", "c2"), ListMetadata: ListMetadata{After: "c2"}},
		"c2":  {Data: conns("c3", "c4"), ListMetadata: ListMetadata{Before: "c3", After: "c4"}},
		"c4":  {Data: conns("c5"), ListMetadata: ListMetadata{Before: "c5"}},
		"bad": {Data: conns("x"), ListMetadata: ListMetadata{After: "bad"}},
	}
	tests := []struct {
		name      string
		start     string
		errAt     string
		stopAfter int
		wantIDs   []string
		wantErrs  int
		wantCalls []string
	}{
		{name: "three pages", wantIDs: []string{"c1", "c2", "c3", "c4", "c5"}, wantCalls: []string{"", "c2", "c4"}},
		{name: "from a cursor", start: "c2", wantIDs: []string{"c3", "c4", "c5"}, wantCalls: []string{"c2", "c4"}},
		{name: "early break", stopAfter: 3, wantIDs: []string{"c1", "c2", "c3"}, wantCalls: []string{"", "c2"}},
		{name: "error mid-way", errAt: "c4", wantIDs: []string{"c1", "c2", "c3", "c4"}, wantErrs: 1, wantCalls: []string{"", "c2", "c4"}},
		{name: "stuck cursor", start: "bad", wantIDs: []string{"x"}, wantErrs: 1, wantCalls: []string{"bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pagedProvider{pages: pages, errAt: tt.errAt}
			var ids []string
			errs := 0
			for conn, err := range AllConnections(context.Background(), p.ListConnections, ListConnectionsOptions{After: tt.start, Before: "ignored"}) {
				if err != nil {
					errs++
					continue
				}
				ids = append(ids, conn.ID)
				if len(ids) == tt.stopAfter {
					break
				}
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids: got %v, want %v", ids, tt.wantIDs)
			}
			if errs != tt.wantErrs {
				t.Errorf("errors: got %d, want %d", errs, tt.wantErrs)
			}
			if !reflect.DeepEqual(p.calls, tt.wantCalls) {
				t.Errorf("calls: got %q, want %q", p.calls, tt.wantCalls)
			}
		})
	}
}

func TestAllConnectionsOverHTTP(t *testing.T) {
	srv := newTestServer(t,
		testResponse{body: `{"data":[{"id":"c1"}],"list_metadata":{"before":null,"after":"c1"}}`},
		testResponse{body: `{"data":[{"id":"c2"}],"list_metadata":{"before":"c2","after":null}}`})
	c, _ := newTestClient(t, srv.URL, RetryPolicy{})
	var ids []string
	for conn, err := range AllConnections(context.Background(), c.ListConnections, ListConnectionsOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, conn.ID)
	}
	if want := []string{"c1", "c2"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
	if got := srv.recorded()[1].RawQuery; got != "after=c1&limit=1" {
		t.Errorf("second query: got %q, want after=c1&limit=1", got)
	}
}

// countingBody is an endless response body that counts the bytes read from
// it, and fails with err (if set) once limit bytes have been read.
type countingBody struct {
	mu    sync.Mutex // guards n
	n     int64
	limit int64 // 0: endless
	err   error
	fill  byte
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.n >= b.limit {
		return 0, b.err
	}
	if b.limit > 0 {
		p = p[:min(int64(len(p)), b.limit-b.n)]
	}
	for i := range p {
		p[i] = b.fill
	}
	b.n += int64(len(p))
	return len(p), nil
}

func (b *countingBody) Close() error { return nil }

func (b *countingBody) read() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// bodyTransport answers every request with status and a fresh body from
// newBody, and counts the requests.
type bodyTransport struct {
	mu      sync.Mutex // guards n and bodies
	n       int
	bodies  []*countingBody
	status  int
	newBody func() *countingBody
}

func (bt *bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	body := bt.newBody()
	bt.mu.Lock()
	bt.n++
	bt.bodies = append(bt.bodies, body)
	bt.mu.Unlock()
	return &http.Response{
		StatusCode: bt.status,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       body,
		Request:    r,
	}, nil
}

func (bt *bodyTransport) attempts() int {
	bt.mu.Lock()
	defer bt.mu.Unlock()
	return bt.n
}

func newTransportClient(t *testing.T, bt *bodyTransport, retry RetryPolicy) (*Client, *waitRecorder) {
	t.Helper()
	c, err := NewClient(ClientConfig{
		APIKey: testAPIKey, ClientID: testClientID, BaseURL: "https://api.workos.test",
		HTTPClient: &http.Client{Transport: bt}, Retry: retry,
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	w := &waitRecorder{}
	c.sleep = w.sleep
	c.randN = func(n int64) int64 { return n - 1 }
	return c, w
}

// TestResponseBodiesAreCapped checks that a hostile or broken server that
// streams an endless body gets at most a bounded read, for errors and
// successes alike.
func TestResponseBodiesAreCapped(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		maxRead int64
	}{
		{"error body", http.StatusBadRequest, maxErrorBody},
		{"success body", http.StatusOK, maxSuccessBody + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bt := &bodyTransport{status: tt.status, newBody: func() *countingBody { return &countingBody{fill: 'x'} }}
			c, _ := newTransportClient(t, bt, RetryPolicy{MaxRetries: -1})
			if _, err := c.GetConnection(context.Background(), "conn_1"); err == nil {
				t.Fatal("got nil error, want one")
			}
			if got := bt.bodies[0].read(); got > tt.maxRead {
				t.Errorf("read %d bytes of the body, want at most %d", got, tt.maxRead)
			}
		})
	}
}

// TestBrokenSuccessBody checks a 200 whose body breaks off: WorkOS has
// acted on the request, so only requests that are safe to repeat are
// retried; the code exchange, whose code is now spent, is not.
func TestBrokenSuccessBody(t *testing.T) {
	tests := []struct {
		name         string
		call         func(*Client) error
		wantAttempts int
	}{
		{"ExchangeCode", func(c *Client) error { _, err := c.ExchangeCode(context.Background(), "code", "v"); return err }, 1},
		{"GetConnection", func(c *Client) error { _, err := c.GetConnection(context.Background(), "conn_1"); return err }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bt := &bodyTransport{status: http.StatusOK, newBody: func() *countingBody {
				return &countingBody{fill: ' ', limit: 10, err: io.ErrUnexpectedEOF}
			}}
			c, _ := newTransportClient(t, bt, RetryPolicy{MaxRetries: 2})
			err := tt.call(c)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
			}
			if got := bt.attempts(); got != tt.wantAttempts {
				t.Errorf("attempts: got %d, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestExchangeCodeExpiresInOutOfRange(t *testing.T) {
	for _, v := range []string{"-600", "0", "1e300", "4294967296"} {
		t.Run(v, func(t *testing.T) {
			srv := newTestServer(t, testResponse{body: `{"access_token":"tok","expires_in":` + v + `,"profile":{"id":"prof_1"}}`})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			got, err := c.ExchangeCode(context.Background(), "code", "")
			if err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			if got.ExpiresIn != 0 {
				t.Errorf("ExpiresIn: got %v, want 0 for expires_in %s", got.ExpiresIn, v)
			}
		})
	}
}

// TestIncompleteResponses checks that a 200 missing the one field a
// method exists to return is an error, not a zero value.
func TestIncompleteResponses(t *testing.T) {
	tests := []struct {
		name string
		body string
		call func(*Client) error
	}{
		{"profile without id", `{"object":"profile","email":"a@b.test"}`, func(c *Client) error {
			_, err := c.GetProfile(context.Background(), "tok")
			return err
		}},
		{"logout without URL", `{"logout_token":"lt"}`, func(c *Client) error {
			_, err := c.AuthorizeLogout(context.Background(), "prof_1")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, testResponse{body: tt.body})
			c, _ := newTestClient(t, srv.URL, RetryPolicy{})
			if err := tt.call(c); err == nil || !strings.HasPrefix(err.Error(), "workos: ") {
				t.Errorf("got %v, want a workos error", err)
			}
		})
	}
}

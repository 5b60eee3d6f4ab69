package ssogate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
)

// Provider is the part of WorkOS that ssogate talks to. [*Client] implements
// it over HTTP; tests may substitute their own implementation, or point a
// [*Client] at a workostest server.
type Provider interface {
	// AuthorizationURL builds the URL of WorkOS's /sso/authorize endpoint for
	// the given options. It makes no HTTP call.
	AuthorizationURL(opts AuthorizationURLOptions) (string, error)

	// ExchangeCode trades the code from the callback for the user's profile
	// and an access token. codeVerifier is the PKCE verifier whose challenge
	// was sent with the authorization request, or "" if PKCE was not used.
	ExchangeCode(ctx context.Context, code, codeVerifier string) (*ProfileAndToken, error)

	// GetProfile returns the profile for an access token from ExchangeCode.
	GetProfile(ctx context.Context, accessToken string) (*Profile, error)

	// GetConnection returns the connection with the given id.
	GetConnection(ctx context.Context, id string) (*Connection, error)

	// ListConnections returns one page of connections.
	ListConnections(ctx context.Context, opts ListConnectionsOptions) (*ConnectionList, error)

	// DeleteConnection deletes the connection with the given id.
	DeleteConnection(ctx context.Context, id string) error

	// AuthorizeLogout starts an RP-initiated SSO logout for the profile. It
	// works only for OIDC connections; others answer an [*APIError] that
	// matches [ErrConnectionInvalid].
	AuthorizeLogout(ctx context.Context, profileID string) (*LogoutAuthorization, error)
}

// OAuthProvider names an OAuth provider that can be used as the selector of
// an authorization request instead of a connection or an organization.
type OAuthProvider string

// The OAuth providers WorkOS accepts in the provider selector.
const (
	AppleOAuth             OAuthProvider = "AppleOAuth"
	BitbucketOAuth         OAuthProvider = "BitbucketOAuth"
	GitHubOAuth            OAuthProvider = "GitHubOAuth"
	GitLabOAuth            OAuthProvider = "GitLabOAuth"
	GoogleOAuth            OAuthProvider = "GoogleOAuth"
	IntuitOAuth            OAuthProvider = "IntuitOAuth"
	LinkedInOAuth          OAuthProvider = "LinkedInOAuth"
	MicrosoftOAuth         OAuthProvider = "MicrosoftOAuth"
	SalesforceOAuth        OAuthProvider = "SalesforceOAuth"
	SlackOAuth             OAuthProvider = "SlackOAuth"
	VercelMarketplaceOAuth OAuthProvider = "VercelMarketplaceOAuth"
	VercelOAuth            OAuthProvider = "VercelOAuth"
	XeroOAuth              OAuthProvider = "XeroOAuth"
)

// Valid reports whether p is one of the providers WorkOS accepts.
func (p OAuthProvider) Valid() bool {
	switch p {
	case AppleOAuth, BitbucketOAuth, GitHubOAuth, GitLabOAuth, GoogleOAuth,
		IntuitOAuth, LinkedInOAuth, MicrosoftOAuth, SalesforceOAuth, SlackOAuth,
		VercelMarketplaceOAuth, VercelOAuth, XeroOAuth:
		return true
	}
	return false
}

// AuthorizationURLOptions are the parameters of an authorization request.
// Exactly one of ConnectionID, OrganizationID and Provider must be set.
type AuthorizationURLOptions struct {
	// ConnectionID selects a connection (conn_...). Sent as "connection".
	ConnectionID string
	// OrganizationID selects an organization (org_...). Sent as "organization".
	OrganizationID string
	// Provider selects an OAuth provider.
	Provider OAuthProvider

	// RedirectURI is the absolute URL WorkOS sends the browser back to. It
	// must be registered in the WorkOS dashboard.
	RedirectURI string
	// State is returned unchanged on the redirect back.
	State string
	// CodeChallenge is the PKCE S256 challenge of a code verifier, as made
	// by [PKCEChallenge]. The method sent is always S256.
	CodeChallenge string

	// LoginHint pre-fills the user's email at the identity provider.
	LoginHint string
	// DomainHint pre-fills the domain at the identity provider.
	DomainHint string
	// ForceLogin sends prompt=login, asking the identity provider to
	// authenticate the user again even if it has a session.
	ForceLogin bool
	// Nonce is passed through to OIDC identity providers.
	Nonce string
	// ProviderScopes are extra OAuth scopes for the provider; sent comma-joined.
	ProviderScopes []string
	// ProviderQueryParams are extra query parameters for the provider.
	ProviderQueryParams map[string]string
}

// ProfileAndToken is the result of a code exchange.
type ProfileAndToken struct {
	Profile     Profile
	AccessToken string
	TokenType   string
	// ExpiresIn is the lifetime of AccessToken; zero if WorkOS did not say.
	ExpiresIn time.Duration
	// OAuthTokens holds the OAuth provider's own tokens, for OAuth
	// connections that return them; nil otherwise.
	OAuthTokens *OAuthTokens
}

// OAuthTokens are the tokens an OAuth provider issued for the user.
type OAuthTokens struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	ExpiresAt    int64    `json:"expires_at"`
	Scopes       []string `json:"scopes"`
}

// Profile is a user's identity as asserted by their identity provider and
// normalized by WorkOS. Its JSON form uses WorkOS's field names.
type Profile struct {
	ID             string         `json:"id"`
	IdPID          string         `json:"idp_id"`
	OrganizationID string         `json:"organization_id"`
	ConnectionID   string         `json:"connection_id"`
	ConnectionType ConnectionType `json:"connection_type"`
	Email          string         `json:"email"`
	FirstName      string         `json:"first_name"`
	LastName       string         `json:"last_name"`
	Name           string         `json:"name,omitempty"`
	Role           *Role          `json:"role,omitempty"`
	Roles          []Role         `json:"roles,omitempty"`
	Groups         []string       `json:"groups,omitempty"`

	// CustomAttributes are the attributes mapped in the WorkOS dashboard.
	CustomAttributes map[string]any `json:"custom_attributes,omitempty"`
	// RawAttributes is deprecated by WorkOS and empty since 2026-04-15.
	RawAttributes map[string]any `json:"raw_attributes,omitempty"`
}

// Role is a role assigned to a user through their identity provider.
type Role struct {
	Slug string `json:"slug"`
}

// ConnectionType is the kind of a connection, such as [OktaSAML]. WorkOS adds
// new types over time, so any string may appear.
type ConnectionType string

// Some of the connection types WorkOS reports.
const (
	ADFSSAML         ConnectionType = "ADFSSAML"
	AzureSAML        ConnectionType = "AzureSAML"
	EntraIDOIDC      ConnectionType = "EntraIdOIDC"
	GenericOIDC      ConnectionType = "GenericOIDC"
	GenericSAML      ConnectionType = "GenericSAML"
	GoogleSAML       ConnectionType = "GoogleSAML"
	OktaSAML         ConnectionType = "OktaSAML"
	OneLoginSAML     ConnectionType = "OneLoginSAML"
	PingFederateSAML ConnectionType = "PingFederateSAML"
	TestIdP          ConnectionType = "TestIdp"

	ConnectionTypeAppleOAuth     ConnectionType = "AppleOAuth"
	ConnectionTypeGitHubOAuth    ConnectionType = "GitHubOAuth"
	ConnectionTypeGoogleOAuth    ConnectionType = "GoogleOAuth"
	ConnectionTypeMicrosoftOAuth ConnectionType = "MicrosoftOAuth"
)

// ConnectionState is the lifecycle state of a connection. Unknown states may
// appear and must be treated as not active.
type ConnectionState string

// The connection states WorkOS reports.
const (
	ConnectionRequiresType ConnectionState = "requires_type"
	ConnectionDraft        ConnectionState = "draft"
	ConnectionActive       ConnectionState = "active"
	ConnectionValidating   ConnectionState = "validating"
	ConnectionInactive     ConnectionState = "inactive"
	ConnectionDeleting     ConnectionState = "deleting"
)

// Connection is a configured way to sign in: a SAML or OIDC identity
// provider of an organization, or an OAuth provider.
type Connection struct {
	ID             string             `json:"id"`
	OrganizationID string             `json:"organization_id,omitempty"`
	ConnectionType ConnectionType     `json:"connection_type"`
	Name           string             `json:"name"`
	State          ConnectionState    `json:"state"`
	Domains        []ConnectionDomain `json:"domains"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

// Active reports whether users can sign in through the connection.
func (c *Connection) Active() bool { return c.State == ConnectionActive }

// ConnectionDomain is an email domain routed to a connection.
type ConnectionDomain struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

// ConnectionList is one page of connections.
type ConnectionList struct {
	Data         []Connection `json:"data"`
	ListMetadata ListMetadata `json:"list_metadata"`
}

// ListMetadata holds the opaque cursors of a page. After is "" on the last page.
type ListMetadata struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

// Order is the sort order of a list.
type Order string

// The orders WorkOS accepts. The default is [OrderDesc].
const (
	OrderNormal Order = "normal"
	OrderAsc    Order = "asc"
	OrderDesc   Order = "desc"
)

// ListConnectionsOptions filter and page a connection listing. Zero values
// are not sent.
type ListConnectionsOptions struct {
	ConnectionType ConnectionType
	Domain         string
	OrganizationID string
	Search         string
	// Limit is the page size, 1 to 100; WorkOS defaults to 10.
	Limit  int
	Before string
	After  string
	Order  Order
}

// LogoutAuthorization is the result of [Provider.AuthorizeLogout]: the
// browser is sent to LogoutURL to end the identity provider's session.
type LogoutAuthorization struct {
	LogoutURL   string `json:"logout_url"`
	LogoutToken string `json:"logout_token"`
}

// Version is the version of this package. Every request to WorkOS carries
// it in its User-Agent header, as "ssogate/<Version>".
const Version = "0.1.0"

const (
	userAgent      = "ssogate/" + Version
	defaultBaseURL = "https://api.workos.com"
	defaultTimeout = 60 * time.Second
)

// ClientConfig configures a [Client]. Pass it to [NewClient].
type ClientConfig struct {
	// APIKey is the WorkOS API key (sk_...). Required: there is no default.
	APIKey string
	// ClientID is the WorkOS client ID (client_...). Required: there is no default.
	ClientID string
	// BaseURL is the base URL of the WorkOS API, an absolute https URL (or
	// http to a loopback address, such as a local emulator) without
	// credentials, query or fragment. The default is https://api.workos.com.
	BaseURL string
	// HTTPClient sends the requests. The default is a client of ssogate's
	// own (not http.DefaultClient) with a 60-second timeout. The Client uses
	// a copy that never follows redirects: the WorkOS API does not redirect,
	// and following one would replay the API key to wherever it points.
	HTTPClient *http.Client
	// Logger receives a debug record for every request attempt and a
	// warning when a request is given up after retrying. Records never hold
	// keys, tokens, codes, verifiers, states, query strings or bodies. The
	// default discards everything.
	Logger *slog.Logger
	// Retry says which failed requests are retried and how. The zero value
	// is the default policy described at [RetryPolicy].
	Retry RetryPolicy
	// Observer receives every call: its route, status, duration and
	// attempts (WorkOSCallStart and WorkOSCallDone). Default: none; a
	// Client without one reports to the Observer of the first [Middleware]
	// configured with it.
	Observer *Observer
}

// Client is a [Provider] that talks to the WorkOS API over HTTP. It is safe
// for concurrent use. Create one with [NewClient].
//
// Where WorkOS's answers may differ from its OpenAPI spec, the client
// takes both: a refused client ID or API key at POST /sso/token is
// [ErrInvalidClient] by its error code, whether WorkOS answers 400 (the
// spec) or 401; an API route refusing the key is [ErrUnauthorized] (401,
// which the spec does not list but WorkOS and its SDKs use). List cursors
// are object ids, and [AllConnections] pages with before under
// [OrderNormal], as the spec's semantics of that order say.
type Client struct {
	apiKey   string
	clientID string
	baseURL  string // without a trailing slash
	http     *http.Client
	logger   *slog.Logger
	retry    RetryPolicy
	obs      atomic.Pointer[Observer]

	// Seams for tests; NewClient sets the real ones.
	sleep             func(ctx context.Context, d time.Duration) error
	randN             func(n int64) int64 // uniform in [0, n)
	now               func() time.Time
	newIdempotencyKey func() string
}

var _ Provider = (*Client)(nil)

// NewClient returns a Client for cfg. A missing or malformed setting is
// reported as a [*ConfigError] naming the field; the error never repeats
// the API key.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := checkCredential("ClientConfig.APIKey", cfg.APIKey, "sk_"); err != nil {
		return nil, err
	}
	if err := checkCredential("ClientConfig.ClientID", cfg.ClientID, "client_"); err != nil {
		return nil, err
	}
	base := cfg.BaseURL
	if base == "" {
		base = defaultBaseURL
	}
	if problem := checkBaseURL(base); problem != "" {
		return nil, &ConfigError{Field: "ClientConfig.BaseURL", Problem: problem}
	}
	retry, err := cfg.Retry.withDefaults()
	if err != nil {
		return nil, err
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Timeout = defaultTimeout
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		apiKey:            cfg.APIKey,
		clientID:          cfg.ClientID,
		baseURL:           strings.TrimRight(base, "/"),
		http:              &hc,
		logger:            logger,
		retry:             retry,
		sleep:             sleepContext,
		randN:             mathrand.Int64N,
		now:               time.Now,
		newIdempotencyKey: newIdempotencyKey,
	}
	if cfg.Observer != nil {
		c.obs.Store(cfg.Observer)
	}
	return c, nil
}

// checkCredential checks a key or id: present, with the right prefix, and
// free of characters that cannot travel in a header or form.
func checkCredential(field, v, prefix string) error {
	switch {
	case v == "":
		return &ConfigError{Field: field, Problem: "is required"}
	case !strings.HasPrefix(v, prefix):
		return &ConfigError{Field: field, Problem: "must start with " + prefix}
	case strings.IndexFunc(v, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0:
		return &ConfigError{Field: field, Problem: "must contain only printable ASCII characters"}
	}
	return nil
}

// loopbackHost reports whether host is localhost, a name under .localhost
// or a loopback address.
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkBaseURL returns what is wrong with a base URL, or "".
func checkBaseURL(v string) string {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "is not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute http or https URL"
	case u.Host == "":
		return "must have a host"
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		// The API key travels in every request: in clear only to this
		// machine, such as a local emulator.
		return "must be https, or http only to a loopback address (such as a local emulator): the API key would travel in clear"
	case u.User != nil:
		return "must not contain credentials"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query"
	case u.Fragment != "" || strings.Contains(v, "#"):
		return "must not have a fragment"
	}
	return ""
}

func invalidOptions(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// ClientID returns the WorkOS client ID the client was made with.
func (c *Client) ClientID() string { return c.clientID }

// AuthorizationURL builds the URL of WorkOS's /sso/authorize endpoint, to
// which the browser is redirected to sign in. It makes no HTTP call. The
// query is sorted by key, so equal options give equal URLs. Errors match
// [ErrInvalidOptions].
func (c *Client) AuthorizationURL(opts AuthorizationURLOptions) (string, error) {
	selectors := 0
	for _, set := range [...]bool{opts.ConnectionID != "", opts.OrganizationID != "", opts.Provider != ""} {
		if set {
			selectors++
		}
	}
	if selectors != 1 {
		return "", invalidOptions("exactly one of ConnectionID, OrganizationID and Provider must be set")
	}
	if opts.Provider != "" && !opts.Provider.Valid() {
		return "", invalidOptions("Provider is not an OAuth provider WorkOS accepts")
	}
	if u, err := url.Parse(opts.RedirectURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", invalidOptions("RedirectURI must be an absolute http or https URL")
	}
	q := url.Values{
		"client_id":     {c.clientID},
		"redirect_uri":  {opts.RedirectURI},
		"response_type": {"code"},
	}
	set := func(key, value string) {
		if value != "" {
			q.Set(key, value)
		}
	}
	set("connection", opts.ConnectionID)
	set("organization", opts.OrganizationID)
	set("provider", string(opts.Provider))
	set("state", opts.State)
	set("login_hint", opts.LoginHint)
	set("domain_hint", opts.DomainHint)
	set("nonce", opts.Nonce)
	if opts.ForceLogin {
		q.Set("prompt", "login")
	}
	if len(opts.ProviderScopes) > 0 {
		q.Set("provider_scopes", strings.Join(opts.ProviderScopes, ","))
	}
	for k, v := range opts.ProviderQueryParams {
		if k == "" {
			return "", invalidOptions("ProviderQueryParams must not have an empty key")
		}
		q.Set("provider_query_params["+k+"]", v)
	}
	if opts.CodeChallenge != "" {
		q.Set("code_challenge", opts.CodeChallenge)
		q.Set("code_challenge_method", "S256")
	}
	return c.baseURL + "/sso/authorize?" + q.Encode(), nil
}

// ExchangeCode trades the code from the callback for the user's profile and
// an access token (POST /sso/token). A code is single-use, so the request is
// retried only when WorkOS rate limits it or it surely never arrived; an
// expired or spent code answers an [*APIError] matching [ErrInvalidGrant],
// which means the login must start again.
func (c *Client) ExchangeCode(ctx context.Context, code, codeVerifier string) (*ProfileAndToken, error) {
	if code == "" {
		return nil, invalidOptions("code is required")
	}
	form := url.Values{
		"client_id":     {c.clientID},
		"client_secret": {c.apiKey},
		"grant_type":    {"authorization_code"},
		"code":          {code},
	}
	if codeVerifier != "" {
		form.Set("code_verifier", codeVerifier)
	}
	var resp struct {
		TokenType   string       `json:"token_type"`
		AccessToken string       `json:"access_token"`
		ExpiresIn   float64      `json:"expires_in"`
		Profile     Profile      `json:"profile"`
		OAuthTokens *OAuthTokens `json:"oauth_tokens"`
	}
	r := &call{route: "POST /sso/token", method: http.MethodPost, path: "/sso/token", form: form, secrets: []string{code, codeVerifier}}
	if err := c.do(ctx, r, &resp); err != nil {
		return nil, err
	}
	if resp.AccessToken == "" || resp.Profile.ID == "" {
		return nil, fmt.Errorf("ssogate: workos POST /sso/token: response has no access token or profile")
	}
	pt := &ProfileAndToken{
		Profile:     resp.Profile,
		AccessToken: resp.AccessToken,
		TokenType:   resp.TokenType,
		OAuthTokens: resp.OAuthTokens,
	}
	if s := resp.ExpiresIn; s > 0 && s < 1<<31 {
		pt.ExpiresIn = time.Duration(s * float64(time.Second))
	}
	return pt, nil
}

// GetProfile returns the profile for an access token from
// [Client.ExchangeCode] (GET /sso/profile). The request is authorized with
// the access token, not with the API key.
func (c *Client) GetProfile(ctx context.Context, accessToken string) (*Profile, error) {
	if accessToken == "" {
		return nil, invalidOptions("access token is required")
	}
	var p Profile
	r := &call{route: "GET /sso/profile", method: http.MethodGet, path: "/sso/profile", bearer: accessToken, secrets: []string{accessToken}}
	if err := c.do(ctx, r, &p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		return nil, fmt.Errorf("ssogate: workos GET /sso/profile: response has no profile id")
	}
	return &p, nil
}

// connectionPath returns the path of a connection, or an error if id cannot be one.
func connectionPath(id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", invalidOptions("a connection id is required")
	}
	return "/connections/" + url.PathEscape(id), nil
}

// GetConnection returns the connection with the given id (GET /connections/{id}).
// An unknown id answers an [*APIError] matching [ErrNotFound].
func (c *Client) GetConnection(ctx context.Context, id string) (*Connection, error) {
	path, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var conn Connection
	if err := c.do(ctx, &call{route: "GET /connections/{id}", method: http.MethodGet, path: path}, &conn); err != nil {
		return nil, err
	}
	return &conn, nil
}

// wireConnectionType is the spelling of t in the connection_type filter of
// GET /connections, which differs from the type's own name for GitHub.
func wireConnectionType(t ConnectionType) string {
	if t == ConnectionTypeGitHubOAuth {
		return "GithubOAuth"
	}
	return string(t)
}

// ListConnections returns one page of connections (GET /connections). Use
// [AllConnections] to walk every page. Limit must be 0 (WorkOS's default
// of 10) or 1 to 100.
func (c *Client) ListConnections(ctx context.Context, opts ListConnectionsOptions) (*ConnectionList, error) {
	if opts.Limit < 0 || opts.Limit > 100 {
		return nil, invalidOptions("Limit must be between 1 and 100, or 0 for the default")
	}
	switch opts.Order {
	case "", OrderNormal, OrderAsc, OrderDesc:
	default:
		return nil, invalidOptions("Order must be normal, asc or desc")
	}
	q := url.Values{}
	set := func(key, value string) {
		if value != "" {
			q.Set(key, value)
		}
	}
	set("connection_type", wireConnectionType(opts.ConnectionType))
	set("domain", opts.Domain)
	set("organization_id", opts.OrganizationID)
	set("search", opts.Search)
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	set("before", opts.Before)
	set("after", opts.After)
	set("order", string(opts.Order))
	var list ConnectionList
	if err := c.do(ctx, &call{route: "GET /connections", method: http.MethodGet, path: "/connections", query: q}, &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// DeleteConnection deletes the connection with the given id
// (DELETE /connections/{id}). If a retry follows a failure after which the
// deletion did happen, the retry answers an [*APIError] matching [ErrNotFound].
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	path, err := connectionPath(id)
	if err != nil {
		return err
	}
	return c.do(ctx, &call{route: "DELETE /connections/{id}", method: http.MethodDelete, path: path}, nil)
}

// AuthorizeLogout starts an RP-initiated SSO logout for the profile
// (POST /sso/logout/authorize); the browser is then sent to the returned
// LogoutURL. Only OIDC connections support it: others answer an [*APIError]
// matching [ErrConnectionInvalid].
func (c *Client) AuthorizeLogout(ctx context.Context, profileID string) (*LogoutAuthorization, error) {
	if profileID == "" {
		return nil, invalidOptions("a profile id is required")
	}
	body := map[string]string{"profile_id": profileID}
	var la LogoutAuthorization
	r := &call{route: "POST /sso/logout/authorize", method: http.MethodPost, path: "/sso/logout/authorize", json: body, idempotent: true}
	if err := c.do(ctx, r, &la); err != nil {
		return nil, err
	}
	if la.LogoutURL == "" {
		return nil, fmt.Errorf("ssogate: workos POST /sso/logout/authorize: response has no logout URL")
	}
	return &la, nil
}

// AllConnections walks every page of a connection listing, starting at
// opts.After and following each page's ListMetadata.After until it is
// empty (opts.Before is ignored). With [OrderNormal], which WorkOS's spec
// lists newest first but pages the other way (before fetches older
// records, after newer ones), it starts at opts.Before and follows
// ListMetadata.Before instead (opts.After is ignored), so that it too
// walks from the newest to the oldest. The first error is yielded once,
// with a zero Connection, and ends the walk; so does a consumer that stops
// ranging.
func AllConnections(ctx context.Context, p Provider, opts ListConnectionsOptions) iter.Seq2[Connection, error] {
	return func(yield func(Connection, error) bool) {
		normal := opts.Order == OrderNormal
		cursor := &opts.After
		if normal {
			opts.After, cursor = "", &opts.Before
		} else {
			opts.Before = ""
		}
		for {
			page, err := p.ListConnections(ctx, opts)
			if err != nil {
				yield(Connection{}, err)
				return
			}
			for _, conn := range page.Data {
				if !yield(conn, nil) {
					return
				}
			}
			next := page.ListMetadata.After
			if normal {
				next = page.ListMetadata.Before
			}
			if next == "" {
				return
			}
			if next == *cursor {
				// A cursor that does not move would loop for ever.
				yield(Connection{}, errors.New("ssogate: connection list cursor did not advance"))
				return
			}
			*cursor = next
		}
	}
}

// call describes one WorkOS API request.
type call struct {
	route  string // method and path pattern, for observers
	method string
	path   string     // the API path, without query; used in errors and logs
	query  url.Values // never logged nor put in errors: it can hold emails
	form   url.Values // a form body
	json   any        // a JSON body
	// bearer authorizes the request; the API key if empty.
	bearer string
	// idempotent reports whether the request is safe to repeat after it
	// reached WorkOS. GET and DELETE always are.
	idempotent bool
	// secrets are values of the request that must not appear in errors.
	secrets []string
}

// outcome is the result of one attempt at a call.
type outcome struct {
	err           error // nil on success
	status        int   // 0 if no response arrived
	requestID     string
	retryable     bool
	retryAfter    time.Duration
	hasRetryAfter bool
	attempts      int // set by send
}

// do sends r, retrying as the client's [RetryPolicy] allows, and decodes a
// successful response's JSON body into out, if out is not nil. It reports
// the call to the client's [Observer].
func (c *Client) do(ctx context.Context, r *call, out any) error {
	obs := c.obs.Load()
	if obs == nil || obs.WorkOSCallStart == nil && obs.WorkOSCallDone == nil {
		var last outcome
		return c.send(ctx, r, out, &last)
	}
	if obs.WorkOSCallStart != nil {
		ctx = obs.WorkOSCallStart(ctx, r.route)
	}
	start := c.now()
	var last outcome
	err := c.send(ctx, r, out, &last)
	if obs.WorkOSCallDone != nil {
		info := WorkOSCallInfo{
			Route: r.route, Status: last.status, RequestID: last.requestID,
			Attempts: last.attempts, Duration: c.now().Sub(start), Err: err,
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			info.Code = workOSCode(apiErr.Code)
		}
		obs.WorkOSCallDone(ctx, info)
	}
	return err
}

// send is do without the observer; last is the last attempt's outcome.
func (c *Client) send(ctx context.Context, r *call, out any, last *outcome) error {
	var body []byte
	var contentType string
	switch {
	case r.form != nil:
		body, contentType = []byte(r.form.Encode()), "application/x-www-form-urlencoded"
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			return fmt.Errorf("ssogate: workos %s %s: encoding request: %w", r.method, r.path, err)
		}
		body, contentType = b, "application/json"
	}
	if r.method == http.MethodGet || r.method == http.MethodDelete {
		r.idempotent = true
	}
	var idempotencyKey string
	if r.method == http.MethodPost {
		// One key for every attempt, so WorkOS can recognize a repeat.
		idempotencyKey = c.newIdempotencyKey()
	}
	secrets := append([]string{c.apiKey, r.bearer}, r.secrets...)

	for attempt := 0; ; attempt++ {
		o := c.attempt(ctx, r, body, contentType, idempotencyKey, secrets, out)
		o.attempts = attempt + 1
		*last = o
		attrs := []slog.Attr{
			slog.String("method", r.method),
			slog.String("path", r.path),
			slog.Int("attempt", attempt+1),
			slog.Int("status", o.status),
			slog.String("request_id", o.requestID),
		}
		if o.err == nil || !o.retryable || ctx.Err() != nil {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "ssogate: workos request", attrs...)
			return o.err
		}
		giveUp := func(reason string) error {
			attrs = append(attrs, slog.String("reason", reason), slog.String("error", o.err.Error()))
			c.logger.LogAttrs(ctx, slog.LevelWarn, "ssogate: workos request failed, giving up", attrs...)
			return o.err
		}
		if attempt >= c.retry.MaxRetries {
			return giveUp("retries exhausted")
		}
		wait := c.retry.backoff(attempt, c.randN)
		if o.hasRetryAfter && o.retryAfter > 0 {
			if o.retryAfter > c.retry.MaxRetryAfter {
				return giveUp("Retry-After exceeds MaxRetryAfter")
			}
			wait = o.retryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && c.now().Add(wait).After(deadline) {
			return giveUp("the wait would pass the context deadline")
		}
		attrs = append(attrs, slog.Duration("wait", wait))
		c.logger.LogAttrs(ctx, slog.LevelDebug, "ssogate: workos request", attrs...)
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("ssogate: workos %s %s: waiting to retry: %w (last error: %w)", r.method, r.path, err, o.err)
		}
	}
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r *call, body []byte, contentType, idempotencyKey string, secrets []string, out any) outcome {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("ssogate: workos %s %s: "+format, append([]any{r.method, r.path}, args...)...)
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
		if !r.idempotent {
			// Hide the body's type so that the request has no GetBody:
			// net/http would otherwise replay a request carrying an
			// Idempotency-Key on its own after a broken connection, when
			// it may already have reached WorkOS.
			rd = struct{ io.Reader }{rd}
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, rd)
	if err != nil {
		return outcome{err: fail("building request: %w", stripURLError(err))}
	}
	if body != nil {
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", contentType)
	}
	bearer := r.bearer
	if bearer == "" {
		bearer = c.apiKey
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		// The request may or may not have reached WorkOS; only a failure
		// to connect proves it did not.
		return outcome{
			err:       fail("%w", stripURLError(err)),
			retryable: r.idempotent || notSent(err),
		}
	}
	defer resp.Body.Close()
	o := outcome{status: resp.StatusCode, requestID: cleanText(resp.Header.Get("X-Request-ID"), maxRequestIDLen, secrets)}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody+1))
		switch {
		case err != nil:
			o.err = fail("reading response: %w", err)
			o.retryable = r.idempotent
		case len(data) > maxSuccessBody:
			o.err = fail("response larger than %d bytes", maxSuccessBody)
		case out != nil:
			if err := json.Unmarshal(data, out); err != nil {
				o.err = fail("decoding response: %w", err)
			}
		}
		return o
	}

	// A failed read leaves a shorter body, which decodes as well as it can.
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	apiErr := buildAPIError(r.method, r.path, resp.StatusCode, resp.Header, data, c.now(), secrets)
	o.err = apiErr
	o.retryable = retryableStatus(resp.StatusCode, r.idempotent)
	o.retryAfter = apiErr.RetryAfter
	_, o.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	return o
}

// stripURLError unwraps the *url.Error that net/http wraps around request
// failures: its text repeats the whole URL, query included, which can hold
// emails and other search terms.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// newIdempotencyKey returns a random version 4 UUID.
func newIdempotencyKey() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

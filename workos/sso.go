package workos

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

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

// LogoutAuthorization is the result of [Client.AuthorizeLogout]: the
// browser is sent to LogoutURL to end the identity provider's session.
type LogoutAuthorization struct {
	LogoutURL   string `json:"logout_url"`
	LogoutToken string `json:"logout_token"`
}

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
		return nil, fmt.Errorf("workos: POST /sso/token: response has no access token or profile")
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
		return nil, fmt.Errorf("workos: GET /sso/profile: response has no profile id")
	}
	return &p, nil
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
		return nil, fmt.Errorf("workos: POST /sso/logout/authorize: response has no logout URL")
	}
	return &la, nil
}

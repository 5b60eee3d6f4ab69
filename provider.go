package ssogate

import (
	"context"
	"time"
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

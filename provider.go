package ssogate

import (
	"context"

	"github.com/ssogate/ssogate/workos"
)

// Provider is the part of WorkOS that ssogate talks to. [*workos.Client]
// implements it over HTTP; tests may substitute their own implementation,
// or point a [*workos.Client] at a workostest server.
type Provider interface {
	// AuthorizationURL builds the URL of WorkOS's /sso/authorize endpoint for
	// the given options. It makes no HTTP call.
	AuthorizationURL(opts workos.AuthorizationURLOptions) (string, error)

	// ExchangeCode trades the code from the callback for the user's profile
	// and an access token. codeVerifier is the PKCE verifier whose challenge
	// was sent with the authorization request, or "" if PKCE was not used.
	ExchangeCode(ctx context.Context, code, codeVerifier string) (*workos.ProfileAndToken, error)

	// GetProfile returns the profile for an access token from ExchangeCode.
	GetProfile(ctx context.Context, accessToken string) (*Profile, error)

	// GetConnection returns the connection with the given id.
	GetConnection(ctx context.Context, id string) (*Connection, error)

	// ListConnections returns one page of connections.
	ListConnections(ctx context.Context, opts workos.ListConnectionsOptions) (*workos.ConnectionList, error)

	// DeleteConnection deletes the connection with the given id.
	DeleteConnection(ctx context.Context, id string) error

	// AuthorizeLogout starts an RP-initiated SSO logout for the profile. It
	// works only for OIDC connections; others answer a [*workos.APIError]
	// that matches [workos.ErrConnectionInvalid].
	AuthorizeLogout(ctx context.Context, profileID string) (*workos.LogoutAuthorization, error)
}

var _ Provider = (*workos.Client)(nil)

// Profile is a signed-in user's identity, as [workos.Profile] says:
// [ProfileFromContext] returns it.
type Profile = workos.Profile

// Connection is a way to sign in, as [workos.Connection] says: the
// [ConnectionCache] holds them.
type Connection = workos.Connection

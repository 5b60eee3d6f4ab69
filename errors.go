package ssogate

import (
	"errors"
)

// Errors reported by ssogate, to be checked with errors.Is. Bad
// configuration is a [*ConfigError] that matches [ErrInvalidConfig]; the
// WorkOS API's failures are [.APIError] values.
var (
	// ErrNoConnection: WorkOS has no connection for the organization,
	// email domain or connection id.
	ErrNoConnection = errors.New("ssogate: no connection")
	// ErrLookupLimited: the lookup missed the cache and the cache has made
	// as many WorkOS calls as [CacheConfig].MaxFetchesPerMinute allows.
	ErrLookupLimited = errors.New("ssogate: too many connection lookups")

	// ErrInvalidEmail: [ParseEmailDomain] or [NormalizeDomain] was given
	// something that is not an email address or a domain name.
	ErrInvalidEmail = errors.New("ssogate: invalid email address or domain")

	// ErrInvalidEvent: [ConnectionCache.ApplyEvent] was given a connection
	// event without a valid connection or time.
	ErrInvalidEvent = errors.New("ssogate: invalid event")

	// ErrInvalidConfig: a configuration field is missing or malformed. It
	// is matched by every [*ConfigError].
	ErrInvalidConfig = errors.New("ssogate: invalid configuration")

	// ErrNoSession: the request carries no valid session. Every reason a
	// session cookie is refused (missing, tampered with, expired, sealed with
	// a key no longer configured, undecodable) reports this same error, so
	// that nothing about the cause leaks to the client.
	ErrNoSession = errors.New("ssogate: no session")

	// ErrSessionTooLarge: the session does not fit in a cookie. Browsers
	// drop a Set-Cookie larger than 4096 bytes (name, value and attributes
	// together) without a word, which would sign the user in on the server's
	// side and out on the browser's. ssogate refuses instead: when the
	// session cookie would exceed 4096 bytes, nothing is written and the
	// login fails with this error. Profiles with very long group lists need
	// a server-side [github.com/gorilla/sessions.Store] (such as a Redis or
	// filesystem store), or an OnLogin hook that trims Profile.Groups to the
	// ones the application uses.
	ErrSessionTooLarge = errors.New("ssogate: session too large for a cookie")

	// ErrNoState: the callback carries no state, or the browser has no
	// login state cookie for it, or that cookie could not be opened or has
	// expired. The login must start again.
	ErrNoState = errors.New("ssogate: login state missing or expired")

	// ErrStateMismatch: the login state cookie does not belong to the state
	// the callback carries.
	ErrStateMismatch = errors.New("ssogate: login state mismatch")

	// ErrStateSpent: the login state has bought a code exchange on this
	// replica already. A browser never sends a state twice (the callback
	// deletes its cookie); a client that ignores Set-Cookie does, to make
	// WorkOS calls on the app's API key.
	ErrStateSpent = errors.New("ssogate: login state already used")

	// ErrTooManySignIns: this replica has made as many code exchanges as
	// [Config].MaxExchangesPerMinute allows; the sign-in was not completed.
	ErrTooManySignIns = errors.New("ssogate: too many sign-ins")

	// ErrSessionRevoked: a [Revocation] matches the session. Requests that
	// carry it are treated as signed out, like [ErrNoSession].
	ErrSessionRevoked = errors.New("ssogate: session revoked")

	// ErrInvalidRevocation: [Middleware.Revoke] was given a revocation of
	// an unknown kind or with an empty or malformed id, which the error
	// names. Nothing was revoked.
	ErrInvalidRevocation = errors.New("ssogate: invalid revocation")

	// ErrNotShared: a revocation or connection event holds on this replica
	// but the [Backplane] could not store it in time for the others; the
	// error wraps the backplane's.
	ErrNotShared = errors.New("ssogate: not shared with the other replicas")

	// ErrRevocationsUnavailable: the [Backplane] asked this replica to
	// fail closed, because it may have missed revocations. Gated requests
	// are answered 503 until it recovers.
	ErrRevocationsUnavailable = errors.New("ssogate: revocations unavailable")
)

// ConfigError reports a missing or malformed configuration field.
type ConfigError struct {
	// Field names the field, such as "Config.RedirectURI".
	Field string
	// Problem says what is wrong with it, without repeating its value.
	Problem string
}

// Error names the field and says what is wrong with it.
func (e *ConfigError) Error() string {
	return "ssogate: invalid configuration: " + e.Field + ": " + e.Problem
}

// Is reports whether target is [ErrInvalidConfig].
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

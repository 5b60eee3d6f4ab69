package ssogate

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/ssogate/ssogate/workos"
)

// Defaults of [Config], [CacheConfig] and [WebhookConfig], and the bound
// on Config.SessionLifetime.
const (
	DefaultSessionLifetime       = 8 * time.Hour
	MaxSessionLifetime           = 24 * time.Hour
	DefaultLoginPath             = "/login"
	DefaultLogoutPath            = "/logout"
	DefaultAfterLoginPath        = "/"
	DefaultAfterLogoutPath       = "/"
	DefaultExchangeTimeout       = 15 * time.Second
	DefaultMaxExchangesPerMinute = 1000
	DefaultSessionCacheSize      = 32768

	DefaultCacheTTL            = 5 * time.Minute
	DefaultCacheNegativeTTL    = time.Minute
	DefaultCacheStaleIfError   = time.Hour
	DefaultCacheMaxEntries     = 10000
	DefaultMaxFetchesPerMinute = 1000
	DefaultCacheFetchTimeout   = 10 * time.Second

	DefaultWebhookTolerance    = 180 * time.Second
	DefaultWebhookMaxBodyBytes = 1 << 20
)

// stateLifetime bounds a login from /login to /callback.
const stateLifetime = 10 * time.Minute

// IdPInitiatedPolicy says what /callback does with a login that the identity
// provider started: a code arrives with no state that this app created.
type IdPInitiatedPolicy int

const (
	// IdPInitiatedReject answers such callbacks with an error page that
	// offers to sign in. Nobody is signed in. This is the default, because a
	// login without a state of ours cannot be told apart from a login-CSRF
	// attack that signs the victim into the attacker's account.
	IdPInitiatedReject IdPInitiatedPolicy = iota
	// IdPInitiatedRestart exchanges the code only to learn which connection
	// it came from, discards the profile, and starts a normal login through
	// that connection. The identity provider's own session usually makes the
	// second round trip invisible to the user. It still lets an identity
	// provider start a login in a victim's browser: an administrator of any
	// customer's identity provider can sign the victim in to an account of
	// that organization (login CSRF). Use it only where that is acceptable.
	IdPInitiatedRestart
)

// Config configures a [Middleware]. It is passed by value to [New], which
// fills in defaults and validates it; it is never changed afterwards.
type Config struct {
	// APIKey is the WorkOS API key (sk_...). Required unless Provider is set.
	APIKey string
	// ClientID is the WorkOS client ID (client_...). Required unless
	// Provider is set and has a ClientID method, as [.Client] does. It also
	// binds the cookies to the WorkOS environment: cookies sealed with the
	// same CookieSecrets for another client ID (staging, the emulator) never
	// open here.
	ClientID string
	// BaseURL is the WorkOS API's base URL. Default https://api.workos.com.
	BaseURL string
	// HTTPClient is used by the default WorkOS client. Default: a client
	// with a 60 s timeout.
	HTTPClient *http.Client
	// Provider talks to WorkOS. Default: a [.Client] built from APIKey,
	// ClientID, BaseURL and HTTPClient.
	Provider Provider

	// RedirectURI is the absolute URL of the callback, as registered in the
	// WorkOS dashboard, such as https://app.example.com/callback. Required.
	// Its path is where [Middleware] serves the callback.
	RedirectURI string

	// CookieSecrets seal the session and login-state cookies: newest first,
	// each at least 32 random bytes. New cookies are sealed with the first;
	// cookies sealed with any of them, or of NextCookieSecrets, are
	// accepted. Required.
	CookieSecrets [][]byte
	// NextCookieSecrets are accepted but never seal: rotate a secret in
	// three rolling deploys, so that replicas of two steps always accept
	// each other's cookies. First add the new secret here on every
	// replica; then put it first in CookieSecrets, the old one second;
	// then, a session lifetime later, drop the old one. Each at least 32
	// random bytes.
	NextCookieSecrets [][]byte
	// SessionLifetime is how long a session lasts after sign-in, however
	// active the user. Default 8 h; at most 24 h.
	SessionLifetime time.Duration
	// IdleTimeout, if set, also ends a session that has made no gated
	// request for that long. It needs no server state: the session cookie
	// carries its last-seen time, and a gated request writes it anew once a
	// tenth of IdleTimeout has passed since it was last written, so a
	// session ends between 90% and 100% of IdleTimeout after its last
	// request. Default 0: off. At least one minute when set.
	IdleTimeout time.Duration
	// CookieName names the session cookie. Default "__Host-ssogate" when
	// cookies are Secure and CookieDomain is empty (the __Host- prefix makes
	// browsers refuse the cookie from subdomains and over plain HTTP), and
	// "ssogate" otherwise. Login-state cookies get the name with "_state_"
	// and a flow id appended, and are __Host- whenever cookies are Secure
	// and CookieDomain is empty, whatever CookieName is.
	CookieName string
	// CookieDomain is the session cookie's Domain attribute. Default empty:
	// the cookie is sent only to the host that set it.
	CookieDomain string
	// InsecureCookies turns off the Secure attribute even when RedirectURI
	// is https. Default false: cookies are Secure exactly when RedirectURI
	// is https. It is never guessed from the request, which a proxy may
	// have rewritten.
	InsecureCookies bool
	// Store keeps sessions. Default: the built-in cookie store, which seals
	// the session into the cookie itself. Any gorilla/sessions Store works
	// (a server-side store lifts the 4 KB cookie limit).
	Store sessions.Store
	// SessionCacheSize bounds the cache of verified session cookies, which
	// spares a request that repeats a cookie the HMAC, the decryption and
	// the decoding. An entry takes about 1.1 KB, and only cookies that
	// verified are cached, so it grows only with the sessions in use; its
	// index is made in full at the start (1.2 MB at the default), which
	// makes a garbage collection of a full cache faster.
	// Default 32,768 (about 38 MB when full); negative turns it off.
	// Size it above the number of sessions active at once on a replica: a
	// request whose cookie is not cached costs a few microseconds more.
	SessionCacheSize int
	// KeepCustomAttributes keeps the profile's custom attributes in the
	// session. Default false: the session holds the identity, role and
	// groups only.
	KeepCustomAttributes bool

	// DefaultOrganization, DefaultConnection and DefaultProvider select
	// where /login sends users who did not name an organization, connection,
	// provider or email. At most one may be set. Default: none.
	DefaultOrganization string
	DefaultConnection   string
	DefaultProvider     workos.OAuthProvider
	// RequestOrganization, if set, picks the organization for a /login
	// request that names none, for apps that tell tenants apart by host
	// name (acme.app.example.com) or path. It returns "" when it cannot
	// tell. Default: none; /login then asks for the user's work email.
	RequestOrganization func(r *http.Request) string
	// Connections looks up the connections that route organizations and
	// email domains. Default: a [*ConnectionCache] with default settings
	// over Provider. Share one with [NewWebhookHandler] to keep it fresh.
	// A cache serves one Middleware.
	Connections *ConnectionCache

	// Backplane shares revocations and connection events between the
	// replicas of the app. Default: a [NewLocalBackplane] of this
	// Middleware's own, right for an app that runs as one process. For
	// several replicas, use one that they share, such as
	// github.com/ssogate/ssogate/redisstore.
	Backplane Backplane
	// KeepSessionsOfRemovedConnections keeps signed in the users of a
	// connection that a verified connection.deactivated or
	// connection.deleted event reports, until their sessions expire.
	// Default false: such an event revokes every session signed in
	// through the connection, on every replica, as if by
	// [RevokeConnection].
	KeepSessionsOfRemovedConnections bool
	// DirectoryMatch says which sessions end when an organization's
	// directory removes a user (a verified dsync.user.deleted, or
	// dsync.user.updated with a state other than active): those of the
	// user's organization whose profile has the directory user's IdP id or
	// email (the default, [MatchIdPIDOrEmail]), or only one of the two.
	DirectoryMatch DirectoryMatch

	// OnLogin, if set, is called after the identity provider vouched for
	// the user and before the session is written. It may change the profile
	// (to trim groups, say) and may refuse the login by returning an error:
	// an [*HTTPError] is shown as it is; any other error is shown as 403
	// Forbidden. Default: every profile is accepted.
	OnLogin func(ctx context.Context, p *Profile) error
	// ErrorHandler answers every failure of the login, callback and logout
	// handlers. err is an [*HTTPError]. ([Middleware.RequireSSO] has no
	// failures to answer: a request without a valid session is redirected to
	// sign in or answered 401.) Default: a minimal HTML page with
	// the status and the error's public message; details are logged, never
	// shown.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err *HTTPError)
	// Logger receives warnings and errors. Default: slog.Default(). No
	// secret, code, state, token or cookie value is ever logged.
	Logger *slog.Logger

	// Observer receives every decision: logins, callbacks, refused
	// sessions, sign-outs, revocations, WorkOS calls and cache lookups, for
	// metrics and traces. A [.Client] or [*ConnectionCache] given here
	// without an Observer of its own reports to this one. Default: none.
	Observer *Observer
	// AuditLog receives the audit trail: one Info record, with the message
	// "ssogate audit", for each sign-in, refused callback, sign-out and
	// revocation made on this replica. Records carry the profile,
	// organization and connection ids, the client's address and a request
	// id, and never a secret, code, state or cookie value. Default: Logger.
	// To turn the trail off, give a logger with [slog.DiscardHandler].
	AuditLog *slog.Logger
	// AuditEmails adds the user's email to audit records. Default false:
	// the profile id names the user without personal data.
	AuditEmails bool
	// ClientIP returns the address of the client, for audit records and
	// the per-client shares of MaxExchangesPerMinute and of the connection
	// cache's lookups.
	// Default: the host of r.RemoteAddr, which behind a proxy or load
	// balancer is the proxy's. Set it to read what your proxy sets, such as
	// the last address it appended to X-Forwarded-For: earlier entries of
	// that header come from the client and prove nothing.
	ClientIP func(r *http.Request) string
	// RequestID returns the id of a request, for audit records; a value
	// that is not 1 to 64 letters, digits and -._: is replaced by a random
	// id.
	// Default: a new random id. A client can send any X-Request-ID: read
	// it only where your proxy or load balancer sets it, replacing the
	// client's, with RequestID: func(r *http.Request) string { return
	// r.Header.Get("X-Request-ID") }.
	RequestID func(r *http.Request) string

	// LoginPath is where [Middleware] serves /login. Default "/login".
	LoginPath string
	// LogoutPath is where [Middleware] serves /logout. Default "/logout".
	LogoutPath string
	// AfterLoginPath is where users land after sign-in when no valid
	// return_to was given. Default "/".
	AfterLoginPath string
	// AfterLogoutPath is where users land after sign-out. Default "/".
	AfterLogoutPath string

	// IdPInitiated is the policy for logins started at the identity
	// provider. Default [IdPInitiatedReject].
	IdPInitiated IdPInitiatedPolicy
	// LogoutIdP also ends the identity provider's session on sign-out,
	// through WorkOS's SSO logout, for connections that support it (OIDC).
	// If WorkOS refuses, the sign-out is local only. Default false.
	LogoutIdP bool
	// ExchangeTimeout bounds the WorkOS calls of one callback, retries
	// included. Default 15 s.
	ExchangeTimeout time.Duration
	// MaxExchangesPerMinute bounds the code exchanges (POST /sso/token)
	// this replica makes, a tenth of them at once, so that callbacks with
	// made-up codes cannot spend the API key's rate limit, which every
	// replica shares. A callback over the budget gets 503 and no WorkOS
	// call. Within it, each client (by ClientIP; IPv6 by its /64) may have
	// a fiftieth of it (at least 10) fail a minute: exchanges that succeed
	// do not count, so one office's many sign-ins are never held back,
	// while a client sending made-up codes gets 429 after its share. The
	// routing lookups of /login are shared out the same way, from
	// [CacheConfig].MaxFetchesPerMinute. Default 1,000; negative: no limit.
	MaxExchangesPerMinute int
}

// parseRedirectURI checks Config.RedirectURI, whose path is the callback's.
func parseRedirectURI(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, &ConfigError{Field: "Config.RedirectURI", Problem: "required"}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return nil, &ConfigError{Field: "Config.RedirectURI", Problem: "must be an absolute http or https URL without a fragment"}
	}
	return u, nil
}

// setDefaults fills in the zero fields of cfg that have a default (each
// stated in its field's comment and as a Default constant); secure says
// whether cookies are Secure. Fields that need a WorkOS client or cache are
// filled by connect.
func (cfg *Config) setDefaults(secure bool) {
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.MaxExchangesPerMinute == 0 {
		cfg.MaxExchangesPerMinute = DefaultMaxExchangesPerMinute
	}
	if cfg.ExchangeTimeout == 0 {
		cfg.ExchangeTimeout = DefaultExchangeTimeout
	}
	cfg.LoginPath = cmp.Or(cfg.LoginPath, DefaultLoginPath)
	cfg.LogoutPath = cmp.Or(cfg.LogoutPath, DefaultLogoutPath)
	cfg.AfterLoginPath = cmp.Or(cfg.AfterLoginPath, DefaultAfterLoginPath)
	cfg.AfterLogoutPath = cmp.Or(cfg.AfterLogoutPath, DefaultAfterLogoutPath)
	if cfg.CookieName == "" {
		cfg.CookieName = "ssogate"
		if secure && cfg.CookieDomain == "" {
			cfg.CookieName = "__Host-ssogate"
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AuditLog == nil {
		cfg.AuditLog = cfg.Logger
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = defaultErrorHandler
	}
	if cfg.Backplane == nil {
		cfg.Backplane = NewLocalBackplane()
	}
}

// validate checks cfg once its defaults are filled in; callbackPath is
// the RedirectURI's path. The first invalid field is returned as a
// [*ConfigError].
func (cfg *Config) validate(callbackPath string, secure bool) error {
	if len(cfg.CookieSecrets) == 0 {
		return &ConfigError{Field: "Config.CookieSecrets", Problem: "at least one secret is required"}
	}
	for _, s := range cfg.CookieSecrets {
		if len(s) < minSecretLen {
			return &ConfigError{Field: "Config.CookieSecrets", Problem: "every secret must be at least 32 bytes"}
		}
	}
	if cfg.DirectoryMatch > MatchEmail {
		return &ConfigError{Field: "Config.DirectoryMatch", Problem: "unknown match"}
	}
	for _, s := range cfg.NextCookieSecrets {
		if len(s) < minSecretLen {
			return &ConfigError{Field: "Config.NextCookieSecrets", Problem: "every secret must be at least 32 bytes"}
		}
	}
	switch {
	case cfg.SessionLifetime < time.Minute || cfg.SessionLifetime > MaxSessionLifetime:
		return &ConfigError{Field: "Config.SessionLifetime", Problem: "must be between 1 minute and 24 hours"}
	case cfg.IdleTimeout < 0 || cfg.IdleTimeout > 0 && cfg.IdleTimeout < time.Minute:
		return &ConfigError{Field: "Config.IdleTimeout", Problem: "must be zero (off) or at least 1 minute"}
	case cfg.ExchangeTimeout < 0:
		return &ConfigError{Field: "Config.ExchangeTimeout", Problem: "must not be negative"}
	}
	paths := []struct {
		field, path, example string
	}{
		{"Config.LoginPath", cfg.LoginPath, DefaultLoginPath},
		{"Config.LogoutPath", cfg.LogoutPath, DefaultLogoutPath},
		{"Config.AfterLoginPath", cfg.AfterLoginPath, DefaultAfterLoginPath},
		{"Config.AfterLogoutPath", cfg.AfterLogoutPath, DefaultAfterLogoutPath},
	}
	for _, p := range paths {
		if clean, ok := SafeReturnTo(p.path); !ok || clean != p.path {
			return &ConfigError{Field: p.field, Problem: "must be a clean absolute path such as " + p.example}
		}
	}
	if cfg.LoginPath == callbackPath || cfg.LogoutPath == callbackPath || cfg.LoginPath == cfg.LogoutPath {
		return &ConfigError{Field: "Config.LoginPath", Problem: "login, logout and callback paths must differ"}
	}
	selectors := 0
	if cfg.DefaultOrganization != "" {
		selectors++
		if !validPrefixedID(cfg.DefaultOrganization, "org_") {
			return &ConfigError{Field: "Config.DefaultOrganization", Problem: "must be an organization id (org_...)"}
		}
	}
	if cfg.DefaultConnection != "" {
		selectors++
		if !validPrefixedID(cfg.DefaultConnection, "conn_") {
			return &ConfigError{Field: "Config.DefaultConnection", Problem: "must be a connection id (conn_...)"}
		}
	}
	if cfg.DefaultProvider != "" {
		selectors++
		if !cfg.DefaultProvider.Valid() {
			return &ConfigError{Field: "Config.DefaultProvider", Problem: "unknown OAuth provider"}
		}
	}
	if selectors > 1 {
		return &ConfigError{Field: "Config.DefaultOrganization", Problem: "set at most one of DefaultOrganization, DefaultConnection and DefaultProvider"}
	}
	if cfg.IdPInitiated != IdPInitiatedReject && cfg.IdPInitiated != IdPInitiatedRestart {
		return &ConfigError{Field: "Config.IdPInitiated", Problem: "unknown policy"}
	}
	switch {
	case !validCookieName(cfg.CookieName):
		return &ConfigError{Field: "Config.CookieName", Problem: "must be a valid cookie name"}
	case strings.HasPrefix(cfg.CookieName, "__Host-") && (!secure || cfg.CookieDomain != ""):
		return &ConfigError{Field: "Config.CookieName", Problem: "a __Host- cookie must be Secure and have no Domain"}
	case strings.HasPrefix(cfg.CookieName, "__Secure-") && !secure:
		return &ConfigError{Field: "Config.CookieName", Problem: "a __Secure- cookie must be Secure"}
	}
	return nil
}

// connect fills in the WorkOS client and the connection cache, unless cfg
// has its own, and hands the observer to those it made or was given.
func (cfg *Config) connect() error {
	if cfg.Provider == nil {
		c, err := workos.NewClient(workos.ClientConfig{
			APIKey:     cfg.APIKey,
			ClientID:   cfg.ClientID,
			BaseURL:    cfg.BaseURL,
			HTTPClient: cfg.HTTPClient,
			Logger:     cfg.Logger,
		})
		if err != nil {
			var ce *workos.ConfigError
			if errors.As(err, &ce) {
				return &ConfigError{Field: strings.Replace(ce.Field, "ClientConfig.", "Config.", 1), Problem: ce.Problem}
			}
			return err
		}
		cfg.Provider = c
	}
	if cfg.Connections == nil {
		cache, err := NewConnectionCache(cfg.Provider, CacheConfig{Logger: cfg.Logger, Observer: cfg.Observer})
		if err != nil {
			return err
		}
		cfg.Connections = cache
	}
	if cfg.Observer != nil {
		cfg.Connections.obs.CompareAndSwap(nil, cfg.Observer)
	}
	return nil
}

// stateCookiePrefix names the login state cookies after the session
// cookie: __Host- whenever they can be (see stateCookie), whatever the
// session cookie is called.
func stateCookiePrefix(cookieName, domain string, secure bool) string {
	prefix := strings.TrimPrefix(strings.TrimPrefix(cookieName, "__Host-"), "__Secure-") + "_state_"
	switch {
	case secure && domain == "":
		return "__Host-" + prefix
	case secure:
		return "__Secure-" + prefix
	}
	return prefix
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return false
		}
	}
	return true
}

package ssogate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Middleware signs users in through WorkOS and gates handlers on a signed-in
// session. Make one with [New]; it is safe for concurrent use.
type Middleware struct {
	cfg          Config // with defaults filled in
	provider     Provider
	connections  *ConnectionCache
	sessions     *sessionManager
	revocations  *revocationSet
	backplane    Backplane
	unsubscribe  func()
	log          *slog.Logger
	callbackPath string // escaped, as in the redirect URI and the state cookies' Path
	// callbackRoute is the callback path unescaped, as r.URL.Path holds it.
	callbackRoute string
	now           func() time.Time

	// exchanges is the budget of MaxExchangesPerMinute; spent records the
	// states that bought an exchange.
	exchanges *rateLimit
	spent     *spentStates
	// exchangeClients and lookupClients hold back, per client, the code
	// exchanges and the routing lookups that fail; nil without a limit.
	exchangeClients, lookupClients *clientBudgets
	// unsureWhy is the backplane's last reason to fail closed, for Ready.
	unsureWhy atomic.Pointer[error]
	// signOuts counts each user's sign-outs (see maxSignOutsPerUser).
	signOuts signOutCounts
	// budgetLogged is when the refusal of the replica's exchange budget
	// was last logged, in Unix ns.
	budgetLogged atomic.Int64
	// eventsCaughtUp is when FollowEvents last read every event.
	eventsCaughtUp atomic.Pointer[time.Time]
	// unshared are the directory events whose sharing failed.
	unshared unsharedEvents

	// obs is Config.Observer, or an empty one; audit is Config.AuditLog.
	obs    *Observer
	audit  *slog.Logger
	health *signInHealth
}

// New validates cfg, fills in its defaults and returns a Middleware. An
// invalid field is reported as a [*ConfigError] naming it.
func New(cfg Config) (*Middleware, error) {
	return newMiddleware(cfg, time.Now)
}

func newMiddleware(cfg Config, now func() time.Time) (*Middleware, error) {
	redirect, err := parseRedirectURI(cfg.RedirectURI)
	if err != nil {
		return nil, err
	}
	callbackPath := cmp.Or(redirect.EscapedPath(), "/")
	secure := redirect.Scheme == "https" && !cfg.InsecureCookies
	cfg.setDefaults(secure)
	if err := cfg.validate(callbackPath, secure); err != nil {
		return nil, err
	}
	if err := cfg.connect(); err != nil {
		return nil, err
	}
	clientID := cfg.ClientID
	if clientID == "" {
		if c, ok := cfg.Provider.(interface{ ClientID() string }); ok {
			clientID = c.ClientID()
		}
	}
	if clientID == "" {
		return nil, &ConfigError{Field: "Config.ClientID", Problem: "required: cookies are bound to the WorkOS environment it names"}
	}
	obs := cmp.Or(cfg.Observer, &Observer{})
	statePrefix := stateCookiePrefix(cfg.CookieName, cfg.CookieDomain, secure)

	revs := newRevocationSet()
	sm, err := newSessionManager(sessionConfig{
		Binding:              clientID,
		Secrets:              cfg.CookieSecrets,
		NextSecrets:          cfg.NextCookieSecrets,
		CookieName:           cfg.CookieName,
		StatePrefix:          statePrefix,
		Path:                 "/",
		Domain:               cfg.CookieDomain,
		Secure:               secure,
		Lifetime:             cfg.SessionLifetime,
		IdleTimeout:          cfg.IdleTimeout,
		CacheSize:            cfg.SessionCacheSize,
		Revocations:          revs,
		StateLifetime:        stateLifetime,
		Store:                cfg.Store,
		KeepCustomAttributes: cfg.KeepCustomAttributes,
		Now:                  now,
	})
	if err != nil {
		return nil, err
	}
	m := &Middleware{
		cfg:           cfg,
		provider:      cfg.Provider,
		connections:   cfg.Connections,
		sessions:      sm,
		revocations:   revs,
		backplane:     cfg.Backplane,
		log:           cfg.Logger,
		callbackPath:  callbackPath,
		callbackRoute: cmp.Or(redirect.Path, "/"),
		now:           now,
		exchanges:     newRateLimit(cfg.MaxExchangesPerMinute),
		spent:         newSpentStates(cfg.MaxExchangesPerMinute, stateLifetime),
		obs:           obs,
		audit:         cfg.AuditLog,
		health:        newSignInHealth(now),
	}
	if n := cfg.MaxExchangesPerMinute; n > 0 {
		m.exchangeClients = newClientBudgets("sign-ins", clientShare(n), cfg.Logger)
	}
	if n := m.connections.cfg.MaxFetchesPerMinute; n > 0 {
		m.lookupClients = newClientBudgets("routing lookups", clientShare(n), cfg.Logger)
	}
	hook := eventHook(m.event)
	m.connections.onEvent.Store(&hook)
	m.unsubscribe = m.backplane.Subscribe(Subscriber{Apply: m.apply, FailClosed: m.failClosed, Known: m.revocations.all, Outage: m.backplaneOutage})
	return m, nil
}

type contextKey struct{}

// sessionContext is the context a gated request reaches its handler with:
// its parent plus the session, as context.WithValue(parent, contextKey{}, s)
// would make it, in one allocation with the response's Cache-Control and
// Vary values. A handler's SessionFromContext finds it with one type
// assertion, and a context derived from it by Value.
type sessionContext struct {
	context.Context
	s      *Session
	header noStoreValues
}

func (c *sessionContext) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return c.s
	}
	return c.Context.Value(key)
}

func (c *sessionContext) String() string {
	return fmt.Sprintf("%v.WithValue(ssogate session)", c.Context)
}

// ProfileFromContext returns the signed-in user's profile that
// [Middleware.RequireSSO] put in the request's context. It reports false when
// there is none. The profile may be shared between requests: treat it as
// read-only.
func ProfileFromContext(ctx context.Context) (*Profile, bool) {
	s, ok := SessionFromContext(ctx)
	if !ok {
		return nil, false
	}
	return &s.Profile, true
}

// SessionFromContext is like [ProfileFromContext] but returns the whole
// session, with its issue and expiry times.
func SessionFromContext(ctx context.Context) (*Session, bool) {
	if c, ok := ctx.(*sessionContext); ok {
		return c.s, c.s != nil
	}
	s, ok := ctx.Value(contextKey{}).(*Session)
	return s, ok && s != nil
}

// RequireSSO gates next on a signed-in session. A request with a valid
// session reaches next with its profile in the context ([ProfileFromContext]).
// Any other request (no cookie; a tampered, expired, idle, revoked or
// retired-key cookie) is treated as signed out, without an error page:
//   - a top-level navigation (GET or HEAD from a browser) is redirected to
//     the login path with return_to set to the requested path;
//   - anything else (fetch, XHR, JSON clients, other methods) gets 401 with
//     a WWW-Authenticate header and a small JSON body naming the login URL.
//
// Requests for the login, callback and logout paths are served by the
// Middleware itself, so wrapping a whole router cannot make a redirect loop.
// With [Config].IdleTimeout set, a request may also renew the session
// cookie. While a [Backplane] that fails closed is unavailable, gated
// requests get 503.
// Responses carry Cache-Control: no-store and Vary: Cookie, so no cache
// keeps one user's page for another.
//
// RequireSSO has the signature of router middleware: r.Use(gate.RequireSSO).
func (m *Middleware) RequireSSO(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := m.authHandler(r.URL.Path); h != nil {
			h(w, r)
			return
		}
		c := new(sessionContext)
		noStoreWith(w, &c.header)
		now := m.now()
		s, err := m.sessions.LoadAt(r, now)
		if err != nil {
			if errors.Is(err, ErrRevocationsUnavailable) {
				m.unavailable(w, r)
				m.refused(r, RefusalInfo{Reason: ReasonUnavailable, Gate: "RequireSSO", Status: http.StatusServiceUnavailable}, s)
				return
			}
			status := m.signedOut(w, r)
			m.refused(r, RefusalInfo{Reason: refusalReason(err), Gate: "RequireSSO", Status: status}, s)
			return
		}
		s = m.sessions.Renew(w, r, s, now)
		c.Context, c.s = r.Context(), s
		next.ServeHTTP(w, r.WithContext(c))
	})
}

// RequireRecentLogin returns middleware for sensitive routes (changing a
// password, paying, deleting data) that asks for a recent authentication:
// a sign-in, no older than maxAge, that asked the identity provider to
// authenticate the user anew (prompt=login), as [Session].AuthenticatedAt
// records. A recent sign-in without prompt=login does not count, since the
// identity provider may have completed it silently from its own session,
// without the person at the browser proving anything. Any other session is
// sent to sign in again through the same connection with prompt=login;
// API requests get 401 with a JSON body whose error is
// "recent_login_required". Requests without a session are handled as by
// [Middleware.RequireSSO], which it implies:
//
//	r.With(gate.RequireRecentLogin(5*time.Minute)).Post("/billing", h)
//
// It panics with a [*ConfigError] if maxAge is not positive, a wiring
// mistake.
func (m *Middleware) RequireRecentLogin(maxAge time.Duration) func(http.Handler) http.Handler {
	if maxAge <= 0 {
		panic(&ConfigError{Field: "RequireRecentLogin", Problem: "needs a positive maxAge"})
	}
	return func(next http.Handler) http.Handler {
		return m.withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := SessionFromContext(r.Context())
			if s.AuthenticatedAt.IsZero() || m.now().Sub(s.AuthenticatedAt) > maxAge {
				status := m.stepUp(w, r, s)
				m.refused(r, RefusalInfo{Reason: ReasonStepUp, Gate: "RequireRecentLogin", Status: status}, s)
				return
			}
			next.ServeHTTP(w, r)
		}))
	}
}

// stepUp answers a request whose session is older than a route allows.
func (m *Middleware) stepUp(w http.ResponseWriter, r *http.Request, s *Session) int {
	v := url.Values{"prompt": {"login"}}
	if validPrefixedID(s.Profile.ConnectionID, "conn_") {
		v.Set("connection", s.Profile.ConnectionID)
	}
	if rt, ok := SafeReturnTo(r.URL.RequestURI()); ok && rt != m.cfg.AfterLoginPath {
		v.Set("return_to", rt)
	}
	return m.needLogin(w, r, m.cfg.LoginPath+"?"+v.Encode(), "recent_login_required")
}

// unavailable answers a gated request while the backplane asks to fail
// closed.
func (m *Middleware) unavailable(w http.ResponseWriter, r *http.Request) {
	m.log.Debug("ssogate: gated request refused: revocations unavailable", "path", r.URL.Path)
	w.Header().Set("Retry-After", "5")
	const message = "Sign-in is unavailable right now. Please try again in a minute."
	if !isNavigation(r) {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", message)
		return
	}
	m.cfg.ErrorHandler(w, r, &HTTPError{Status: http.StatusServiceUnavailable, Message: message,
		HomeURL: m.cfg.AfterLoginPath, Err: ErrRevocationsUnavailable})
}

// authHandler returns the handler of one of the Middleware's own paths.
func (m *Middleware) authHandler(path string) http.HandlerFunc {
	switch path {
	case m.cfg.LoginPath:
		return m.Login
	case m.callbackRoute:
		return m.Callback
	case m.cfg.LogoutPath:
		return m.Logout
	}
	return nil
}

// Ready reports whether the Middleware serves sessions: nil, or an error
// matching [ErrRevocationsUnavailable] while its [Backplane] cannot vouch
// for the revocations in force (before a replica's first read of them, or
// during an outage of a backplane that fails closed), when gated requests
// get 503. The error wraps the backplane's reason, such as redisstore's
// "the revocations in force have not been read from Redis yet". Serve it
// as a readiness probe, so that a load balancer sends traffic only to
// replicas that can take it:
//
//	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
//		if err := gate.Ready(); err != nil {
//			http.Error(w, "not ready", http.StatusServiceUnavailable)
//		}
//	})
func (m *Middleware) Ready() error {
	if !m.revocations.unsure.Load() {
		return nil
	}
	if why := m.unsureWhy.Load(); why != nil {
		return fmt.Errorf("%w: %w", ErrRevocationsUnavailable, *why)
	}
	return ErrRevocationsUnavailable
}

// Connections returns the connection cache that routes logins, to share
// with [NewWebhookHandler].
func (m *Middleware) Connections() *ConnectionCache { return m.connections }

// Handler returns a handler that serves the login, callback and logout
// paths ([Middleware.Paths]) and answers 404 for any other path, to mount
// on a router.
func (m *Middleware) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := m.authHandler(r.URL.Path); h != nil {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

// Router is the method that routers such as [*http.ServeMux] and chi's
// Router share. For a router whose Handle returns a value (gorilla/mux's
// returns the route) or that has none (echo, gin), route each of
// [Middleware.Paths] to [Middleware.Handler] instead of calling Mount.
type Router interface {
	Handle(pattern string, h http.Handler)
}

// Mount registers the login, callback and logout handlers on r at their
// configured paths, [Middleware.Paths].
func (m *Middleware) Mount(r Router) {
	// Each path gets its own handler, not Handler, which dispatches on the
	// request's path: a sub-router (chi's Route) hands on the full path.
	r.Handle(m.cfg.LoginPath, http.HandlerFunc(m.Login))
	r.Handle(m.callbackPath, http.HandlerFunc(m.Callback))
	r.Handle(m.cfg.LogoutPath, http.HandlerFunc(m.Logout))
}

// Paths returns the paths the Middleware serves: the login path, the
// callback path (the RedirectURI's, as it is there) and the logout path,
// in that order, so that an adapter for any router routes each to
// [Middleware.Handler], whatever the method (each handler checks its own).
// Handler dispatches on the request's path, so route them where that is
// the full path; on a sub-router under a prefix, use Mount.
// With gorilla/mux:
//
//	for _, p := range gate.Paths() {
//		r.Handle(p, gate.Handler())
//	}
func (m *Middleware) Paths() []string {
	return []string{m.cfg.LoginPath, m.callbackPath, m.cfg.LogoutPath}
}

// signedOut answers a request that needs a session and has none.
func (m *Middleware) signedOut(w http.ResponseWriter, r *http.Request) int {
	loginURL := m.cfg.LoginPath
	if rt, ok := SafeReturnTo(r.URL.RequestURI()); ok && rt != m.cfg.AfterLoginPath {
		loginURL += "?" + url.Values{"return_to": {rt}}.Encode()
	}
	return m.needLogin(w, r, loginURL, "unauthorized")
}

// needLogin sends a navigation to loginURL and answers anything else 401
// with a JSON body naming the reason and the login URL. It returns the
// status it answered.
func (m *Middleware) needLogin(w http.ResponseWriter, r *http.Request, loginURL, reason string) int {
	if isNavigation(r) {
		http.Redirect(w, r, loginURL, http.StatusFound)
		return http.StatusFound
	}
	auth := `SSO realm="ssogate", login_url="` + loginURL + `"`
	if reason != "unauthorized" {
		auth += `, error="` + reason + `"`
	}
	w.Header().Set("WWW-Authenticate", auth)
	writeJSON(w, http.StatusUnauthorized, struct {
		Error    string `json:"error"`
		LoginURL string `json:"login_url"`
	}{reason, loginURL})
	return http.StatusUnauthorized
}

// writeJSONError answers an API request with status and
// {"error": code, "message": message}.
func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}{code, message})
}

// writeJSON answers status with v as JSON, which no browser sniffs as
// anything else.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// isNavigation reports whether r is a browser's top-level navigation, which
// can follow a redirect to the login page, rather than a script's or an API
// client's request, which needs a status it can act on.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	if r.Header.Get("X-Requested-With") != "" {
		return false
	}
	// Browsers without Fetch Metadata: trust Accept, which fetch() and XHR
	// leave as */* unless told otherwise.
	return acceptsHTML(r.Header.Get("Accept"))
}

func acceptsHTML(accept string) bool {
	return acceptsType(accept, "text/html", "application/xhtml+xml")
}

// acceptsType reports whether the Accept header names one of the media
// types, whatever their quality.
func acceptsType(accept string, types ...string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		mt = strings.TrimSpace(mt)
		for _, t := range types {
			if strings.EqualFold(mt, t) {
				return true
			}
		}
	}
	return false
}

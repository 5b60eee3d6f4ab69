package workostest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of a [Server]'s credentials.
const (
	// DefaultAPIKey is the API key a [Server] accepts unless [WithAPIKey] says otherwise.
	DefaultAPIKey = "sk_test_workostest"
	// DefaultClientID is the client ID a [Server] accepts unless [WithClientID] says otherwise.
	DefaultClientID = "client_workostest"
)

// codeTTL is how long an authorization code, and a pending sign-in page,
// stays valid on the server clock.
const codeTTL = 10 * time.Minute

// accessTokenTTL is the lifetime of an access token, sent as expires_in.
const accessTokenTTL = 600 * time.Second

// maxBodyBytes caps every request body: the real API refuses large bodies
// too, and a client that streams megabytes at it has a bug worth seeing.
const maxBodyBytes = 64 << 10

// Server is an in-process WorkOS SSO emulator listening on a loopback
// address. Create it with [NewServer] and stop it with [Server.Close].
//
// All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the server, of the form http://127.0.0.1:port,
	// with no trailing slash. Use it as the WorkOS API base URL.
	URL string
	// APIKey is the API key (client secret) the server accepts. It is
	// informational: changing it has no effect.
	APIKey string
	// ClientID is the client ID the server accepts. It is informational:
	// changing it has no effect.
	ClientID string

	apiKey         string
	clientID       string
	redirectURIs   []string
	logoutRedirect string

	ts    *httptest.Server
	mux   *http.ServeMux
	hosts []string // host names answered besides loopback ones
	// patterns are the WorkOS routes the server serves, for faults.
	patterns []string
	hooks    *webhooks
	closed   chan struct{}
	closing  sync.Once

	// mu guards every field below: the seeded objects, the transient
	// login state, faults, the request log and the clock.
	mu         sync.Mutex
	clock      func() time.Time
	offset     time.Duration
	autoSignIn string
	orgs       map[string]*organization
	orgOrder   []string
	portals    map[string]*portalLink
	conns      map[string]*connection
	gone       map[string]time.Time // deleted connections' creation times, for cursors
	connOrder  []string
	users      []User
	dirs       map[string]*directory
	dirOrder   []string
	dirUsers   []*directoryUser
	events     []storedEvent
	pending    map[string]*pendingAuth
	codes      map[string]*authCode
	tokens     map[string]*accessToken
	logouts    map[string]string
	faults     []routeFault
	requests   []Request
}

// Option configures a [Server] in [NewServer].
type Option func(*config)

type config struct {
	seed           *Seed
	apiKey         string
	clientID       string
	redirectURIs   []string
	autoSignIn     string
	clock          func() time.Time
	webhookURL     string
	webhookSecret  string
	logoutRedirect string
	listener       net.Listener
	admin          bool
	hosts          []string
}

// WithSeed replaces the default seed ([DefaultSeed]) with seed. Seed{} starts
// the server empty.
func WithSeed(seed Seed) Option {
	return func(c *config) { c.seed = &seed }
}

// WithAPIKey sets the API key the server accepts, both as the Bearer token
// of API calls and as the client_secret of /sso/token. Default [DefaultAPIKey].
func WithAPIKey(key string) Option {
	return func(c *config) { c.apiKey = key }
}

// WithClientID sets the client ID the server accepts. Default [DefaultClientID].
func WithClientID(id string) Option {
	return func(c *config) { c.clientID = id }
}

// WithRedirectURIs sets the redirect URIs /sso/authorize accepts, compared
// exactly, as if registered in the WorkOS dashboard. By default any absolute
// http or https URL is accepted.
func WithRedirectURIs(uris ...string) Option {
	return func(c *config) { c.redirectURIs = append([]string(nil), uris...) }
}

// WithAutoSignIn makes /sso/authorize skip the hosted sign-in page and
// redirect straight back with a code for the user with this email. See
// [Server.SetAutoSignIn].
func WithAutoSignIn(email string) Option {
	return func(c *config) { c.autoSignIn = email }
}

// WithClock sets the server clock, which decides when codes and access
// tokens expire. Default time.Now. [Server.Advance] moves it further.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.clock = now }
}

// WithWebhook makes the server deliver connection events to url, signed
// with secret. See [Server.FlushWebhooks].
func WithWebhook(url, secret string) Option {
	return func(c *config) { c.webhookURL, c.webhookSecret = url, secret }
}

// WithLogoutRedirect sets where GET /sso/logout sends the browser once the
// (emulated) identity provider session has ended. By default it shows a
// small "signed out" page.
func WithLogoutRedirect(url string) Option {
	return func(c *config) { c.logoutRedirect = url }
}

// WithListener makes the server accept connections on ln instead of a new
// loopback listener of its own, to serve on a chosen address (as the
// ssogate command does). [Server.URL] is then http:// and ln's address, or
// 127.0.0.1 and ln's port when ln listens on every address.
func WithListener(ln net.Listener) Option {
	return func(c *config) { c.listener = ln }
}

// WithHosts adds host names (or addresses) that the server answers to,
// besides loopback names and addresses and the address it listens on: a
// name it is reached by in a container network, say. A request for any
// other Host gets 421 Misdirected Request. A web page on a DNS name that
// rebinds to 127.0.0.1 reaches the server with its own name as Host, so
// this keeps such a page from driving an emulator, whose API key is public.
func WithHosts(hosts ...string) Option {
	return func(c *config) { c.hosts = append(c.hosts, hosts...) }
}

// WithAdmin serves the admin API under /_emulator/ (see the package
// documentation), for test code that does not run in the emulator's
// process. It is off by default.
func WithAdmin() Option {
	return func(c *config) { c.admin = true }
}

// NewServer starts and returns a new Server seeded with [DefaultSeed]
// unless [WithSeed] says otherwise. The caller should call Close when
// finished, to shut it down. NewServer panics if the seed is invalid.
func NewServer(opts ...Option) *Server {
	cfg := config{apiKey: DefaultAPIKey, clientID: DefaultClientID, clock: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	seed := DefaultSeed()
	if cfg.seed != nil {
		seed = *cfg.seed
	}
	s := &Server{
		APIKey:         cfg.apiKey,
		ClientID:       cfg.clientID,
		apiKey:         cfg.apiKey,
		clientID:       cfg.clientID,
		redirectURIs:   cfg.redirectURIs,
		logoutRedirect: cfg.logoutRedirect,
		closed:         make(chan struct{}),
		clock:          cfg.clock,
		autoSignIn:     cfg.autoSignIn,
		orgs:           map[string]*organization{},
		portals:        map[string]*portalLink{},
		conns:          map[string]*connection{},
		dirs:           map[string]*directory{},
		pending:        map[string]*pendingAuth{},
		codes:          map[string]*authCode{},
		tokens:         map[string]*accessToken{},
		logouts:        map[string]string{},
	}
	if err := s.applySeed(seed); err != nil {
		panic(err)
	}
	if cfg.webhookURL != "" {
		s.hooks = newWebhooks(cfg.webhookURL, cfg.webhookSecret)
	}
	s.routes()
	if cfg.admin {
		s.adminRoutes()
	}
	// The URL is known before the server starts, so handlers may read it
	// without synchronization.
	s.ts = httptest.NewUnstartedServer(s.guard(s.mux))
	if cfg.listener != nil {
		s.ts.Listener.Close()
		s.ts.Listener = cfg.listener
	}
	for _, h := range cfg.hosts {
		s.hosts = append(s.hosts, strings.ToLower(strings.Trim(h, "[]")))
	}
	if host, _, err := net.SplitHostPort(s.ts.Listener.Addr().String()); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			s.hosts = append(s.hosts, ip.String())
		}
	}
	s.URL = "http://" + s.ts.Listener.Addr().String()
	if ta, ok := s.ts.Listener.Addr().(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		// Listening on every address: loopback is one of them, and the
		// one this server answers to by default.
		s.URL = "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
	}
	s.ts.Start()
	return s
}

// guard refuses a request whose Host is not one the server answers to
// (see [WithHosts]).
func (s *Server) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.answersTo(r.Host) {
			writeJSON(w, http.StatusMisdirectedRequest, map[string]string{
				"message": "this emulator answers only to loopback names and the hosts it was started with"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// answersTo reports whether hostport (a Host header) names this server:
// localhost or a name under .localhost, a loopback address, or one of the
// server's hosts.
func (s *Server) answersTo(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return true
		}
		host = ip.String()
	}
	return host != "" && slices.Contains(s.hosts, host)
}

// Close shuts the server down. It blocks until every outstanding request
// has completed and every queued webhook event has been attempted. Fault
// delays end at once.
func (s *Server) Close() {
	s.closing.Do(func() {
		close(s.closed)
		s.ts.Close()
		if s.hooks != nil {
			s.hooks.close()
		}
	})
}

// Client returns an HTTP client configured for the server. It follows
// redirects; copy it and set CheckRedirect to inspect each hop.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Now returns the current time on the server clock: the [WithClock] clock
// plus everything passed to [Server.Advance].
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.clock().Add(s.offset) }

// Advance moves the server clock forward by d, for example past the ten
// minutes after which a code expires.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// SetAutoSignIn makes /sso/authorize redirect straight back with a code for
// the user with this email, as [WithAutoSignIn] does; "" shows the hosted
// sign-in page again. If the selected connection has no user with this
// email, the browser comes back with error=access_denied.
func (s *Server) SetAutoSignIn(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoSignIn = email
}

// Request is one request the server received, as listed by [Server.Requests].
// Headers and bodies are not kept: they carry secrets.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Route is the pattern that served the request, such as
	// "GET /connections/{id}"; "/" for unknown routes.
	Route string
	// Status is the status answered, or 0 if none was (the client went away
	// during a fault's delay).
	Status int
	// RequestID is the X-Request-ID answered.
	RequestID string
	// Time is when the request arrived, on the server clock.
	Time time.Time
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Query = cloneValues(r.Query)
		out[i] = r
	}
	return out
}

// Count returns how many requests matched route so far. route is either a
// pattern as in [Server.Fail] ("GET /connections/{id}") or a concrete method
// and path ("GET /connections/conn_acme_okta").
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if routeMatches(route, r.Route, r.Method, r.Path) {
			n++
		}
	}
	return n
}

func routeMatches(route, pattern, method, path string) bool {
	return route == pattern || route == method+" "+path
}

type authKind int

const (
	authNone   authKind = iota // browser routes and /sso/token (client_secret in the body)
	authAPIKey                 // Authorization: Bearer <API key>
)

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.handle("GET /sso/authorize", authNone, s.authorize)
	s.handle("POST /sso/authorize/complete", authNone, s.completeAuthorize)
	s.handle("POST /sso/token", authNone, s.token)
	s.handle("GET /sso/profile", authNone, s.profile) // checks the access token itself
	s.handle("GET /connections", authAPIKey, s.listConnections)
	s.handle("GET /connections/{id}", authAPIKey, s.getConnection)
	s.handle("DELETE /connections/{id}", authAPIKey, s.deleteConnection)
	s.handle("POST /sso/logout/authorize", authAPIKey, s.logoutAuthorize)
	s.handle("GET /sso/logout", authNone, s.logout)
	s.handle("GET /directories", authAPIKey, s.listDirectories)
	s.handle("GET /directories/{id}", authAPIKey, s.getDirectory)
	s.handle("DELETE /directories/{id}", authAPIKey, s.deleteDirectory)
	s.handle("GET /directory_users", authAPIKey, s.listDirectoryUsers)
	s.handle("GET /directory_users/{id}", authAPIKey, s.getDirectoryUser)
	s.handle("GET /directory_groups", authAPIKey, s.listDirectoryGroups)
	s.handle("GET /directory_groups/{id}", authAPIKey, s.getDirectoryGroup)
	s.handle("GET /events", authAPIKey, s.listEvents)
	s.handle("GET /organizations", authAPIKey, s.listOrganizations)
	s.handle("POST /organizations", authAPIKey, s.createOrganization)
	s.handle("GET /organizations/{id}", authAPIKey, s.getOrganization)
	s.handle("GET /organizations/external_id/{external_id}", authAPIKey, s.getOrganizationByExternalID)
	s.handle("PUT /organizations/{id}", authAPIKey, s.updateOrganization)
	s.handle("DELETE /organizations/{id}", authAPIKey, s.deleteOrganization)
	s.handle("POST /organization_domains", authAPIKey, s.createOrganizationDomain)
	s.handle("GET /organization_domains/{id}", authAPIKey, s.getOrganizationDomain)
	s.handle("POST /organization_domains/{id}/verify", authAPIKey, s.verifyOrganizationDomain)
	s.handle("DELETE /organization_domains/{id}", authAPIKey, s.deleteOrganizationDomain)
	s.handle("POST /portal/generate_link", authAPIKey, s.generatePortalLink)
	s.handle("GET /portal", authNone, s.openPortal)
	s.handle("POST /portal/complete", authNone, s.completePortal)
	s.handle("/", authNone, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
}

func (s *Server) handle(pattern string, auth authKind, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.wrap(auth, h))
	if pattern != "/" {
		s.patterns = append(s.patterns, pattern)
	}
}

// wrap adds what every route shares: a request id, the request log, the
// body cap, fault injection and the API key check.
func (s *Server) wrap(auth authKind, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := "req_" + rand.Text()
		w.Header().Set("X-Request-ID", id)
		sw := &statusWriter{ResponseWriter: w}
		entry := Request{
			Method:    r.Method,
			Path:      r.URL.Path,
			Query:     r.URL.Query(),
			Route:     r.Pattern,
			RequestID: id,
			Time:      s.Now(),
		}
		defer func() {
			entry.Status = sw.status
			s.mu.Lock()
			s.requests = append(s.requests, entry)
			s.mu.Unlock()
		}()
		r.Body = http.MaxBytesReader(sw, r.Body, maxBodyBytes)

		if f, ok := s.takeFault(r); ok {
			if done := s.applyFault(sw, r, f, auth, h); done {
				return
			}
		}
		s.serve(sw, r, auth, h)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, auth authKind, h http.HandlerFunc) {
	if auth == authAPIKey && !s.validAPIKey(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
		return
	}
	h(w, r)
}

func (s *Server) validAPIKey(r *http.Request) bool {
	tok, ok := bearer(r)
	return ok && tok == s.apiKey
}

func bearer(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return tok, true
}

// statusWriter records the status a handler answers.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// oauthError answers an OAuth-style error body.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// stableID returns a 26-character id derived from parts, so that seeded
// objects get the same ids in every run.
func stableID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:16])
}

// formatTime formats t as WorkOS does: RFC 3339 in UTC with milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("workostest: "+format, args...)
}

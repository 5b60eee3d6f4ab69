package ssogate

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HTTPError is a failure of the login, callback or logout handler, as handed
// to [Config].ErrorHandler.
type HTTPError struct {
	// Status is the HTTP status to answer.
	Status int
	// Message is a short sentence for the user. It never holds a secret,
	// a code, a state or a cookie value, but it may quote the identity
	// provider's error description: escape it when writing HTML.
	Message string
	// RetryURL, if set, is a same-origin path that starts the login again.
	RetryURL string
	// RetryText is the words of the link to RetryURL; "" means "Sign in
	// again".
	RetryText string
	// HomeURL is the same-origin path of the app's home page, for a link
	// back: [Config].AfterLoginPath unless set.
	HomeURL string
	// Err is the cause, for logs. It is never shown to the user.
	Err error
	// Reason says why, in a word fit for a metric: the value that
	// [Observer] funcs get. An HTTPError of the application's (from
	// OnLogin) may leave it empty.
	Reason Reason
}

// Error returns the status, the message and the cause, for logs.
func (e *HTTPError) Error() string {
	s := "ssogate: " + strconv.Itoa(e.Status) + " " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// Limits on what a browser may send to the handlers.
const (
	maxCallbackCodeLen = 1024
	maxStateLen        = 256
	maxHintLen         = 320 // the longest valid email address
)

// loginIntent is what a login was started for: exactly one selector. The
// callback holds the resulting profile to it.
type loginIntent struct {
	OrganizationID string
	ConnectionID   string
	Provider       OAuthProvider
}

// loginParams are the query parameters /login reads. Each may appear once:
// a parameter given twice is refused rather than guessed at.
var loginParams = []string{"organization", "connection", "provider", "email", "domain", "login_hint", "return_to", "prompt"}

// onlyOnce reports the first of keys that q holds more than once.
func onlyOnce(q url.Values, keys ...string) *HTTPError {
	for _, k := range keys {
		if len(q[k]) > 1 {
			return badRequest("The " + k + " parameter was given more than once.")
		}
	}
	return nil
}

// Login starts a sign-in: it records a fresh state and PKCE verifier in a
// sealed, short-lived cookie and redirects the browser to WorkOS.
//
// The query says where to sign in, with one of:
//   - organization=org_...: the organization's active connection (or, when
//     it has several, a page to choose among them);
//   - connection=conn_...: that connection;
//   - provider=GoogleOAuth (or another [OAuthProvider]);
//   - email=jane@acme.com or domain=acme.com: the connection for the domain
//     (the email is also passed on as the login hint).
//
// With none of them, Login uses the configured default or
// [Config].RequestOrganization, and otherwise shows a page asking for the
// user's work email. An organization or domain without an active connection
// gets a "single sign-on is not set up" page instead of a WorkOS error.
// login_hint pre-fills the email at the identity provider; return_to is the
// same-origin path to land on afterwards (see [SafeReturnTo]).
//
// When another site (or a sibling subdomain) sends the browser to a /login
// that chooses where to sign in (Sec-Fetch-Site cross-site or same-site),
// Login shows a page that asks to continue, naming the connection and who
// is signed in now, instead of starting the flow: otherwise any page could
// sign its visitors in to an account of a tenant whose identity provider
// it controls (login CSRF). A link that chooses nothing (RequireSSO's own
// redirect), a step-up of the connection the user is signed in with, and
// requests without Fetch Metadata start the flow at once.
func (m *Middleware) Login(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = m.withRequestID(r)
	if m.obs.LoginStart != nil {
		r = r.WithContext(m.obs.LoginStart(r.Context()))
	}
	info := m.login(w, r)
	m.health.recordLogin(&info, m.now())
	if m.obs.LoginDone != nil {
		info.Duration = time.Since(start)
		m.obs.LoginDone(r.Context(), info)
	}
}

// login is Login without the observer; it returns what happened.
func (m *Middleware) login(w http.ResponseWriter, r *http.Request) LoginInfo {
	noStore(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return m.loginFailed(w, r, LoginInfo{}, &HTTPError{Status: http.StatusMethodNotAllowed, Message: "Use GET to sign in.", Reason: ReasonBadRequest})
	}
	req, err := m.parseLogin(r)
	if crossSite(r) {
		req.boundForCrossSite(m.cfg.AfterLoginPath)
	}
	info := req.info()
	switch {
	case err != nil && errors.Is(err.Err, ErrInvalidEmail):
		m.renderEmailPage(w, http.StatusBadRequest, req.returnTo, err.Message)
		info.Status, info.Reason, info.Err = http.StatusBadRequest, ReasonBadRequest, err.Err
		return info
	case err != nil:
		return m.loginFailed(w, r, info, err)
	case req.askEmail:
		m.renderEmailPage(w, http.StatusOK, req.returnTo, "")
		info.Status = http.StatusOK
		return info
	}
	err = m.route(r, &req)
	info = req.info()
	if err != nil && req.domain != "" && (errors.Is(err.Err, ErrLookupLimited) || errors.Is(err.Err, errLookupsHeldBack)) {
		// The email page again, with a retry that works once the budget
		// has refilled: not a dead end.
		w.Header().Set("Retry-After", "10")
		m.renderEmailPage(w, err.Status, req.returnTo, err.Message)
		info.Status, info.Reason, info.Err = err.Status, err.Reason, err.Err
		return info
	}
	if err != nil {
		if errors.Is(err.Err, ErrNoConnection) {
			// The next step is another email (a personal one, a typo),
			// if the login page asks for one.
			if u := m.emailFormURL(req.returnTo); u != "" {
				err.RetryURL, err.RetryText = u, "Try another email"
			}
		}
		return m.loginFailed(w, r, info, err)
	}
	if len(req.choices) > 0 {
		m.renderChooserPage(w, r, req)
		info.Status = http.StatusOK
		return info
	}
	if req.chosen && crossSite(r) {
		s := m.currentSession(r)
		if s == nil || !sameTenant(s, req) {
			// Another site chose where this browser signs in: a page of
			// the attacker's can sign a victim in to an account of another
			// tenant whose identity provider it controls (login CSRF).
			// The user confirms with a same-origin step.
			m.renderConfirmPage(w, r, req, s)
			info.Status = http.StatusOK
			return info
		}
	}
	target, err := m.startLogin(w, r, req)
	if err != nil {
		return m.loginFailed(w, r, info, err)
	}
	http.Redirect(w, r, target, http.StatusFound)
	info.Status, info.Redirected = http.StatusFound, true
	return info
}

// loginFailed answers a refused login and completes its info.
func (m *Middleware) loginFailed(w http.ResponseWriter, r *http.Request, info LoginInfo, err *HTTPError) LoginInfo {
	m.fail(w, r, err)
	info.Status, info.Reason, info.Err = err.Status, err.Reason, err.Err
	return info
}

// info describes the login for observers, who are told only ids that
// WorkOS vouched for or the app configured.
func (req *loginRequest) info() LoginInfo {
	info := LoginInfo{Route: req.route, Provider: req.intent.Provider}
	if !req.unverified {
		info.OrganizationID, info.ConnectionID = req.intent.OrganizationID, req.intent.ConnectionID
	}
	return info
}

// Bounds of what a login that another site started may carry into its
// state cookie, which travels with every request to the site for up to
// ten minutes: with maxStateCookies of them, another site could otherwise
// push a browser's Cookie header past what proxies accept (8 KB).
const (
	maxCrossSiteReturnTo = 256
	maxCrossSiteHint     = 100
)

// boundForCrossSite drops a return_to or login hint longer than another
// site may set: the login goes on to the default landing page, without a
// hint.
func (req *loginRequest) boundForCrossSite(home string) {
	if len(req.returnTo) > maxCrossSiteReturnTo {
		req.returnTo = home
	}
	if len(req.loginHint) > maxCrossSiteHint {
		req.loginHint = ""
	}
}

// loginRequest is a parsed and checked /login query.
type loginRequest struct {
	intent     loginIntent
	domain     string // to route by, from email= or domain=
	loginHint  string
	domainHint string
	returnTo   string
	chosen     bool         // the query chose where to sign in
	name       string       // the connection's or provider's name, if known, for the confirmation page
	forceLogin bool         // prompt=login: the identity provider must authenticate anew
	askEmail   bool         // nothing says where to sign in
	choices    []Connection // the user must choose one of these
	route      LoginRoute   // how the login is routed, for observers
	unverified bool         // the intent's ids came from the query, and WorkOS could not be asked
}

// parseLogin reads the /login query. Every value is checked before use.
func (m *Middleware) parseLogin(r *http.Request) (loginRequest, *HTTPError) {
	q := r.URL.Query()
	req := loginRequest{returnTo: m.cfg.AfterLoginPath}
	if rt, ok := SafeReturnTo(q.Get("return_to")); ok {
		req.returnTo = rt
	}
	if err := onlyOnce(q, loginParams...); err != nil {
		return req, err
	}
	intent := loginIntent{
		OrganizationID: q.Get("organization"),
		ConnectionID:   q.Get("connection"),
		Provider:       OAuthProvider(q.Get("provider")),
	}
	email, domain := strings.TrimSpace(q.Get("email")), strings.TrimSpace(q.Get("domain"))
	req.loginHint = q.Get("login_hint")
	n := intent.selectors()
	if email != "" || domain != "" {
		n++
	}
	req.chosen = n > 0
	if intent.Provider != "" {
		req.name = string(intent.Provider)
	}
	switch {
	case email != "" || domain != "":
		req.route = RouteEmailDomain
	case intent.OrganizationID != "":
		req.route = RouteOrganization
	case intent.ConnectionID != "":
		req.route = RouteConnection
	case intent.Provider != "":
		req.route = RouteProvider
	}
	// Ids from the query are anyone's to make up until routing finds
	// them at WorkOS.
	req.unverified = intent.OrganizationID != "" || intent.ConnectionID != ""
	switch {
	case n > 1 || email != "" && domain != "":
		req.route = ""
		return req, badRequest("Choose only one of organization, connection, provider and email.")
	case intent.OrganizationID != "" && !validPrefixedID(intent.OrganizationID, "org_"):
		return req, badRequest("The organization must be an organization id (org_...).")
	case intent.ConnectionID != "" && !validPrefixedID(intent.ConnectionID, "conn_"):
		return req, badRequest("The connection must be a connection id (conn_...).")
	case intent.Provider != "" && !intent.Provider.Valid():
		return req, badRequest("Unknown sign-in provider.")
	case len(req.loginHint) > maxHintLen || hasControl(req.loginHint):
		return req, badRequest("The login hint is not a valid email address.")
	case q.Has("prompt") && q.Get("prompt") != "login":
		return req, badRequest("The only prompt is login.")
	}
	req.forceLogin = q.Get("prompt") == "login"
	switch {
	case email != "":
		d, err := ParseEmailDomain(email)
		if err != nil {
			return req, &HTTPError{Status: http.StatusBadRequest, Message: "Enter a valid work email address, such as jane@company.com.", Err: err, Reason: ReasonBadRequest}
		}
		req.domain = d
		if req.loginHint == "" {
			req.loginHint = email
		}
	case domain != "":
		d, err := NormalizeDomain(domain)
		if err != nil {
			return req, &HTTPError{Status: http.StatusBadRequest, Message: "Enter a valid domain, such as company.com.", Err: err, Reason: ReasonBadRequest}
		}
		req.domain, req.domainHint = d, d
	case n == 0:
		intent = loginIntent{
			OrganizationID: m.cfg.DefaultOrganization,
			ConnectionID:   m.cfg.DefaultConnection,
			Provider:       m.cfg.DefaultProvider,
		}
		if intent.selectors() == 0 && m.cfg.RequestOrganization != nil {
			if org := m.cfg.RequestOrganization(r); validPrefixedID(org, "org_") {
				intent.OrganizationID = org
			}
		}
		req.askEmail = intent.selectors() == 0
		req.unverified = intent.OrganizationID != "" && intent.OrganizationID != m.cfg.DefaultOrganization
		req.route = RouteDefault
		if req.askEmail {
			req.route = RouteAskEmail
		}
	}
	req.intent = intent
	return req, nil
}

// route resolves an email domain, an organization or a connection through
// the connection cache, so that users whose organization has no working
// connection get a clear page here rather than an error from WorkOS. What
// it resolves becomes the login's intent, which the callback holds the
// profile to.
//
// Each client has its own share of lookups that find nothing (see
// [clientBudgets]): a lookup takes a token of the client's, given back
// when it finds a connection. A client out of tokens is told to wait when
// it routes by email domain; an organization or connection is then left
// to WorkOS's authorization endpoint to judge, with no API call.
func (m *Middleware) route(r *http.Request, req *loginRequest) (herr *HTTPError) {
	if req.domain == "" && req.intent.Provider != "" {
		return nil
	}
	client := m.clientIP(r)
	if !m.lookupClients.take(client, m.now().UnixNano()) {
		if req.domain != "" {
			return &HTTPError{Status: http.StatusTooManyRequests, Message: "Too many sign-in attempts from your network. Please try again in a minute.", Err: errLookupsHeldBack, Reason: ReasonLookupFailed}
		}
		req.unverified = true
		return nil
	}
	defer func() {
		if herr == nil {
			m.lookupClients.giveBack(client, m.now().UnixNano())
		}
	}()
	ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
	defer cancel()
	switch {
	case req.domain != "":
		set, err := m.connections.Domain(ctx, req.domain)
		if err != nil {
			return m.routeError(err, ReasonUnknownDomain)
		}
		active := set.Active()
		switch {
		case len(active) == 1:
			req.intent = loginIntent{OrganizationID: active[0].OrganizationID, ConnectionID: active[0].ID}
			req.name = active[0].Name
		case len(active) > 1 && set.OrganizationID != "":
			req.intent.OrganizationID = set.OrganizationID
			req.choices = active
		case len(active) > 1:
			m.log.Warn("ssogate: email domain is claimed by connections of several organizations; not routing it", "domain", req.domain)
			return m.routeError(ErrNoConnection, ReasonAmbiguousDomain)
		default:
			if len(set.Connections) > 0 {
				req.intent = loginIntent{OrganizationID: set.OrganizationID}
				if len(set.Connections) == 1 {
					req.intent.ConnectionID = set.Connections[0].ID
				}
			}
			return m.routeError(ErrNoConnection, ReasonInactiveConnection)
		}
	case req.intent.ConnectionID != "":
		// A failed lookup (logged by the cache, once per outage) says
		// nothing of the connection: WorkOS's authorization endpoint
		// judges it.
		conn, err := m.connections.Connection(ctx, req.intent.ConnectionID)
		req.unverified = err != nil
		switch {
		case errors.Is(err, ErrNoConnection):
			return m.routeError(err, ReasonNoConnection)
		case err == nil && !conn.Active():
			req.intent.OrganizationID = conn.OrganizationID
			return m.routeError(ErrNoConnection, ReasonInactiveConnection)
		case err == nil:
			req.name = conn.Name
		}
	case req.intent.OrganizationID != "":
		set, err := m.connections.Organization(ctx, req.intent.OrganizationID)
		req.unverified = err != nil
		switch {
		case errors.Is(err, ErrNoConnection):
			return m.routeError(err, ReasonNoConnection)
		case err == nil && len(set.Active()) == 0:
			return m.routeError(ErrNoConnection, ReasonInactiveConnection)
		case err != nil:
			// As for a connection: WorkOS judges the organization.
		case len(set.Active()) == 1:
			req.intent.ConnectionID = set.Active()[0].ID
			req.name = set.Active()[0].Name
		default:
			// WorkOS refuses an organization selector that matches several
			// connections (ambiguous_connection_selector): the user picks.
			req.choices = set.Active()
		}
	}
	return nil
}

// errLookupsHeldBack is the cause of a login refused because its client's
// routing lookups keep finding nothing.
var errLookupsHeldBack = errors.New("ssogate: this client's routing lookups keep finding nothing")

// routeError turns a failed routing lookup into a response; reason is why,
// when err is [ErrNoConnection].
func (m *Middleware) routeError(err error, reason Reason) *HTTPError {
	switch {
	case errors.Is(err, ErrNoConnection):
		return &HTTPError{Status: http.StatusNotFound, Message: "Single sign-on is not set up for your organization. Please contact your administrator.", Err: err, Reason: reason}
	case errors.Is(err, ErrInvalidEmail):
		return &HTTPError{Status: http.StatusBadRequest, Message: "Enter a valid work email address, such as jane@company.com.", Err: err, Reason: ReasonBadRequest}
	}
	if errors.Is(err, ErrLookupLimited) {
		return &HTTPError{Status: http.StatusServiceUnavailable, Message: "Sign-in is busy right now. Please try again in a few seconds.", Err: err, Reason: ReasonLookupFailed}
	}
	return &HTTPError{Status: http.StatusServiceUnavailable, Message: "Sign-in is unavailable right now. Please try again in a minute.", Err: err, Reason: ReasonLookupFailed}
}

// selectors counts the selectors set in i.
func (i loginIntent) selectors() int {
	n := 0
	for _, v := range []string{i.OrganizationID, i.ConnectionID, string(i.Provider)} {
		if v != "" {
			n++
		}
	}
	return n
}

// startLogin records the flow's state in a cookie and returns the URL of
// WorkOS's authorization endpoint.
func (m *Middleware) startLogin(w http.ResponseWriter, r *http.Request, req loginRequest) (string, *HTTPError) {
	st := &loginState{
		State:          m.sessions.newStateFor(r),
		Verifier:       NewPKCEVerifier(),
		ReturnTo:       req.returnTo,
		OrganizationID: req.intent.OrganizationID,
		ConnectionID:   req.intent.ConnectionID,
		Provider:       req.intent.Provider,
		LoginHint:      req.loginHint,
		ForceLogin:     req.forceLogin,
		Unverified:     req.unverified,
		CreatedAt:      m.now(),
	}
	opts := AuthorizationURLOptions{
		RedirectURI:   m.cfg.RedirectURI,
		State:         st.State,
		CodeChallenge: PKCEChallenge(st.Verifier),
		LoginHint:     st.LoginHint,
		DomainHint:    req.domainHint,
		ForceLogin:    req.forceLogin,
	}
	// The intent may name both an organization and its connection; WorkOS
	// takes exactly one selector, the most specific.
	switch {
	case st.ConnectionID != "":
		opts.ConnectionID = st.ConnectionID
	case st.OrganizationID != "":
		opts.OrganizationID = st.OrganizationID
	default:
		opts.Provider = st.Provider
	}
	target, err := m.provider.AuthorizationURL(opts)
	if err != nil {
		return "", &HTTPError{Status: http.StatusInternalServerError, Message: "Sign-in could not be started.", Err: err, Reason: ReasonStartFailed}
	}
	if err := m.sessions.SaveState(w, r, st); err != nil {
		return "", &HTTPError{Status: http.StatusInternalServerError, Message: "Sign-in could not be started.", Err: err, Reason: ReasonStartFailed}
	}
	return target, nil
}

// crossSite reports whether the browser marks r as caused by another site
// (Sec-Fetch-Site cross-site), or by a sibling subdomain (same-site), which
// may be hostile too. A browser without Fetch Metadata (Safari before
// 16.4, any browser on a plain-http origin) is judged by its Referer: one
// of another host is cross-site. A request the user made (none), one of
// this origin, and one with neither header are not.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "":
		if ref := r.Header.Get("Referer"); ref != "" {
			u, err := url.Parse(ref)
			return err != nil || !strings.EqualFold(u.Host, r.Host)
		}
	}
	return false
}

// currentSession returns the session r carries, or nil, for pages that
// name who is signed in now.
func (m *Middleware) currentSession(r *http.Request) *Session {
	s, err := m.sessions.Load(r)
	if err != nil {
		return nil
	}
	return s
}

// signedInAs names s's user on a page: their email, or their profile id.
func signedInAs(s *Session) string {
	if s == nil {
		return ""
	}
	return cmp.Or(s.Profile.Email, s.Profile.ID)
}

// sameTenant reports whether a login for req would sign s's user in again
// where they are signed in already (a step-up, a deep link back into the
// app), which another site cannot abuse to switch accounts.
func sameTenant(s *Session, req loginRequest) bool {
	p := &s.Profile
	switch {
	case req.intent.ConnectionID != "":
		return p.ConnectionID == req.intent.ConnectionID
	case req.intent.OrganizationID != "":
		return p.OrganizationID == req.intent.OrganizationID
	case req.intent.Provider != "":
		return string(p.ConnectionType) == string(req.intent.Provider)
	}
	return false
}

// renderConfirmPage asks the user to confirm a sign-in that another site
// chose. Its button submits the same query from this origin.
func (m *Middleware) renderConfirmPage(w http.ResponseWriter, r *http.Request, req loginRequest, s *Session) {
	type field struct{ Name, Value string }
	var fields []field
	q := r.URL.Query()
	for _, k := range loginParams {
		v := q.Get(k)
		// What another site may carry, as checked and bounded
		// (boundForCrossSite).
		switch {
		case k == "return_to":
			v = ""
			if req.returnTo != m.cfg.AfterLoginPath {
				v = req.returnTo
			}
		case k == "login_hint" && v != "":
			v = req.loginHint
		}
		if v != "" {
			fields = append(fields, field{k, v})
		}
	}
	// The name is the customer's own: no control or format characters
	// (a right-to-left override) may disguise it.
	name := cleanText(req.name, 100, nil)
	if name == "" {
		name = cmp.Or(req.intent.ConnectionID, req.intent.OrganizationID, "single sign-on")
	}
	who := signedInAs(s)
	writePage(w, http.StatusOK, confirmPage, struct {
		Name, Who, Action, Home string
		Fields                  []field
	}{name, who, m.cfg.LoginPath, m.cfg.AfterLoginPath, fields})
}

// newState returns a fresh login state: 256 random bits, URL-safe.
func newState() string {
	var b [32]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Callback completes a sign-in: it checks the state against the flow's
// cookie, exchanges the code for the user's profile, holds the profile to
// what the login was started for, runs [Config].OnLogin, writes a brand-new
// session and redirects (303) to the return_to path.
func (m *Middleware) Callback(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = m.withRequestID(r)
	if m.obs.CallbackStart != nil {
		r = r.WithContext(m.obs.CallbackStart(r.Context()))
	}
	var info CallbackInfo
	m.callback(w, r, &info)
	m.health.record(&info, m.now())
	m.auditCallback(r, &info)
	if m.obs.CallbackDone != nil {
		info.Duration = time.Since(start)
		m.obs.CallbackDone(r.Context(), info)
	}
}

// callback is Callback without the observers; it fills in info.
func (m *Middleware) callback(w http.ResponseWriter, r *http.Request, info *CallbackInfo) {
	noStore(w)
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		m.callbackFailed(w, r, info, &HTTPError{Status: http.StatusMethodNotAllowed, Message: "The sign-in callback takes GET only.", Reason: ReasonBadRequest})
		return
	}
	target, err := m.completeLogin(w, r, info)
	if err != nil {
		m.callbackFailed(w, r, info, err)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	info.SignedIn, info.Status = !info.Restarted, http.StatusSeeOther
}

// callbackFailed answers a refused callback and completes its info.
func (m *Middleware) callbackFailed(w http.ResponseWriter, r *http.Request, info *CallbackInfo, err *HTTPError) {
	m.fail(w, r, err)
	info.Status, info.Reason, info.Err = err.Status, cmp.Or(err.Reason, ReasonRefusedByApp), err.Err
	if info.WorkOSCode == "" {
		var apiErr *APIError
		if errors.As(err.Err, &apiErr) {
			info.WorkOSCode = workOSCode(apiErr.Code)
		}
	}
}

// completeLogin decides the callback's outcome and returns where to send the
// browser; Callback only responds. It fills in info as it learns.
func (m *Middleware) completeLogin(w http.ResponseWriter, r *http.Request, info *CallbackInfo) (string, *HTTPError) {
	q := r.URL.Query()
	// Every state the callback names is spent before anything else is
	// checked: TakeState deletes the flow's cookie whatever the outcome, so
	// a state can never be used twice, even after a malformed callback.
	var (
		st       *loginState
		stateErr error
	)
	states := q["state"]
	for i, s := range states[:min(len(states), maxStateCookies)] {
		if s == "" || len(s) > maxStateLen || slices.Contains(states[:i], s) {
			continue
		}
		got, err := m.sessions.TakeState(w, r, s)
		if i == 0 {
			st, stateErr = got, err
		}
	}
	if err := onlyOnce(q, "code", "state", "error", "error_description"); err != nil {
		return "", err
	}
	code, state := q.Get("code"), q.Get("state")
	errCode, errDesc := q.Get("error"), q.Get("error_description")
	if len(code) > maxCallbackCodeLen || len(state) > maxStateLen || len(errCode) > 100 || len(errDesc) > 1000 {
		return "", badRequest("The sign-in response is malformed.")
	}

	if state != "" {
		if err := stateErr; err != nil && errCode == "" {
			if errors.Is(err, ErrStateMismatch) {
				return "", &HTTPError{Status: http.StatusBadRequest, Message: "The sign-in could not be verified. Please sign in again.", RetryURL: m.cfg.LoginPath, Err: err, Reason: ReasonStateMismatch}
			}
			return "", &HTTPError{Status: http.StatusBadRequest, Message: "Your sign-in expired or was started in another browser. Please sign in again.", RetryURL: m.cfg.LoginPath, Err: err, Reason: ReasonStateMissing}
		}
	}
	if st != nil {
		info.Provider, info.StepUp = st.Provider, st.ForceLogin
		if !st.Unverified {
			info.OrganizationID, info.ConnectionID = st.OrganizationID, st.ConnectionID
		}
	}
	retry := m.retryURL(st)

	if errCode != "" {
		// WorkOS sent the browser back with an error. The description is
		// attacker-reachable text: it is shown escaped, and only as text.
		status := http.StatusBadRequest
		if errCode == "access_denied" {
			status = http.StatusForbidden
		}
		msg := "Sign-in failed"
		// Only a flow this browser started earns the description: anyone
		// can link to the callback with an error_description of their
		// choosing ("call support at ..."), to be shown on this site.
		if d := strings.TrimSpace(errDesc); st != nil && d != "" && !hasControl(d) {
			msg += ": " + d
		} else {
			msg += "."
		}
		if st != nil {
			// Only a flow this browser started earns a code: anyone can
			// send the browser here with an error of their choosing.
			info.WorkOSCode = workOSCode(errCode)
		}
		return "", &HTTPError{Status: status, Message: msg, RetryURL: retry, Err: fmt.Errorf("ssogate: workos error %q", sanitizeForLog(errCode)), Reason: ReasonIdPError}
	}
	if code == "" {
		return "", &HTTPError{Status: http.StatusBadRequest, Message: "The sign-in response has no code.", RetryURL: retry, Reason: ReasonNoCode}
	}
	if st == nil {
		return m.idpInitiated(w, r, code, info)
	}

	if err := m.spendState(r, st); err != nil {
		return "", m.exchangeError(r.Context(), err, retry)
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
	defer cancel()
	pt, err := m.provider.ExchangeCode(ctx, code, st.Verifier)
	m.exchanged(r, err)
	if err != nil {
		return "", m.exchangeError(ctx, err, retry)
	}
	p := &pt.Profile
	if err := revocable(p); err != nil {
		return "", &HTTPError{Status: http.StatusBadGateway, Message: "The sign-in service returned an incomplete profile.", RetryURL: retry, Err: err, Reason: ReasonWorkOSFailed}
	}
	info.ProfileID, info.OrganizationID, info.ConnectionID, info.ConnectionType = p.ID, p.OrganizationID, p.ConnectionID, p.ConnectionType
	info.email = p.Email
	if err := checkIntent(st, p); err != nil {
		m.log.Warn("ssogate: sign-in rejected: profile does not match the login's intent",
			"profile_id", p.ID, "organization_id", p.OrganizationID, "connection_id", p.ConnectionID,
			"want_organization_id", st.OrganizationID, "want_connection_id", st.ConnectionID, "want_provider", string(st.Provider))
		return "", &HTTPError{Status: http.StatusForbidden, Message: "This account does not belong to the organization you signed in to.", RetryURL: retry, Err: err, Reason: ReasonWrongTenant}
	}
	// A revocation made while the login was in progress (the user
	// offboarded, the connection deactivated) must not be outlived by a
	// session issued after it from a code obtained before it.
	switch err := m.revocations.checkSignIn(p, st.CreatedAt); {
	case errors.Is(err, ErrSessionRevoked):
		m.log.Warn("ssogate: sign-in rejected: revoked while it was in progress",
			"profile_id", p.ID, "organization_id", p.OrganizationID, "connection_id", p.ConnectionID)
		return "", &HTTPError{Status: http.StatusForbidden, Message: "Your access was revoked while you were signing in, so you were not signed in. Sign in again; if that fails too, ask your administrator.", RetryURL: retry, Err: err, Reason: ReasonRevoked}
	case err != nil:
		return "", &HTTPError{Status: http.StatusServiceUnavailable, Message: "Sign-in is unavailable right now. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonUnavailable}
	}
	if m.cfg.OnLogin != nil {
		if err := m.cfg.OnLogin(ctx, p); err != nil {
			var herr *HTTPError
			if errors.As(err, &herr) {
				return "", herr
			}
			return "", &HTTPError{Status: http.StatusForbidden, Message: "Your account may not use this application.", Err: err, Reason: ReasonRefusedByApp}
		}
	}
	if _, err := m.sessions.Save(w, r, p, st.ForceLogin); err != nil {
		msg := "Your session could not be saved."
		if errors.Is(err, ErrSessionTooLarge) {
			msg = "Your profile is too large to keep in a session cookie."
		}
		return "", &HTTPError{Status: http.StatusInternalServerError, Message: msg, Err: err, Reason: ReasonSessionNotSaved}
	}
	return st.ReturnTo, nil
}

// revocable checks that every id of p that a session is revoked by (its
// profile, connection and, if any, organization) is one that [Revoke] and
// the [Backplane] take: a session that cannot be revoked must not be
// issued. The profile and connection ids are required.
func revocable(p *Profile) error {
	revs := []Revocation{RevokeUser(p.ID), RevokeConnection(p.ConnectionID)}
	if p.OrganizationID != "" {
		revs = append(revs, RevokeOrganization(p.OrganizationID))
	}
	for _, r := range revs {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("ssogate: profile refused: %w", err)
		}
	}
	return nil
}

// errIntentMismatch is the cause of a rejected sign-in whose profile is not
// of the organization, connection or provider the login was started for.
var errIntentMismatch = errors.New("ssogate: profile does not match the login's intent")

// checkIntent holds the profile to the selector the login started with, so
// that an administrator of one organization's identity provider cannot mint
// sessions for users of another organization.
func checkIntent(st *loginState, p *Profile) error {
	switch {
	case st.ConnectionID != "" && p.ConnectionID != st.ConnectionID,
		st.OrganizationID != "" && p.OrganizationID != st.OrganizationID,
		st.Provider != "" && string(p.ConnectionType) != string(st.Provider):
		return errIntentMismatch
	}
	return nil
}

// spendState records that st buys a code exchange, within this replica's
// budget of exchanges. A state can buy one exchange per replica: a client
// that ignores Set-Cookie and sends the state cookie again gets
// [ErrStateSpent], without a WorkOS call. st is nil for a login that the
// identity provider started, which only spends from the budget.
//
// Within the replica's budget, each client has its own share of failing
// exchanges (see [clientBudgets]): the exchange takes a token of r's
// client, which [Middleware.exchanged] gives back if WorkOS took the code.
func (m *Middleware) spendState(r *http.Request, st *loginState) error {
	now := m.now()
	if st != nil && m.spent.spent(st.State, now) {
		return ErrStateSpent
	}
	if !m.exchangeClients.take(m.clientIP(r), now.UnixNano()) {
		return errClientHeldBack
	}
	if !m.exchanges.allow(now.UnixNano()) {
		m.exchangeClients.giveBack(m.clientIP(r), now.UnixNano())
		// Once a minute, not once per refused sign-in.
		if last := m.budgetLogged.Load(); now.UnixNano()-last >= int64(budgetLogInterval) && m.budgetLogged.CompareAndSwap(last, now.UnixNano()) {
			m.log.Warn("ssogate: sign-ins refused: MaxExchangesPerMinute reached on this replica", "max_exchanges_per_minute", m.cfg.MaxExchangesPerMinute)
		}
		return ErrTooManySignIns
	}
	if st == nil {
		return nil
	}
	return m.spent.spend(st.State, st.CreatedAt.Add(m.sessions.stateLifetime), now)
}

// errClientHeldBack is the cause of a sign-in refused because its client's
// exchanges kept failing.
var errClientHeldBack = fmt.Errorf("%w: this client's exchanges keep failing", ErrTooManySignIns)

// exchanged gives r's client its exchange token back unless WorkOS
// refused the code as one it never issued or already took (err matching
// [ErrInvalidGrant]): only the client that sends made-up or replayed
// codes runs out.
func (m *Middleware) exchanged(r *http.Request, err error) {
	if !errors.Is(err, ErrInvalidGrant) {
		m.exchangeClients.giveBack(m.clientIP(r), m.now().UnixNano())
	}
}

// exchangeError turns a failed code exchange into a response.
func (m *Middleware) exchangeError(ctx context.Context, err error, retry string) *HTTPError {
	switch {
	case errors.Is(err, ErrStateSpent):
		return &HTTPError{Status: http.StatusBadRequest, Message: "This sign-in has expired or was already used. Please sign in again.", RetryURL: retry, Err: err, Reason: ReasonStateSpent}
	case errors.Is(err, errClientHeldBack):
		return &HTTPError{Status: http.StatusTooManyRequests, Message: "Too many failed sign-ins from your network. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonTooManySignIns}
	case errors.Is(err, ErrTooManySignIns):
		return &HTTPError{Status: http.StatusServiceUnavailable, Message: "Too many sign-ins right now. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonTooManySignIns}
	case errors.Is(err, ErrInvalidGrant):
		return &HTTPError{Status: http.StatusBadRequest, Message: "This sign-in has expired or was already used. Please sign in again.", RetryURL: retry, Err: err, Reason: ReasonExchangeFailed}
	case errors.Is(err, ErrRateLimited):
		return &HTTPError{Status: http.StatusServiceUnavailable, Message: "Too many sign-ins right now. Please try again in a minute.", RetryURL: retry, Err: err, Reason: ReasonTooManySignIns}
	case errors.Is(err, ErrInvalidClient), errors.Is(err, ErrUnauthorized):
		return &HTTPError{Status: http.StatusInternalServerError, Message: "Sign-in is misconfigured on this site.", Err: err, Reason: ReasonMisconfigured}
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return &HTTPError{Status: http.StatusGatewayTimeout, Message: "The sign-in service did not answer in time. Please try again.", RetryURL: retry, Err: err, Reason: ReasonWorkOSTimeout}
	}
	return &HTTPError{Status: http.StatusBadGateway, Message: "The sign-in service is unavailable. Please try again.", RetryURL: retry, Err: err, Reason: ReasonWorkOSFailed}
}

// idpInitiated handles a callback with a code and no state of ours.
func (m *Middleware) idpInitiated(w http.ResponseWriter, r *http.Request, code string, info *CallbackInfo) (string, *HTTPError) {
	if m.cfg.IdPInitiated != IdPInitiatedRestart {
		return "", &HTTPError{Status: http.StatusBadRequest, Message: "Sign-in must start from this site. Please sign in again.", RetryURL: m.cfg.LoginPath, Err: errors.New("ssogate: identity-provider-initiated login refused"), Reason: ReasonIdPInitiated}
	}
	if err := m.spendState(r, nil); err != nil {
		return "", m.exchangeError(r.Context(), err, m.cfg.LoginPath)
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
	defer cancel()
	pt, err := m.provider.ExchangeCode(ctx, code, "")
	m.exchanged(r, err)
	if err != nil {
		return "", m.exchangeError(ctx, err, m.cfg.LoginPath)
	}
	if !validPrefixedID(pt.Profile.ConnectionID, "conn_") {
		return "", &HTTPError{Status: http.StatusBadGateway, Message: "The sign-in service returned an incomplete profile.", Err: errors.New("ssogate: profile without a valid connection_id"), Reason: ReasonWorkOSFailed}
	}
	// The profile is discarded: only the connection is trusted enough to
	// start a normal, state-checked login through it.
	info.Restarted = true
	info.ConnectionID, info.OrganizationID, info.ConnectionType = pt.Profile.ConnectionID, pt.Profile.OrganizationID, pt.Profile.ConnectionType
	return m.startLogin(w, r, loginRequest{
		intent:   loginIntent{ConnectionID: pt.Profile.ConnectionID},
		returnTo: m.cfg.AfterLoginPath,
	})
}

// retryURL returns the login URL that starts the same login again.
func (m *Middleware) retryURL(st *loginState) string {
	if st == nil {
		return m.cfg.LoginPath
	}
	v := url.Values{}
	switch {
	case st.OrganizationID != "":
		v.Set("organization", st.OrganizationID)
	case st.ConnectionID != "":
		v.Set("connection", st.ConnectionID)
	case st.Provider != "":
		v.Set("provider", string(st.Provider))
	}
	if st.ReturnTo != "" && st.ReturnTo != m.cfg.AfterLoginPath {
		v.Set("return_to", st.ReturnTo)
	}
	if len(v) == 0 {
		return m.cfg.LoginPath
	}
	return m.cfg.LoginPath + "?" + v.Encode()
}

// Logout ends the session: it clears every cookie ssogate set and redirects
// (303) to [Config].AfterLogoutPath, or to the identity provider's logout
// when [Config].LogoutIdP is set and the connection supports it. If the
// [Backplane] does not take the sign-out within a second (Redis down), the
// session still ends on this replica and in the browser, but Logout
// answers 202 with a page that says the other replicas may not know yet,
// and a link on to the same place.
//
// Sign-out must not be something another site can do to a user, so Logout
// acts on a POST that passes cross-origin protection, or on a GET that the
// browser marks as coming from this site (Sec-Fetch-Site: same-origin), such
// as a plain link. Any other GET (a cross-site link or image, a prefetch, a
// browser without Fetch Metadata) gets a page with a sign-out button.
func (m *Middleware) Logout(w http.ResponseWriter, r *http.Request) {
	r = m.withRequestID(r)
	noStore(w)
	switch r.Method {
	case http.MethodPost:
		if err := crossOrigin.Check(r); err != nil {
			m.fail(w, r, &HTTPError{Status: http.StatusForbidden, Message: "Sign-out must come from this site.", Err: err})
			return
		}
	case http.MethodGet, http.MethodHead:
		if r.Method == http.MethodHead || !sameOriginNavigation(r) || isPrefetch(r) {
			writePage(w, http.StatusOK, logoutPage, struct{ Action, Home string }{m.cfg.LogoutPath, m.cfg.AfterLoginPath})
			return
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		m.fail(w, r, &HTTPError{Status: http.StatusMethodNotAllowed, Message: "Use POST to sign out."})
		return
	}

	s, err := m.sessions.Load(r)
	if err != nil && !errors.Is(err, ErrRevocationsUnavailable) {
		s = nil
	}
	if err := m.sessions.Clear(w, r); err != nil {
		m.log.Error("ssogate: clearing the session failed", "err", err)
	}
	m.sessions.ClearStates(w, r)
	shared := true
	if s != nil {
		// A copy of the cookie must stop working too, on every replica.
		now := m.now()
		rev := Revocation{Kind: SessionRevocation, ID: s.ID, At: now, Expires: s.ExpiresAt}
		if m.signOuts.tooMany(s.Profile.ID, now, m.cfg.SessionLifetime) {
			// An account that signs in and out at will must not grow every
			// replica's memory: past maxSignOutsPerUser, sign the user out
			// everywhere instead, which is one record however often.
			rev = Revocation{Kind: UserRevocation, ID: s.Profile.ID, At: now, Expires: now.Add(MaxSessionLifetime)}
		}
		ctx, cancel := context.WithTimeout(r.Context(), logoutShareTimeout)
		err := m.publish(ctx, Update{Revocations: []Revocation{rev}})
		cancel()
		if err != nil {
			shared = false
			m.log.Warn("ssogate: sign-out not yet shared with the other replicas", "profile_id", s.Profile.ID, "err", err)
		}
	}

	target := m.cfg.AfterLogoutPath
	if m.cfg.LogoutIdP && s != nil && supportsSSOLogout(s.Profile.ConnectionType) {
		ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
		defer cancel()
		la, err := m.provider.AuthorizeLogout(ctx, s.Profile.ID)
		switch {
		case err != nil:
			m.log.Warn("ssogate: identity provider logout refused; signed out locally", "profile_id", s.Profile.ID, "err", err)
		case !absoluteHTTPURL(la.LogoutURL):
			m.log.Warn("ssogate: identity provider logout returned an invalid URL; signed out locally", "profile_id", s.Profile.ID)
		default:
			target = la.LogoutURL
		}
	}
	if shared {
		http.Redirect(w, r, target, http.StatusSeeOther)
	} else {
		// The browser is signed out, and so is this replica; the other
		// replicas learn of it only once the backplane takes it, which a
		// restart of this one would prevent. The page says so rather
		// than claim a sign-out that may not hold everywhere.
		writePage(w, http.StatusAccepted, logoutPendingPage, struct{ Next string }{target})
	}
	if s != nil {
		m.auditSignOut(r, s, shared)
		if f := m.obs.SignedOut; f != nil {
			f(r.Context(), SignOutInfo{
				ProfileID: s.Profile.ID, OrganizationID: s.Profile.OrganizationID, ConnectionID: s.Profile.ConnectionID,
				Shared: shared, IdPLogout: target != m.cfg.AfterLogoutPath,
			})
		}
	}
}

// logoutShareTimeout bounds how long a sign-out waits for the backplane to
// store the session's revocation; it holds on this replica at once, and a
// backplane that keeps trying shares it later.
const logoutShareTimeout = time.Second

// crossOrigin rejects cross-site POSTs using Fetch Metadata and Origin.
var crossOrigin = http.NewCrossOriginProtection()

// supportsSSOLogout reports whether WorkOS can end the identity provider's
// session for a connection type: only OIDC connections support it.
func supportsSSOLogout(t ConnectionType) bool {
	return strings.HasSuffix(string(t), "OIDC")
}

// sameOriginNavigation reports whether r is the browser following a link of
// this site to a new page. A same-origin image, frame, script or fetch (such
// as markup a user managed to post on the site) is not one: it must not sign
// anyone out.
func sameOriginNavigation(r *http.Request) bool {
	h := r.Header
	dest := h.Get("Sec-Fetch-Dest")
	return h.Get("Sec-Fetch-Site") == "same-origin" && h.Get("Sec-Fetch-Mode") == "navigate" &&
		(dest == "" || dest == "document")
}

func isPrefetch(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Sec-Purpose"), "prefetch") ||
		strings.Contains(r.Header.Get("Purpose"), "prefetch")
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// maxIDLen bounds the WorkOS ids accepted from browsers and from WorkOS.
const maxIDLen = 128

// validID reports whether id looks like a WorkOS id: letters, digits, '_'
// and '-', at most maxIDLen bytes. Ids from a browser are checked before
// they reach WorkOS, a cache key or a log line.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validPrefixedID reports whether s is a WorkOS id with the given prefix,
// such as "org_".
func validPrefixedID(s, prefix string) bool {
	return len(s) > len(prefix) && strings.HasPrefix(s, prefix) && validID(s)
}

func badRequest(msg string) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Message: msg, Reason: ReasonBadRequest}
}

// sanitizeForLog keeps log lines to printable ASCII and a bounded length.
func sanitizeForLog(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// noStore marks a response as private to this user and this moment:
// Cache-Control: no-store and Vary: Cookie. It runs on every gated request,
// so both values share one allocation, made per response (a slice shared
// between responses could be changed in place by a handler).
func noStore(w http.ResponseWriter) {
	h := w.Header()
	v := []string{"no-store", "Cookie"}
	h["Cache-Control"] = v[0:1:1]
	if vary := h["Vary"]; len(vary) > 0 {
		h["Vary"] = append(vary, "Cookie")
	} else {
		h["Vary"] = v[1:2:2]
	}
}

// emailFormURL returns the URL of the page that asks for the work email,
// keeping returnTo, or "" when the login path goes elsewhere by default.
func (m *Middleware) emailFormURL(returnTo string) string {
	if m.cfg.DefaultOrganization != "" || m.cfg.DefaultConnection != "" || m.cfg.DefaultProvider != "" || m.cfg.RequestOrganization != nil {
		return ""
	}
	if returnTo == "" || returnTo == m.cfg.AfterLoginPath {
		return m.cfg.LoginPath
	}
	return m.cfg.LoginPath + "?" + url.Values{"return_to": {returnTo}}.Encode()
}

// fail logs err and hands it to the ErrorHandler.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err *HTTPError) {
	if err.HomeURL == "" {
		e := *err // it may be the application's, from OnLogin
		e.HomeURL = m.cfg.AfterLoginPath
		err = &e
	}
	level := "warn"
	if err.Status >= 500 {
		level = "error"
	}
	attrs := []any{"status", err.Status, "path", r.URL.Path}
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		attrs = append(attrs, "request_id", id) // as in the audit record
	}
	if err.Err != nil {
		attrs = append(attrs, "err", err.Err)
	}
	if level == "error" {
		m.log.Error("ssogate: request failed", attrs...)
	} else {
		m.log.Warn("ssogate: request refused", attrs...)
	}
	m.cfg.ErrorHandler(w, r, err)
}

// defaultErrorHandler writes a minimal page with the public message.
func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err *HTTPError) {
	retryText := err.RetryText
	if retryText == "" {
		retryText = "Sign in again"
	}
	writePage(w, err.Status, errorPage, struct {
		Title, Message, RetryURL, RetryText, HomeURL string
	}{http.StatusText(err.Status), err.Message, err.RetryURL, retryText, cmp.Or(err.HomeURL, "/")})
}

// renderEmailPage asks for the user's work email, to route the login by
// its domain.
func (m *Middleware) renderEmailPage(w http.ResponseWriter, status int, returnTo, problem string) {
	if returnTo == m.cfg.AfterLoginPath {
		returnTo = ""
	}
	writePage(w, status, emailPage, struct{ Action, ReturnTo, Problem, Home string }{m.cfg.LoginPath, returnTo, problem, m.cfg.AfterLoginPath})
}

// renderChooserPage lets the user pick one of their organization's
// connections. Each choice starts a login through that connection, with a
// same-origin step: when another site led here, the page warns as the
// confirm page does, naming who is signed in now.
func (m *Middleware) renderChooserPage(w http.ResponseWriter, r *http.Request, req loginRequest) {
	type choice struct{ Name, URL string }
	var choices []choice
	for _, c := range req.choices {
		v := url.Values{"connection": {c.ID}}
		if req.returnTo != m.cfg.AfterLoginPath {
			v.Set("return_to", req.returnTo)
		}
		if req.loginHint != "" {
			v.Set("login_hint", req.loginHint)
		}
		// The names are the customers' own, as on the confirm page.
		name := cmp.Or(cleanText(c.Name, 100, nil), cleanText(string(c.ConnectionType), 100, nil), c.ID)
		choices = append(choices, choice{name, m.cfg.LoginPath + "?" + v.Encode()})
	}
	warn, who := req.chosen && crossSite(r), ""
	if warn {
		who = signedInAs(m.currentSession(r))
	}
	writePage(w, http.StatusOK, chooserPage, struct {
		Choices               []choice
		Warn                  bool
		Who, OtherEmail, Home string
	}{choices, warn, who, m.emailFormURL(req.returnTo), m.cfg.AfterLoginPath})
}

// writePage renders one of ssogate's own small pages with headers that keep
// it from being framed, sniffed or made to load anything. There is no
// form-action directive: browsers apply it to the redirects that follow a
// form too, and the email form's login and the sign-out button's identity
// provider logout redirect to WorkOS. The forms' targets are fixed paths of
// this site, and the templates escape everything they show.
func writePage(w http.ResponseWriter, status int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	t.Execute(w, data)
}

const pageStyle = `<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2433}
main{max-width:28rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002}
h1{font-size:1.25rem;margin:0 0 .75rem}a,button{color:#fff;background:#3b5bdb;border:0;border-radius:6px;padding:.6rem 1rem;font:inherit;text-decoration:none;display:inline-block;cursor:pointer}
input{font:inherit;padding:.55rem;border:1px solid #c5cad3;border-radius:6px;width:100%;box-sizing:border-box;margin:.5rem 0 1rem}
a.secondary{color:#3b5bdb;background:none;text-decoration:underline;padding:.6rem .25rem}
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid #1d2433;outline-offset:2px}</style>`

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>` + pageStyle + `</head>
<body><main><h1>{{.Title}}</h1><p>{{.Message}}</p>
<p>{{if .RetryURL}}<a href="{{.RetryURL}}">{{.RetryText}}</a> {{end}}<a class="secondary" href="{{.HomeURL}}">Back to the home page</a></p></main></body></html>
`))

var forbiddenPage = template.Must(template.New("forbidden").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Forbidden</title>` + pageStyle + `</head>
<body><main><h1>No access</h1><p>You are signed in as <strong>{{.Who}}</strong>. {{.Message}}</p>
<p>If you need it, ask your administrator, or sign in with another account.</p>
<form method="post" action="{{.Logout}}"><button type="submit">Sign out</button> <a class="secondary" href="{{.Home}}">Back to the home page</a></form></main></body></html>
`))

var logoutPage = template.Must(template.New("logout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign out</title>` + pageStyle + `</head>
<body><main><h1>Sign out?</h1><form method="post" action="{{.Action}}"><button type="submit" autofocus>Sign out</button> <a class="secondary" href="{{.Home}}">Stay signed in</a></form></main></body></html>
`))

var logoutPendingPage = template.Must(template.New("logout-pending").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Signed out on this device</title>` + pageStyle + `</head>
<body><main><h1>Signed out on this device</h1>
<p>This browser is signed out. The app could not yet tell its other servers, and keeps trying: until they know, a copy of this session taken from this device may still work there.</p>
<p>If you think someone copied your session, tell your administrator.</p>
<p><a href="{{.Next}}">Continue</a></p></main></body></html>
`))

var emailPage = template.Must(template.New("email").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in</title>` + pageStyle + `</head>
<body><main><h1>Sign in with single sign-on</h1>
{{if .Problem}}<p role="alert" id="problem">{{.Problem}}</p>{{end}}
<form method="get" action="{{.Action}}">
<label for="email">Work email</label>
<input id="email" name="email" type="email" autocomplete="email" required autofocus placeholder="jane@company.com"{{if .Problem}} aria-invalid="true" aria-describedby="problem"{{end}}>
{{if .ReturnTo}}<input type="hidden" name="return_to" value="{{.ReturnTo}}">{{end}}
<button type="submit">Continue</button> <a class="secondary" href="{{.Home}}">Back to the home page</a></form></main></body></html>
`))

var confirmPage = template.Must(template.New("confirm").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Continue signing in?</title>` + pageStyle + `</head>
<body><main><h1>Continue signing in with {{.Name}}?</h1>
<p>{{if .Who}}You are signed in as <strong>{{.Who}}</strong>. {{end}}Another site sent you here to sign in. Continue only if you meant to.</p>
<form method="get" action="{{.Action}}">{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}
<button type="submit">Continue</button> <a class="secondary" href="{{.Home}}">Back to the home page</a></form></main></body></html>
`))

var chooserPage = template.Must(template.New("chooser").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in</title>` + pageStyle + `</head>
<body><main><h1>Choose how to sign in</h1>
{{if .Warn}}<p>{{if .Who}}You are signed in as <strong>{{.Who}}</strong>. {{end}}Another site sent you here to sign in. Continue only if you meant to.</p>{{end}}
<ul>{{range .Choices}}<li><a href="{{.URL}}">{{.Name}}</a></li>{{end}}</ul>
<p>{{if .OtherEmail}}<a class="secondary" href="{{.OtherEmail}}">Use another email</a> {{end}}<a class="secondary" href="{{.Home}}">Back to the home page</a></p></main></body></html>
`))

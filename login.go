package ssogate

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssogate/ssogate/internal/sanitize"
	"github.com/ssogate/ssogate/workos"
)

// loginIntent is what a login was started for: exactly one selector. The
// callback holds the resulting profile to it.
type loginIntent struct {
	OrganizationID string
	ConnectionID   string
	Provider       workos.OAuthProvider
}

// loginParams are the query parameters /login reads. Each may appear once:
// a parameter given twice is refused rather than guessed at.
var loginParams = []string{"organization", "connection", "provider", "email", "domain", "login_hint", "return_to", "prompt"}

// Login starts a sign-in: it records a fresh state and PKCE verifier in a
// sealed, short-lived cookie and redirects the browser to WorkOS.
//
// The query says where to sign in, with one of:
//   - organization=org_...: the organization's active connection (or, when
//     it has several, a page to choose among them);
//   - connection=conn_...: that connection;
//   - provider=GoogleOAuth (or another [.OAuthProvider]);
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
		Provider:       workos.OAuthProvider(q.Get("provider")),
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
		Verifier:       workos.NewPKCEVerifier(),
		ReturnTo:       req.returnTo,
		OrganizationID: req.intent.OrganizationID,
		ConnectionID:   req.intent.ConnectionID,
		Provider:       req.intent.Provider,
		LoginHint:      req.loginHint,
		ForceLogin:     req.forceLogin,
		Unverified:     req.unverified,
		CreatedAt:      m.now(),
	}
	opts := workos.AuthorizationURLOptions{
		RedirectURI:   m.cfg.RedirectURI,
		State:         st.State,
		CodeChallenge: workos.PKCEChallenge(st.Verifier),
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
	name := sanitize.Text(req.name, 100, nil)
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
		name := cmp.Or(sanitize.Text(c.Name, 100, nil), sanitize.Text(string(c.ConnectionType), 100, nil), c.ID)
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

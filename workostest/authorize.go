package workostest

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// oauthProviders are the values the provider selector accepts.
var oauthProviders = []string{
	"AppleOAuth", "BitbucketOAuth", "GitHubOAuth", "GitLabOAuth", "GoogleOAuth",
	"IntuitOAuth", "LinkedInOAuth", "MicrosoftOAuth", "SalesforceOAuth", "SlackOAuth",
	"VercelMarketplaceOAuth", "VercelOAuth", "XeroOAuth",
}

// pendingAuth is an authorization request waiting on the hosted sign-in page.
type pendingAuth struct {
	connID      string
	redirectURI string
	state       *string
	challenge   string
	loginHint   string
	expires     time.Time
}

// authCode is an issued authorization code.
type authCode struct {
	clientID    string
	redirectURI string
	challenge   string
	connID      string
	profile     profileJSON
	expires     time.Time
}

// authorizeError is a selector failure: the browser goes back to the
// redirect URI with error and error_description.
type authorizeError struct {
	code, desc string
}

// authorize serves GET /sso/authorize. Problems with client_id,
// redirect_uri, response_type or PKCE parameters answer 400 here, since the
// redirect URI cannot be trusted (or the client is broken); selector
// problems go back to the redirect URI, as WorkOS does.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.clientID {
		badRequest(w, r, "invalid_client", "The client_id is missing or unknown.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if desc := s.checkRedirectURI(redirectURI); desc != "" {
		badRequest(w, r, "invalid_redirect_uri", desc)
		return
	}
	if q.Get("response_type") != "code" {
		badRequest(w, r, "unsupported_response_type", "response_type must be code.")
		return
	}
	challenge := q.Get("code_challenge")
	if q.Has("code_challenge_method") {
		if m := q.Get("code_challenge_method"); m != "S256" {
			badRequest(w, r, "invalid_request", "code_challenge_method must be S256.")
			return
		}
		if challenge == "" {
			badRequest(w, r, "invalid_request", "code_challenge_method was sent without code_challenge.")
			return
		}
	}
	var state *string
	if q.Has("state") {
		st := q.Get("state")
		state = &st
	}

	s.mu.Lock()
	s.pruneLocked(s.nowLocked())
	c, aerr := s.resolveConnectionLocked(q)
	if aerr != nil {
		s.mu.Unlock()
		redirectBack(w, r, redirectURI, url.Values{"error": {aerr.code}, "error_description": {aerr.desc}}, state)
		return
	}
	p := &pendingAuth{
		connID:      c.ID,
		redirectURI: redirectURI,
		state:       state,
		challenge:   challenge,
		loginHint:   q.Get("login_hint"),
		expires:     s.nowLocked().Add(codeTTL),
	}
	if s.autoSignIn != "" {
		params := s.signInLocked(p, s.autoSignIn)
		s.mu.Unlock()
		redirectBack(w, r, redirectURI, params, state)
		return
	}
	id := rand.Text()
	s.pending[id] = p
	page := s.signInPageLocked(id, p, c)
	s.mu.Unlock()
	renderSignIn(w, page)
}

// checkRedirectURI returns why uri is refused, or "" if it is allowed.
func (s *Server) checkRedirectURI(uri string) string {
	if uri == "" {
		return "redirect_uri is required."
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return "redirect_uri must be an absolute http or https URL without a fragment."
	}
	if s.redirectURIs != nil && !slices.Contains(s.redirectURIs, uri) {
		return "redirect_uri is not one of the allowed redirect URIs."
	}
	return ""
}

// resolveConnectionLocked finds the connection the selector names.
func (s *Server) resolveConnectionLocked(q url.Values) (*connection, *authorizeError) {
	connID, orgID, provider := q.Get("connection"), q.Get("organization"), q.Get("provider")
	// domain is deprecated, but WorkOS still takes it: it selects the
	// connection that claims the domain.
	domain := strings.ToLower(q.Get("domain"))
	n := 0
	for _, v := range []string{connID, orgID, provider, domain} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		desc := "A valid connection selector is required: connection, organization or provider."
		if q.Has("connection_id") || q.Has("organization_id") {
			desc += " connection_id and organization_id are not selectors of /sso/authorize."
		}
		return nil, &authorizeError{"invalid_connection_selector", desc}
	case n > 1:
		return nil, &authorizeError{"ambiguous_connection_selector", "Only one of connection, organization, provider and domain may be sent."}
	case connID != "":
		c := s.conns[connID]
		if c == nil {
			return nil, &authorizeError{"connection_invalid", "There is no connection with id '" + connID + "'."}
		}
		if c.State != "active" {
			return nil, &authorizeError{"connection_unlinked", "The connection '" + connID + "' is not active."}
		}
		return c, nil
	case domain != "":
		active := s.activeConnectionsLocked(func(c *connection) bool { return slices.Contains(c.Domains, domain) })
		switch len(active) {
		case 0:
			return nil, &authorizeError{"connection_invalid", "There is no active connection for the domain '" + domain + "'."}
		case 1:
			return active[0], nil
		}
		return nil, &authorizeError{"ambiguous_connection_selector", "Several active connections claim the domain '" + domain + "'; select one with connection."}
	case orgID != "":
		if s.orgs[orgID] == nil {
			return nil, &authorizeError{"organization_invalid", "There is no organization with id '" + orgID + "'."}
		}
		active := s.activeConnectionsLocked(func(c *connection) bool { return c.OrganizationID == orgID })
		switch len(active) {
		case 0:
			return nil, &authorizeError{"connection_invalid", "The organization '" + orgID + "' has no active connection."}
		case 1:
			return active[0], nil
		}
		return nil, &authorizeError{"ambiguous_connection_selector", "The organization '" + orgID + "' has several active connections; select one with connection."}
	default:
		if !slices.Contains(oauthProviders, provider) {
			return nil, &authorizeError{"invalid_connection_selector", "'" + provider + "' is not a valid provider."}
		}
		active := s.activeConnectionsLocked(func(c *connection) bool { return c.Type == provider })
		switch len(active) {
		case 0:
			return nil, &authorizeError{"connection_invalid", "There is no active " + provider + " connection."}
		case 1:
			return active[0], nil
		}
		return nil, &authorizeError{"connection_strategy_invalid", "There are several active " + provider + " connections."}
	}
}

func (s *Server) activeConnectionsLocked(match func(*connection) bool) []*connection {
	var out []*connection
	for _, id := range s.connOrder {
		if c := s.conns[id]; c.State == "active" && match(c) {
			out = append(out, c)
		}
	}
	return out
}

// signInLocked issues a code for the user with this email and returns the
// parameters to send the browser back with: the code, or access_denied if
// the connection has no such user.
func (s *Server) signInLocked(p *pendingAuth, email string) url.Values {
	c := s.conns[p.connID]
	var u *User
	if c != nil {
		u = s.findUserLocked(c.ID, email)
	}
	if u == nil {
		return url.Values{
			"error":             {"access_denied"},
			"error_description": {"The user '" + email + "' cannot sign in through this connection."},
		}
	}
	code := rand.Text()
	s.codes[code] = &authCode{
		clientID:    s.clientID,
		redirectURI: p.redirectURI,
		challenge:   p.challenge,
		connID:      c.ID,
		profile:     s.profileOfLocked(c, u),
		expires:     s.nowLocked().Add(codeTTL),
	}
	return url.Values{"code": {code}}
}

// completeAuthorize serves the form of the hosted sign-in page.
func (s *Server) completeAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, r, "invalid_request", "The form could not be read.")
		return
	}
	id := r.PostForm.Get("request")
	s.mu.Lock()
	p := s.pending[id]
	delete(s.pending, id) // single use, like the IdP's own request
	if p == nil || !s.nowLocked().Before(p.expires) {
		s.mu.Unlock()
		badRequest(w, r, "invalid_request", "This sign-in request has expired or was already used. Start the sign-in again.")
		return
	}
	var params url.Values
	if r.PostForm.Get("action") == "cancel" {
		params = url.Values{
			"error":             {"access_denied"},
			"error_description": {"The user cancelled the sign-in."},
		}
	} else {
		params = s.signInLocked(p, r.PostForm.Get("email"))
	}
	s.mu.Unlock()
	redirectBack(w, r, p.redirectURI, params, p.state)
}

// redirectBack sends the browser to uri with params (and state, if the
// authorization request had one) added to its query.
func redirectBack(w http.ResponseWriter, r *http.Request, uri string, params url.Values, state *string) {
	u, err := url.Parse(uri)
	if err != nil { // checked by checkRedirectURI; never expected
		badRequest(w, r, "invalid_redirect_uri", "redirect_uri is not a valid URL.")
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if state != nil {
		q.Set("state", *state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// badRequest answers 400 to a browser route: a small page for browsers,
// an OAuth-style JSON body for everything else.
func badRequest(w http.ResponseWriter, r *http.Request, code, desc string) {
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		renderError(w, http.StatusBadRequest, code, desc)
		return
	}
	oauthError(w, http.StatusBadRequest, code, desc)
}

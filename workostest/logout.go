package workostest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

type logoutRequestJSON struct {
	ProfileID string `json:"profile_id"`
}

type logoutResponseJSON struct {
	LogoutURL   string `json:"logout_url"`
	LogoutToken string `json:"logout_token"`
}

// logoutAuthorize serves POST /sso/logout/authorize. Only users of OIDC
// connections can be logged out this way, as in production.
func (s *Server) logoutAuthorize(w http.ResponseWriter, r *http.Request) {
	var req logoutRequestJSON
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.ProfileID == "" {
		// The spec's 400, the OAuth shape: there is no connection to log
		// out of without a profile.
		oauthError(w, http.StatusBadRequest, "connection_invalid", "A profile_id is required.")
		return
	}
	s.mu.Lock()
	var conn *connection
	for _, u := range s.users {
		if ProfileID(u.ConnectionID, u.Email) == req.ProfileID {
			conn = s.conns[u.ConnectionID]
			break
		}
	}
	if conn == nil {
		s.mu.Unlock()
		notFound(w, "Profile", req.ProfileID)
		return
	}
	if !strings.HasSuffix(conn.Type, "OIDC") {
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "connection_invalid",
			"SSO logout is only supported for OIDC connections; connection '"+conn.ID+"' is "+conn.Type+".")
		return
	}
	tok := rand.Text()
	s.logouts[tok] = req.ProfileID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, logoutResponseJSON{
		LogoutURL:   s.URL + "/sso/logout?token=" + url.QueryEscape(tok),
		LogoutToken: tok,
	})
}

// logout serves GET /sso/logout, where the browser goes to end the
// identity provider session.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	s.mu.Lock()
	_, ok := s.logouts[tok]
	delete(s.logouts, tok)
	s.mu.Unlock()
	if !ok {
		// As the spec answers: 404 with a message.
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "The logout token is missing, unknown or was already used."})
		return
	}
	if s.logoutRedirect != "" {
		http.Redirect(w, r, s.logoutRedirect, http.StatusFound)
		return
	}
	renderSignedOut(w)
}

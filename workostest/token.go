package workostest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"
)

// profileJSON is a profile on the wire.
type profileJSON struct {
	Object           string         `json:"object"`
	ID               string         `json:"id"`
	OrganizationID   *string        `json:"organization_id"`
	ConnectionID     string         `json:"connection_id"`
	ConnectionType   string         `json:"connection_type"`
	IdPID            string         `json:"idp_id"`
	Email            string         `json:"email"`
	FirstName        *string        `json:"first_name"`
	LastName         *string        `json:"last_name"`
	Name             *string        `json:"name"`
	Role             *roleJSON      `json:"role"`
	Roles            []roleJSON     `json:"roles"`
	Groups           []string       `json:"groups"`
	CustomAttributes map[string]any `json:"custom_attributes"`
	RawAttributes    map[string]any `json:"raw_attributes"`
}

type roleJSON struct {
	Slug string `json:"slug"`
}

type tokenResponseJSON struct {
	TokenType   string      `json:"token_type"`
	AccessToken string      `json:"access_token"`
	ExpiresIn   int         `json:"expires_in"`
	Profile     profileJSON `json:"profile"`
}

// tokenRequest is the body of POST /sso/token, form-encoded or JSON.
type tokenRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	GrantType    string `json:"grant_type"`
	Code         string `json:"code"`
	CodeVerifier string `json:"code_verifier"`
}

type accessToken struct {
	profile profileJSON
	expires time.Time
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (s *Server) profileOfLocked(c *connection, u *User) profileJSON {
	p := profileJSON{
		Object:           "profile",
		ID:               ProfileID(c.ID, u.Email),
		OrganizationID:   nullable(c.OrganizationID),
		ConnectionID:     c.ID,
		ConnectionType:   c.Type,
		IdPID:            u.IdPID,
		Email:            u.Email,
		FirstName:        nullable(u.FirstName),
		LastName:         nullable(u.LastName),
		Name:             nullable(strings.TrimSpace(u.FirstName + " " + u.LastName)),
		Groups:           append([]string{}, u.Groups...),
		CustomAttributes: map[string]any{},
		RawAttributes:    map[string]any{},
	}
	if u.Role != "" {
		p.Role = &roleJSON{Slug: u.Role}
	}
	for _, r := range u.Roles {
		p.Roles = append(p.Roles, roleJSON{Slug: r})
	}
	for k, v := range u.CustomAttributes {
		p.CustomAttributes[k] = v
	}
	return p
}

const invalidGrantDesc = "The code has expired or has already been used."

// token serves POST /sso/token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	req, ok := readTokenRequest(r)
	if !ok {
		// The spec's answer to a body it cannot validate.
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "The request body could not be read."})
		return
	}
	if req.ClientID != s.clientID ||
		subtle.ConstantTimeCompare([]byte(req.ClientSecret), []byte(s.apiKey)) != 1 {
		// 400, as the spec says; it documents no 401 here.
		oauthError(w, http.StatusBadRequest, "invalid_client", "Invalid client ID or client secret.")
		return
	}
	if req.GrantType != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code.")
		return
	}

	s.mu.Lock()
	now := s.nowLocked()
	s.pruneLocked(now)
	code := s.codes[req.Code]
	// A code is spent by any exchange that presents it, even one that then
	// fails the PKCE check, so a verifier cannot be guessed at.
	delete(s.codes, req.Code)
	if code == nil || !now.Before(code.expires) || code.clientID != req.ClientID || s.conns[code.connID] == nil {
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", invalidGrantDesc)
		return
	}
	if code.challenge != "" {
		sum := sha256.Sum256([]byte(req.CodeVerifier))
		got := base64.RawURLEncoding.EncodeToString(sum[:])
		if req.CodeVerifier == "" || subtle.ConstantTimeCompare([]byte(got), []byte(code.challenge)) != 1 {
			s.mu.Unlock()
			oauthError(w, http.StatusBadRequest, "invalid_grant", "The code_verifier does not match the code_challenge.")
			return
		}
	}
	tok := rand.Text() + rand.Text()
	s.tokens[tok] = &accessToken{profile: code.profile, expires: now.Add(accessTokenTTL)}
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, tokenResponseJSON{
		TokenType:   "Bearer",
		AccessToken: tok,
		ExpiresIn:   int(accessTokenTTL / time.Second),
		Profile:     code.profile,
	})
}

// readTokenRequest reads a form-encoded or JSON token request.
func readTokenRequest(r *http.Request) (tokenRequest, bool) {
	var req tokenRequest
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			return req, false
		}
		return req, true
	}
	if err := r.ParseForm(); err != nil {
		return req, false
	}
	f := r.PostForm
	return tokenRequest{
		ClientID:     f.Get("client_id"),
		ClientSecret: f.Get("client_secret"),
		GrantType:    f.Get("grant_type"),
		Code:         f.Get("code"),
		CodeVerifier: f.Get("code_verifier"),
	}, true
}

// profile serves GET /sso/profile, which takes the access token from
// /sso/token, never the API key.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r)
	s.mu.Lock()
	now := s.nowLocked()
	at := s.tokens[tok]
	if at != nil && !now.Before(at.expires) {
		delete(s.tokens, tok)
		at = nil
	}
	s.mu.Unlock()
	if !ok || at == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
		return
	}
	writeJSON(w, http.StatusOK, at.profile)
}

// pruneLocked forgets expired codes, tokens and sign-in requests, so a
// long-running server does not grow without bound.
func (s *Server) pruneLocked(now time.Time) {
	for k, c := range s.codes {
		if !now.Before(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, t := range s.tokens {
		if !now.Before(t.expires) {
			delete(s.tokens, k)
		}
	}
	for k, p := range s.pending {
		if !now.Before(p.expires) {
			delete(s.pending, k)
		}
	}
}

package ssogate

import (
	"cmp"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/maphash"
	"math"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// errStateTooLarge reports login state that does not fit in a cookie; in
// practice an overlong return path that the handler should have refused.
var errStateTooLarge = errors.New("ssogate: login state too large for a cookie")

// Session is what ssogate keeps about a signed-in user.
//
// Profile holds the user's identity without RawAttributes and, unless the
// application asked to keep them, without CustomAttributes. It never holds
// the WorkOS API key or an access token.
type Session struct {
	// Profile is the user's identity as it was at sign-in.
	Profile Profile
	// IssuedAt is when the user signed in, to the second.
	IssuedAt time.Time
	// ExpiresAt is when the session ends, to the second.
	ExpiresAt time.Time
}

const (
	// maxCookieBytes is the largest Set-Cookie (name, value and attributes)
	// that browsers are required to keep (RFC 6265 section 6.1).
	maxCookieBytes = 4096

	// maxStateCookies is how many login flows may be in progress at once in
	// one browser. More would crowd the Cookie header on every request to
	// the callback path.
	maxStateCookies = 5

	// flowIDLen is the length in hex digits of the flow id in a state
	// cookie's name.
	flowIDLen = 12

	// storeValuesKey is the key of the payload in a [sessions.Session]'s Values.
	storeValuesKey = "ssogate"

	// minSecretLen is the shortest secret accepted, in bytes.
	minSecretLen = 32
)

// The HKDF info strings. Each purpose gets keys of its own, so that a
// session cookie can never be opened as a state cookie, nor the reverse, even
// when both are sealed with the same secret.
const (
	infoSessionHMAC = "ssogate v1 session cookie HMAC-SHA256 key"
	infoSessionAES  = "ssogate v1 session cookie AES-256 key"
	infoStateHMAC   = "ssogate v1 login state cookie HMAC-SHA256 key"
	infoStateAES    = "ssogate v1 login state cookie AES-256 key"
)

// sessionConfig configures a [sessionManager]. It is filled in and
// validated by [New]; newSessionManager checks it again.
type sessionConfig struct {
	// Secrets seal the cookies, newest first; each is at least 32 bytes.
	// Cookies are sealed with the first and opened with any, so a new secret
	// can be put in front without signing anyone out; a cookie sealed with a
	// secret that has been removed is refused.
	Secrets [][]byte
	// CookieName is the name of the session cookie.
	CookieName string
	// StatePrefix begins the name of every login state cookie.
	StatePrefix string
	// Path is the session cookie's path; default "/".
	Path string
	// StatePath is the state cookies' path, the callback's path; default Path.
	StatePath string
	// Domain is the cookies' domain; default none (host-only).
	Domain string
	// Secure marks the cookies Secure.
	Secure bool
	// Lifetime is how long a session lasts; at least one second.
	Lifetime time.Duration
	// StateLifetime is how long a login may take; default 10 minutes.
	StateLifetime time.Duration
	// Store keeps sessions on the server when set; nil seals them into the
	// session cookie itself.
	Store sessions.Store
	// KeepCustomAttributes keeps Profile.CustomAttributes in the session.
	KeepCustomAttributes bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// sessionManager seals sessions and login state into cookies. It is safe for
// concurrent use and never changes after newSessionManager.
type sessionManager struct {
	cookieName    string
	statePrefix   string
	path          string
	statePath     string
	domain        string
	secure        bool
	lifetime      time.Duration // whole seconds
	stateLifetime time.Duration // whole seconds
	store         sessions.Store
	keepCustom    bool
	now           func() time.Time

	sessionCodecs []securecookie.Codec // newest first
	stateCodecs   []securecookie.Codec // newest first

	// cache holds verified session cookies; nil when sessions live in a
	// store.
	cache *sessionCache
}

// newSessionManager validates cfg and derives the cookie keys.
func newSessionManager(cfg sessionConfig) (*sessionManager, error) {
	if len(cfg.Secrets) == 0 {
		return nil, &ConfigError{Field: "Secrets", Problem: "at least one secret is required"}
	}
	for _, s := range cfg.Secrets {
		if len(s) < minSecretLen {
			return nil, &ConfigError{Field: "Secrets", Problem: "every secret must be at least 32 bytes"}
		}
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.StatePath == "" {
		cfg.StatePath = cfg.Path
	}
	if cfg.StateLifetime == 0 {
		cfg.StateLifetime = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lifetime < time.Second {
		return nil, &ConfigError{Field: "Lifetime", Problem: "must be at least one second"}
	}
	if cfg.StateLifetime < time.Second {
		return nil, &ConfigError{Field: "StateLifetime", Problem: "must be at least one second"}
	}
	if cfg.CookieName == "" {
		return nil, &ConfigError{Field: "CookieName", Problem: "is required"}
	}
	if cfg.StatePrefix == "" {
		return nil, &ConfigError{Field: "StatePrefix", Problem: "is required"}
	}
	// ClearStates expires every cookie that looks like a state cookie; the
	// session cookie must never be one of them.
	if isStateCookieName(cfg.CookieName, cfg.StatePrefix) {
		return nil, &ConfigError{Field: "StatePrefix", Problem: "must not match the session cookie name"}
	}
	if err := (&http.Cookie{Name: cfg.CookieName, Path: cfg.Path, Domain: cfg.Domain}).Valid(); err != nil {
		return nil, &ConfigError{Field: "CookieName", Problem: "with Path and Domain does not make a valid cookie"}
	}
	sample := cfg.StatePrefix + strings.Repeat("0", flowIDLen)
	if err := (&http.Cookie{Name: sample, Path: cfg.StatePath, Domain: cfg.Domain}).Valid(); err != nil {
		return nil, &ConfigError{Field: "StatePrefix", Problem: "with StatePath and Domain does not make a valid cookie"}
	}

	m := &sessionManager{
		cookieName:    cfg.CookieName,
		statePrefix:   cfg.StatePrefix,
		path:          cfg.Path,
		statePath:     cfg.StatePath,
		domain:        cfg.Domain,
		secure:        cfg.Secure,
		lifetime:      cfg.Lifetime.Truncate(time.Second),
		stateLifetime: cfg.StateLifetime.Truncate(time.Second),
		store:         cfg.Store,
		keepCustom:    cfg.KeepCustomAttributes,
		now:           cfg.Now,
	}
	var err error
	m.sessionCodecs, err = deriveCodecs(cfg.Secrets, infoSessionHMAC, infoSessionAES, m.lifetime)
	if err != nil {
		return nil, err
	}
	m.stateCodecs, err = deriveCodecs(cfg.Secrets, infoStateHMAC, infoStateAES, m.stateLifetime)
	if err != nil {
		return nil, err
	}
	if m.store == nil {
		m.cache = newSessionCache()
	}
	return m, nil
}

// deriveCodecs derives an HMAC key and an AES-256 key from each secret with
// HKDF-SHA256 and returns one codec per secret, in the same order.
//
// securecookie MACs "name|timestamp|ciphertext", so a value sealed for one
// cookie name does not open under another, and refuses values whose
// timestamp is older than maxAge.
func deriveCodecs(secrets [][]byte, hmacInfo, aesInfo string, maxAge time.Duration) ([]securecookie.Codec, error) {
	codecs := make([]securecookie.Codec, 0, len(secrets))
	for _, secret := range secrets {
		hashKey, err := hkdf.Key(sha256.New, secret, nil, hmacInfo, 32)
		if err != nil {
			return nil, err
		}
		blockKey, err := hkdf.Key(sha256.New, secret, nil, aesInfo, 32)
		if err != nil {
			return nil, err
		}
		sc := securecookie.New(hashKey, blockKey).
			MaxAge(int(maxAge / time.Second)).
			MaxLength(maxCookieBytes).
			SetSerializer(securecookie.NopEncoder{})
		codecs = append(codecs, sc)
	}
	return codecs, nil
}

// Load returns the session of the request, or [ErrNoSession] if it has no
// valid one, whatever the reason.
//
// The returned Session may be shared with other requests that carry the
// same cookie, and must not be modified.
func (m *sessionManager) Load(r *http.Request) (*Session, error) {
	if m.store != nil {
		return m.loadFromStore(r)
	}
	now := m.now().Unix()
	if m.cache != nil {
		// The first cookie of the name is looked up as it is: the cache
		// holds only valid values, so on a hit it is the one r.Cookie would
		// return, and checking its bytes would cost more than the lookup.
		if value, ok := findCookie(r, m.cookieName, false); ok {
			switch s, res := m.cache.get(value, now); res {
			case cacheHit:
				return s, nil
			case cacheExpired:
				return nil, ErrNoSession
			}
		}
	}
	value, ok := cookieValue(r, m.cookieName)
	if !ok || value == "" {
		return nil, ErrNoSession
	}
	var payload []byte
	if err := securecookie.DecodeMulti(m.cookieName, value, &payload, m.sessionCodecs...); err != nil {
		return nil, ErrNoSession
	}
	s, err := decodeSession(payload)
	if err != nil {
		return nil, ErrNoSession
	}
	if !m.keepCustom {
		s.Profile.CustomAttributes = nil
	}
	deadline := m.deadline(s)
	if now >= deadline {
		return nil, ErrNoSession
	}
	if m.cache != nil {
		m.cache.put(value, s, deadline, now)
	}
	return s, nil
}

// deadline returns the Unix second at which s stops being valid: its own
// expiry, or sooner if the configured lifetime has been shortened since it
// was issued.
func (m *sessionManager) deadline(s *Session) int64 {
	return min(s.ExpiresAt.Unix(), s.IssuedAt.Unix()+int64(m.lifetime/time.Second))
}

// loadFromStore is Load for sessions kept in a [sessions.Store].
func (m *sessionManager) loadFromStore(r *http.Request) (*Session, error) {
	// Store.New, not Store.Get: Get caches the session in a registry on the
	// request, and Save must never see an old session again.
	ss, err := m.store.New(r, m.cookieName)
	if err != nil || ss == nil {
		return nil, ErrNoSession
	}
	payload, ok := ss.Values[storeValuesKey].([]byte)
	if !ok {
		return nil, ErrNoSession
	}
	s, err := decodeSession(payload)
	if err != nil {
		return nil, ErrNoSession
	}
	if !m.keepCustom {
		s.Profile.CustomAttributes = nil
	}
	// The store's own expiry may be longer than ours, or absent: the
	// payload's is the one that counts.
	if m.now().Unix() >= m.deadline(s) {
		return nil, ErrNoSession
	}
	return s, nil
}

// Save starts a brand-new session for p, valid from now for the configured
// lifetime, and returns it. It never reuses the request's session: with a
// server-side store the old session is destroyed and a new id issued, so an
// id planted in the browser before sign-in (session fixation) is worth
// nothing after it.
//
// If the session cookie would exceed 4096 bytes, Save writes nothing and
// returns [ErrSessionTooLarge].
func (m *sessionManager) Save(w http.ResponseWriter, r *http.Request, p *Profile) (*Session, error) {
	if p == nil {
		return nil, errors.New("ssogate: nil profile")
	}
	now := m.now()
	iat := time.Unix(now.Unix(), 0)
	s := &Session{
		Profile:   m.trimProfile(p),
		IssuedAt:  iat,
		ExpiresAt: iat.Add(m.lifetime),
	}
	payload, err := appendSession(nil, s)
	if err != nil {
		return nil, err
	}
	// Hand back exactly what Load will see.
	if s, err = decodeSession(payload); err != nil {
		return nil, err
	}
	if m.store != nil {
		if err := m.saveToStore(w, r, payload); err != nil {
			return nil, err
		}
		return s, nil
	}
	value, err := m.sessionCodecs[0].Encode(m.cookieName, payload)
	if err != nil {
		// With NopEncoder and valid keys, securecookie fails only when the
		// value exceeds MaxLength.
		return nil, ErrSessionTooLarge
	}
	c := m.sessionCookie(value, int(m.lifetime/time.Second), now.Add(m.lifetime))
	if len(c.String()) > maxCookieBytes {
		return nil, ErrSessionTooLarge
	}
	http.SetCookie(w, c)
	return s, nil
}

// trimProfile returns the part of p that goes into a session.
func (m *sessionManager) trimProfile(p *Profile) Profile {
	q := *p
	q.RawAttributes = nil
	if !m.keepCustom {
		q.CustomAttributes = nil
	}
	return q
}

// saveToStore is Save for sessions kept in a [sessions.Store].
func (m *sessionManager) saveToStore(w http.ResponseWriter, r *http.Request, payload []byte) error {
	// The store writes into hw, so that nothing reaches w unless all is well.
	hw := &headerWriter{h: make(http.Header)}
	if old, err := m.store.New(r, m.cookieName); err == nil && old != nil && !old.IsNew {
		old.Options = m.storeOptions(-1)
		// Its deletion cookie is dropped: the new cookie replaces it.
		if err := m.store.Save(r, &headerWriter{h: make(http.Header)}, old); err != nil {
			return err
		}
	}
	ss := sessions.NewSession(m.store, m.cookieName)
	ss.Options = m.storeOptions(int(m.lifetime / time.Second))
	ss.IsNew = true
	ss.Values[storeValuesKey] = payload
	if err := m.store.Save(r, hw, ss); err != nil {
		return err
	}
	for _, sc := range hw.h.Values("Set-Cookie") {
		if len(sc) > maxCookieBytes {
			return ErrSessionTooLarge
		}
	}
	dst := w.Header()
	for k, vs := range hw.h {
		for _, v := range vs {
			dst.Add(k, v)
		}
	}
	return nil
}

// storeOptions returns the cookie options of a store session.
func (m *sessionManager) storeOptions(maxAge int) *sessions.Options {
	return &sessions.Options{
		Path:     m.path,
		Domain:   m.domain,
		MaxAge:   maxAge,
		Secure:   m.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// sessionCookie returns the session cookie with the given value. A maxAge
// below zero makes a cookie that deletes it.
func (m *sessionManager) sessionCookie(value string, maxAge int, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     m.cookieName,
		Value:    value,
		Path:     m.path,
		Domain:   m.domain,
		MaxAge:   maxAge,
		Expires:  expires,
		Secure:   m.secure,
		HttpOnly: true,
		// Lax, not Strict: the user arrives from WorkOS, or from a link in
		// another site, by a top-level GET and must be recognized.
		SameSite: http.SameSiteLaxMode,
	}
}

// Clear ends the request's session: it expires the session cookie and, with
// a server-side store, destroys the stored session.
func (m *sessionManager) Clear(w http.ResponseWriter, r *http.Request) error {
	if m.store != nil {
		ss, _ := m.store.New(r, m.cookieName)
		if ss == nil {
			ss = sessions.NewSession(m.store, m.cookieName)
		}
		ss.Options = m.storeOptions(-1)
		return m.store.Save(r, w, ss)
	}
	if value, ok := cookieValue(r, m.cookieName); ok && m.cache != nil {
		m.cache.remove(value)
	}
	http.SetCookie(w, m.sessionCookie("", -1, time.Unix(0, 0)))
	return nil
}

// headerWriter is an http.ResponseWriter that keeps only headers.
type headerWriter struct{ h http.Header }

func (hw *headerWriter) Header() http.Header         { return hw.h }
func (hw *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (hw *headerWriter) WriteHeader(int)             {}

// cookieValue returns the value of the first valid cookie named name in the
// request, as r.Cookie would, without allocating.
func cookieValue(r *http.Request, name string) (string, bool) {
	return findCookie(r, name, true)
}

// findCookie returns the value of the first cookie named name in the
// request; if validate is set, of the first whose value is valid.
func findCookie(r *http.Request, name string, validate bool) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		line = textproto.TrimString(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			part = textproto.TrimString(part)
			if part == "" {
				continue
			}
			n, v, _ := strings.Cut(part, "=")
			if textproto.TrimString(n) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if !validate || validCookieValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// validCookieValue reports whether every byte of v may appear in a cookie
// value, by net/http's rules.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		b := v[i]
		if b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// Login state ---------------------------------------------------------------

// loginState is what the callback needs to know about the login it ends. It
// travels in a sealed cookie of its own, one per login in progress.
type loginState struct {
	// State is the random state value sent to WorkOS (at least 128 bits).
	State string
	// Verifier is the PKCE code verifier.
	Verifier string
	// ReturnTo is the sanitized path to return to after sign-in.
	ReturnTo string
	// OrganizationID, ConnectionID and Provider are the selector the login
	// started with or resolved to.
	OrganizationID string
	ConnectionID   string
	Provider       OAuthProvider
	// LoginHint is the email the login was started for, if any.
	LoginHint string
	// CreatedAt is when the login started.
	CreatedAt time.Time
}

// flowID returns the id of the login flow with the given state: the first
// 12 hex digits of its SHA-256. It names the flow's cookie without revealing
// the state.
func flowID(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:flowIDLen/2])
}

// isStateCookieName reports whether name is prefix followed by a flow id.
func isStateCookieName(name, prefix string) bool {
	id, ok := strings.CutPrefix(name, prefix)
	if !ok || len(id) != flowIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// stateCookie returns the state cookie with the given name and value. A
// maxAge below zero makes a cookie that deletes it.
func (m *sessionManager) stateCookie(name, value string, maxAge int, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     m.statePath,
		Domain:   m.domain,
		MaxAge:   maxAge,
		Expires:  expires,
		Secure:   m.secure,
		HttpOnly: true,
		// Lax, not Strict: the callback is a top-level GET from WorkOS's
		// site, and a Strict cookie would not be sent with it.
		SameSite: http.SameSiteLaxMode,
	}
}

// expireState writes a cookie that deletes the state cookie named name.
func (m *sessionManager) expireState(w http.ResponseWriter, name string) {
	http.SetCookie(w, m.stateCookie(name, "", -1, time.Unix(0, 0)))
}

// SaveState seals st into a cookie of its own, named for its flow, so that
// logins started in several tabs at once can all finish. At most five login
// flows are kept: when a sixth starts, the oldest flow's cookie is expired.
//
// State cookies are scoped to the callback path, so /login cannot see them.
// A small index cookie (see [sessionManager.flowsName]) lists the flows in
// progress for the handlers that need to count or clear them.
func (m *sessionManager) SaveState(w http.ResponseWriter, r *http.Request, st *loginState) error {
	if st == nil || st.State == "" {
		return errors.New("ssogate: empty login state")
	}
	now := m.now()
	sealed := *st
	if sealed.CreatedAt.IsZero() {
		sealed.CreatedAt = now
	}
	id := flowID(st.State)
	name := m.statePrefix + id
	value, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &sealed))
	if err != nil {
		return errStateTooLarge
	}
	c := m.stateCookie(name, value, int(m.stateLifetime/time.Second), now.Add(m.stateLifetime))
	if len(c.String()) > maxCookieBytes {
		return errStateTooLarge
	}
	flows := m.flowsInProgress(r, now, id)
	for len(flows) >= maxStateCookies {
		m.expireState(w, m.statePrefix+flows[0].id)
		flows = flows[1:]
	}
	http.SetCookie(w, c)
	m.writeFlows(w, append(flows, loginFlow{id: id, created: now.Unix()}), now)
	return nil
}

// loginFlow is a login in progress, as listed in the flows index cookie.
type loginFlow struct {
	id      string // flowID of its state
	created int64  // Unix seconds; math.MinInt64 when unknown
}

// flowsName is the name of the index cookie of the flows in progress. It is
// scoped to "/" so that /login and /logout see it, and holds only flow ids
// and times: at most five entries of 24 bytes, and only while a login is in
// progress.
func (m *sessionManager) flowsName() string { return m.statePrefix + "flows" }

// flowsInProgress returns the login flows the browser holds, oldest first,
// other than skip: those listed in the index cookie and any state cookie the
// request carries, less the expired ones. The index is not signed: at worst
// a forged one makes ssogate expire some of that browser's own state cookies.
func (m *sessionManager) flowsInProgress(r *http.Request, now time.Time, skip string) []loginFlow {
	var flows []loginFlow
	add := func(f loginFlow) {
		if f.id == skip || slices.ContainsFunc(flows, func(g loginFlow) bool { return g.id == f.id }) {
			return
		}
		if f.created != math.MinInt64 && now.Sub(time.Unix(f.created, 0)) > m.stateLifetime {
			return
		}
		flows = append(flows, f)
	}
	if v, ok := cookieValue(r, m.flowsName()); ok {
		for entry := range strings.SplitSeq(v, ".") {
			id, ts, ok := strings.Cut(entry, "-")
			created, err := strconv.ParseInt(ts, 10, 64)
			if !ok || err != nil || !isStateCookieName(m.statePrefix+id, m.statePrefix) || len(flows) >= 2*maxStateCookies {
				continue
			}
			add(loginFlow{id: id, created: created})
		}
	}
	for _, c := range r.Cookies() {
		if !isStateCookieName(c.Name, m.statePrefix) {
			continue
		}
		f := loginFlow{id: strings.TrimPrefix(c.Name, m.statePrefix), created: math.MinInt64}
		if st, err := m.openState(c.Name, c.Value); err == nil {
			f.created = st.CreatedAt.Unix()
		}
		add(f)
	}
	slices.SortStableFunc(flows, func(a, b loginFlow) int { return cmp.Compare(a.created, b.created) })
	return flows
}

// writeFlows sets the index cookie to flows, or deletes it when empty.
func (m *sessionManager) writeFlows(w http.ResponseWriter, flows []loginFlow, now time.Time) {
	var b strings.Builder
	for i, f := range flows {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(f.id)
		b.WriteByte('-')
		b.WriteString(strconv.FormatInt(max(f.created, 0), 10))
	}
	c := m.stateCookie(m.flowsName(), b.String(), int(m.stateLifetime/time.Second), now.Add(m.stateLifetime))
	c.Path = "/"
	if len(flows) == 0 {
		c.Value, c.MaxAge, c.Expires = "", -1, time.Unix(0, 0)
	}
	http.SetCookie(w, c)
}

func (m *sessionManager) openState(name, value string) (*loginState, error) {
	var payload []byte
	if err := securecookie.DecodeMulti(name, value, &payload, m.stateCodecs...); err != nil {
		return nil, err
	}
	return decodeLoginState(payload)
}

// TakeState returns the login state sealed for state and deletes its cookie,
// whatever the outcome, so that a state can be used at most once. It returns
// [ErrNoState] if state is empty or the browser has no live cookie for it,
// and [ErrStateMismatch] if the cookie holds another state.
func (m *sessionManager) TakeState(w http.ResponseWriter, r *http.Request, state string) (*loginState, error) {
	if state == "" {
		return nil, ErrNoState
	}
	id := flowID(state)
	name := m.statePrefix + id
	m.expireState(w, name)
	if _, ok := cookieValue(r, m.flowsName()); ok {
		now := m.now()
		m.writeFlows(w, m.flowsInProgress(r, now, id), now)
	}
	value, ok := cookieValue(r, name)
	if !ok {
		return nil, ErrNoState
	}
	st, err := m.openState(name, value)
	if err != nil {
		return nil, ErrNoState
	}
	age := m.now().Sub(st.CreatedAt)
	// A state from the future is as suspect as a stale one; a minute
	// allows for clocks that differ between servers.
	if age > m.stateLifetime || age < -time.Minute {
		return nil, ErrNoState
	}
	if subtle.ConstantTimeCompare([]byte(st.State), []byte(state)) != 1 {
		return nil, ErrStateMismatch
	}
	return st, nil
}

// ClearStates expires the cookies of every login flow in progress and the
// index of them.
func (m *sessionManager) ClearStates(w http.ResponseWriter, r *http.Request) {
	for _, f := range m.flowsInProgress(r, m.now(), "") {
		m.expireState(w, m.statePrefix+f.id)
	}
	if _, ok := cookieValue(r, m.flowsName()); ok {
		m.writeFlows(w, nil, m.now())
	}
}

// Verified-session cache -----------------------------------------------------

const (
	// sessionCacheSize bounds the number of cached sessions.
	sessionCacheSize = 4096
	// sessionCacheShards spreads the cache over locks, so that parallel
	// requests for different users do not meet on one.
	sessionCacheShards = 16
	// evictionSample is how many entries a full shard looks at to find one
	// to evict.
	evictionSample = 4
)

// cacheResult is the outcome of a cache lookup.
type cacheResult int

const (
	cacheMiss    cacheResult = iota // unknown value: verify it
	cacheHit                        // verified and live
	cacheExpired                    // verified once, but expired since
)

// sessionCache maps session cookie values that verified to their decoded,
// immutable sessions, so that a request repeating a cookie skips the HMAC,
// the decryption and the decoding.
//
// It is sound because opening a cookie is a pure function of the value and
// the manager's keys, which never change, except for the expiry, which is
// checked on every hit. Only values that verified are inserted, so forged
// values cannot fill it. Lookups hash the value with a per-process random
// seed and then compare it in constant time, so that the response time says
// nothing about the cached values.
//
// It holds at most [sessionCacheSize] entries. When a shard is full, an
// insert samples a few of its entries (Go randomizes map iteration) and
// evicts the expired ones among them, or else the first one sampled: random
// replacement, which costs a single re-verification when it guesses wrong.
type sessionCache struct {
	seed   maphash.Seed
	shards [sessionCacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex // guards m
	m  map[uint64]cacheEntry

	_ [32]byte // keeps shards on separate cache lines
}

type cacheEntry struct {
	value    string
	sess     *Session
	deadline int64 // Unix second at which sess expires
}

func newSessionCache() *sessionCache {
	c := &sessionCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cacheEntry)
	}
	return c
}

// shard returns the shard for hash h.
func (c *sessionCache) shard(h uint64) *cacheShard {
	return &c.shards[h>>(64-4)] // top 4 bits: 16 shards
}

// get looks value up at Unix second now.
func (c *sessionCache) get(value string, now int64) (*Session, cacheResult) {
	h := maphash.String(c.seed, value)
	sh := c.shard(h)
	sh.mu.RLock()
	e, ok := sh.m[h]
	sh.mu.RUnlock()
	if !ok || !constantTimeEqual(e.value, value) {
		return nil, cacheMiss
	}
	if now >= e.deadline {
		sh.mu.Lock()
		if cur, ok := sh.m[h]; ok && cur.sess == e.sess {
			delete(sh.m, h)
		}
		sh.mu.Unlock()
		return nil, cacheExpired
	}
	return e.sess, cacheHit
}

// put caches s, which value verified to and which is live until deadline;
// now is the current Unix second.
func (c *sessionCache) put(value string, s *Session, deadline, now int64) {
	// The value may be a slice of a much longer Cookie header.
	value = strings.Clone(value)
	h := maphash.String(c.seed, value)
	sh := c.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[h]; !ok && len(sh.m) >= sessionCacheSize/sessionCacheShards {
		sh.evict(now)
	}
	sh.m[h] = cacheEntry{value: value, sess: s, deadline: deadline}
}

// evict makes room in a full shard at Unix second now. The caller holds sh.mu.
func (sh *cacheShard) evict(now int64) {
	var first uint64
	seen, evicted := 0, false
	for h, e := range sh.m {
		if seen == 0 {
			first = h
		}
		if e.deadline <= now {
			delete(sh.m, h)
			evicted = true
		}
		if seen++; seen == evictionSample {
			break
		}
	}
	if !evicted {
		delete(sh.m, first)
	}
}

// remove drops value from the cache.
func (c *sessionCache) remove(value string) {
	h := maphash.String(c.seed, value)
	sh := c.shard(h)
	sh.mu.Lock()
	if e, ok := sh.m[h]; ok && constantTimeEqual(e.value, value) {
		delete(sh.m, h)
	}
	sh.mu.Unlock()
}

// len returns the number of cached sessions.
func (c *sessionCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// constantTimeEqual reports whether a == b in time that depends only on
// their lengths. It is subtle.ConstantTimeCompare for strings, eight bytes
// at a time (the compiler merges the byte loads).
func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v uint64
	for len(a) >= 8 && len(b) >= 8 {
		v |= le64(a) ^ le64(b)
		a, b = a[8:], b[8:]
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		v |= uint64(a[i] ^ b[i])
	}
	return v == 0
}

// le64 returns the first eight bytes of s as a little-endian uint64.
func le64(s string) uint64 {
	_ = s[7] // one bounds check
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Payload encoding -----------------------------------------------------------

// The session payload, version 1, is:
//
//	version byte (1)
//	flags byte: bit 0 role present, bit 1 custom attributes present
//	id, idp_id, email, first_name, last_name, name, organization_id,
//	connection_id, connection_type: each a uvarint length and the bytes
//	role slug, if bit 0: uvarint length and bytes
//	roles: uvarint count, then each slug as uvarint length and bytes
//	groups: uvarint count, then each as uvarint length and bytes
//	issued at, expires at: Unix seconds as zigzag varints
//	custom attributes, if bit 1: uvarint length and a JSON object
//
// It is compact, needs no registration as gob does, and is quick to decode.
// It is only ever read after its MAC has been verified, but the decoder
// checks everything anyway.
const (
	sessionVersion    = 1
	loginStateVersion = 1

	flagRole   = 1 << 0
	flagCustom = 1 << 1

	// maxListLen bounds the number of roles and of groups, so that a
	// decoder never allocates for more entries than a payload could hold.
	maxListLen = 1 << 14
)

var errBadPayload = errors.New("ssogate: malformed payload")

// appendSession appends the encoding of s to b.
func appendSession(b []byte, s *Session) ([]byte, error) {
	p := &s.Profile
	if len(p.Roles) > maxListLen || len(p.Groups) > maxListLen {
		return nil, ErrSessionTooLarge
	}
	var custom []byte
	if len(p.CustomAttributes) > 0 {
		var err error
		if custom, err = json.Marshal(p.CustomAttributes); err != nil {
			return nil, err
		}
	}
	var flags byte
	if p.Role != nil {
		flags |= flagRole
	}
	if custom != nil {
		flags |= flagCustom
	}
	b = append(b, sessionVersion, flags)
	for _, f := range [...]string{p.ID, p.IdPID, p.Email, p.FirstName, p.LastName, p.Name,
		p.OrganizationID, p.ConnectionID, string(p.ConnectionType)} {
		b = appendString(b, f)
	}
	if p.Role != nil {
		b = appendString(b, p.Role.Slug)
	}
	b = appendUvarint(b, uint64(len(p.Roles)))
	for _, r := range p.Roles {
		b = appendString(b, r.Slug)
	}
	b = appendUvarint(b, uint64(len(p.Groups)))
	for _, g := range p.Groups {
		b = appendString(b, g)
	}
	b = appendVarint(b, s.IssuedAt.Unix())
	b = appendVarint(b, s.ExpiresAt.Unix())
	if custom != nil {
		b = appendString(b, string(custom))
	}
	return b, nil
}

// decodeSession decodes a session payload. It rejects unknown versions and
// flags, truncated data, overlong lengths and trailing bytes.
func decodeSession(b []byte) (*Session, error) {
	if len(b) < 2 || b[0] != sessionVersion || b[1]&^(flagRole|flagCustom) != 0 {
		return nil, errBadPayload
	}
	flags := b[1]
	// One string backs every field, and the fields are slices of it.
	d := decoder{s: string(b[2:])}
	s := new(Session)
	p := &s.Profile
	p.ID = d.string()
	p.IdPID = d.string()
	p.Email = d.string()
	p.FirstName = d.string()
	p.LastName = d.string()
	p.Name = d.string()
	p.OrganizationID = d.string()
	p.ConnectionID = d.string()
	p.ConnectionType = ConnectionType(d.string())
	if flags&flagRole != 0 {
		p.Role = &Role{Slug: d.string()}
	}
	if n := d.count(); n > 0 {
		p.Roles = make([]Role, n)
		for i := range p.Roles {
			p.Roles[i].Slug = d.string()
		}
	}
	if n := d.count(); n > 0 {
		p.Groups = make([]string, n)
		for i := range p.Groups {
			p.Groups[i] = d.string()
		}
	}
	s.IssuedAt = time.Unix(d.varint(), 0)
	s.ExpiresAt = time.Unix(d.varint(), 0)
	if flags&flagCustom != 0 {
		raw := d.string()
		if d.err == nil {
			if err := json.Unmarshal([]byte(raw), &p.CustomAttributes); err != nil || p.CustomAttributes == nil {
				return nil, errBadPayload
			}
		}
	}
	if d.err != nil || len(d.s) != 0 {
		return nil, errBadPayload
	}
	return s, nil
}

// appendLoginState appends the encoding of st to b: a version byte, the
// string fields as in a session payload, and CreatedAt in Unix nanoseconds
// as a zigzag varint.
func appendLoginState(b []byte, st *loginState) []byte {
	b = append(b, loginStateVersion)
	for _, f := range [...]string{st.State, st.Verifier, st.ReturnTo, st.OrganizationID,
		st.ConnectionID, string(st.Provider), st.LoginHint} {
		b = appendString(b, f)
	}
	return appendVarint(b, st.CreatedAt.UnixNano())
}

// decodeLoginState decodes a login state payload.
func decodeLoginState(b []byte) (*loginState, error) {
	if len(b) < 1 || b[0] != loginStateVersion {
		return nil, errBadPayload
	}
	d := decoder{s: string(b[1:])}
	st := &loginState{
		State:          d.string(),
		Verifier:       d.string(),
		ReturnTo:       d.string(),
		OrganizationID: d.string(),
		ConnectionID:   d.string(),
		Provider:       OAuthProvider(d.string()),
		LoginHint:      d.string(),
	}
	st.CreatedAt = time.Unix(0, d.varint())
	if d.err != nil || len(d.s) != 0 {
		return nil, errBadPayload
	}
	return st, nil
}

func appendUvarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func appendVarint(b []byte, x int64) []byte {
	return appendUvarint(b, uint64(x<<1)^uint64(x>>63))
}

func appendString(b []byte, s string) []byte {
	return append(appendUvarint(b, uint64(len(s))), s...)
}

// decoder reads a payload. After the first error every read returns a zero
// value and err stays set, so callers check err once at the end.
type decoder struct {
	s   string
	err error
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for i := 0; i < len(d.s) && d.err == nil; i++ {
		c := d.s[i]
		if i == 9 && c > 1 { // more than 64 bits
			break
		}
		if c < 0x80 {
			d.s = d.s[i+1:]
			return x | uint64(c)<<(7*i)
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	d.err = errBadPayload
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	return int64(ux>>1) ^ -int64(ux&1)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)) {
		d.err = errBadPayload
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

// count reads the length of a list. Every entry takes at least one byte, so
// a count above the bytes left is malformed and is refused before anything
// is allocated for it.
func (d *decoder) count() int {
	n := d.uvarint()
	if d.err != nil || n > maxListLen || n > uint64(len(d.s)) {
		d.err = errBadPayload
		return 0
	}
	return int(n)
}

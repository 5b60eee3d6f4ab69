package ssogate

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
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
	// ID names the session: 128 random bits as 26 characters of base32,
	// new at every sign-in. [RevokeSession] takes it; it is not a secret
	// (the sealed cookie is), but it is not for showing to other users.
	ID string
	// Profile is the user's identity as it was at sign-in.
	Profile Profile
	// IssuedAt is when the user signed in, to the millisecond.
	IssuedAt time.Time
	// AuthenticatedAt is, to the millisecond, when the identity provider
	// authenticated the user anew at this app's request: the time of this
	// sign-in if it asked for prompt=login (as [Middleware.RequireRecentLogin]
	// does), and zero otherwise. IssuedAt alone proves nothing of the
	// person at the browser: a sign-in without prompt=login may be
	// completed silently by the identity provider's own session.
	AuthenticatedAt time.Time
	// ExpiresAt is when the session ends, to the second.
	ExpiresAt time.Time
	// LastSeen is, to the second, when the session's cookie was last
	// written: at sign-in, and with [Config].IdleTimeout each time a
	// request renewed it.
	LastSeen time.Time

	// owner is the session manager that verified the session, so that a
	// gate trusts only the sessions of its own Middleware.
	owner *sessionManager
}

// sessionIDLen is the length of a [Session].ID.
const sessionIDLen = 26

const (
	// maxCookieBytes is the largest Set-Cookie (name, value and attributes)
	// that browsers are required to keep (RFC 6265 section 6.1).
	maxCookieBytes = 4096

	// maxStateCookies is how many login flows may be in progress at once in
	// one browser. More would crowd the Cookie header of every request.
	maxStateCookies = 5

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
	// Binding names the WorkOS environment (its client ID). It goes into
	// every key, so that cookies of another environment sealed with the
	// same secrets (an .env copied from staging) never open here.
	Binding string
	// Secrets seal the cookies, newest first; each is at least 32 bytes.
	// Cookies are sealed with the first and opened with any, so a new secret
	// can be put in front without signing anyone out; a cookie sealed with a
	// secret that has been removed is refused.
	Secrets [][]byte
	// NextSecrets open cookies but never seal them: a secret about to be
	// put first, known to every replica before any seals with it.
	NextSecrets [][]byte
	// CookieName is the name of the session cookie.
	CookieName string
	// StatePrefix begins the name of every login state cookie.
	StatePrefix string
	// Path is the session cookie's path; default "/".
	Path string
	// Domain is the cookies' domain; default none (host-only).
	Domain string
	// Secure marks the cookies Secure.
	Secure bool
	// Lifetime is how long a session lasts; at least one second.
	Lifetime time.Duration
	// IdleTimeout, if positive, ends a session unused for that long.
	IdleTimeout time.Duration
	// CacheSize bounds the verified-session cache; 0 means
	// DefaultSessionCacheSize, negative no cache.
	CacheSize int
	// Revocations are checked on every Load; nil means a set of its own.
	Revocations *revocationSet
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
	domain        string
	secure        bool
	lifetime      time.Duration // whole seconds
	idle          time.Duration // whole seconds; 0: no idle timeout
	renewAfter    int64         // seconds after LastSeen that a request renews the cookie
	stateLifetime time.Duration // whole seconds
	revocations   *revocationSet
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
	for _, s := range slices.Concat(cfg.Secrets, cfg.NextSecrets) {
		if len(s) < minSecretLen {
			return nil, &ConfigError{Field: "Secrets", Problem: "every secret must be at least 32 bytes"}
		}
	}
	if cfg.Path == "" {
		cfg.Path = "/"
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
	if cfg.IdleTimeout < 0 {
		return nil, &ConfigError{Field: "IdleTimeout", Problem: "must not be negative"}
	}
	if cfg.Revocations == nil {
		cfg.Revocations = newRevocationSet()
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
	if isStateCookieName(cfg.CookieName, cfg.StatePrefix) || isLegacyStateCookieName(cfg.CookieName, cfg.StatePrefix) {
		return nil, &ConfigError{Field: "StatePrefix", Problem: "must not match the session cookie name"}
	}
	if err := (&http.Cookie{Name: cfg.CookieName, Path: cfg.Path, Domain: cfg.Domain}).Valid(); err != nil {
		return nil, &ConfigError{Field: "CookieName", Problem: "with Path and Domain does not make a valid cookie"}
	}
	sample := cfg.StatePrefix + "0"
	if err := (&http.Cookie{Name: sample, Path: cfg.Path, Domain: cfg.Domain}).Valid(); err != nil {
		return nil, &ConfigError{Field: "StatePrefix", Problem: "with Path and Domain does not make a valid cookie"}
	}

	m := &sessionManager{
		cookieName:    cfg.CookieName,
		statePrefix:   cfg.StatePrefix,
		path:          cfg.Path,
		domain:        cfg.Domain,
		secure:        cfg.Secure,
		lifetime:      cfg.Lifetime.Truncate(time.Second),
		idle:          cfg.IdleTimeout.Truncate(time.Second),
		stateLifetime: cfg.StateLifetime.Truncate(time.Second),
		revocations:   cfg.Revocations,
		store:         cfg.Store,
		keepCustom:    cfg.KeepCustomAttributes,
		now:           cfg.Now,
	}
	// The first seals; all, the next ones last, open.
	secrets := slices.Concat(cfg.Secrets, cfg.NextSecrets)
	var err error
	m.sessionCodecs, err = deriveCodecs(secrets, cfg.Binding, infoSessionHMAC, infoSessionAES, m.lifetime)
	if err != nil {
		return nil, err
	}
	m.stateCodecs, err = deriveCodecs(secrets, cfg.Binding, infoStateHMAC, infoStateAES, m.stateLifetime)
	if err != nil {
		return nil, err
	}
	// A tenth of the idle window: the timeout then takes effect between 90%
	// and 100% of it after the last request, and an active user's cookie is
	// written ten times an idle window, not on every request.
	m.renewAfter = int64(m.idle/time.Second) / 10
	if m.store == nil {
		switch {
		case cfg.CacheSize == 0:
			m.cache = newSessionCache(DefaultSessionCacheSize)
		case cfg.CacheSize > 0:
			m.cache = newSessionCache(cfg.CacheSize)
		}
	}
	return m, nil
}

// deriveCodecs derives an HMAC key and an AES-256 key from each secret with
// HKDF-SHA256 and returns one codec per secret, in the same order. The
// binding (the WorkOS client ID) is part of the HKDF info of both keys, so
// that the same secret yields unrelated keys in another environment.
//
// securecookie MACs "name|timestamp|ciphertext", so a value sealed for one
// cookie name does not open under another, and refuses values whose
// timestamp is older than maxAge.
func deriveCodecs(secrets [][]byte, binding, hmacInfo, aesInfo string, maxAge time.Duration) ([]securecookie.Codec, error) {
	codecs := make([]securecookie.Codec, 0, len(secrets))
	// A NUL cannot occur in a client ID, so no binding can be confused
	// with another purpose's info string.
	hmacInfo += "\x00" + binding
	aesInfo += "\x00" + binding
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

// Load returns the session of the request. A request without a valid
// session gets an error matching [ErrNoSession] whatever the reason (its
// [refusalReason] tells them apart, for observers only), or
// [ErrSessionRevoked] when a revocation matches it, with the revoked
// session. While the revocations cannot be vouched for, the error is
// [ErrRevocationsUnavailable] and the session is returned all the same, so
// that a sign-out can still revoke it.
//
// The returned Session may be shared with other requests that carry the
// same cookie, and must not be modified.
func (m *sessionManager) Load(r *http.Request) (*Session, error) {
	return m.LoadAt(r, m.now())
}

// LoadAt is Load at time t, for a caller that needs the time too.
func (m *sessionManager) LoadAt(r *http.Request, t time.Time) (*Session, error) {
	if m.store != nil {
		return m.loadFromStore(r, t)
	}
	now := t.Unix()
	// The first cookie of the name is taken as it is, without checking its
	// bytes, which costs more than the rest of a cache hit: the cache holds
	// only values that verified, and a value that verifies is made of
	// base64 only, so either way it is the cookie r.Cookie would return.
	// Only when it does not verify may a later cookie of the name be the
	// one r.Cookie returns, because r.Cookie skips malformed values.
	value, ok := findCookie(r, m.cookieName, false)
	if !ok {
		return nil, errNoCookie
	}
	var h uint64
	if m.cache != nil {
		var e *cacheEntry
		var res cacheResult
		switch e, h, res = m.cache.get(value, now); res {
		case cacheHit:
			return m.admitCached(e, value)
		case cacheExpired:
			return nil, m.expired(e.sess)
		}
	}
	blk, err := m.openBlock(value)
	if err != nil {
		valid, ok := cookieValue(r, m.cookieName)
		if !ok || valid == value {
			return nil, errInvalidCookie
		}
		if value = valid; m.cache != nil {
			h = m.cache.hash(value)
		}
		if blk, err = m.openBlock(value); err != nil {
			return nil, errInvalidCookie
		}
	}
	s := &blk.s
	if !m.keepCustom {
		s.Profile.CustomAttributes = nil
	}
	s.owner = m
	deadline := m.deadline(s)
	if now >= deadline {
		return nil, m.expired(s)
	}
	// The epoch is read before the check, so that a revocation made during
	// it makes the cached entry checked again.
	epoch := m.revocations.epoch.Load()
	if err := m.revocations.check(s); err != nil {
		return m.refused(s, err, "")
	}
	if m.cache != nil {
		m.cache.put(&blk.entry, h, deadline, now, epoch)
	}
	return s, nil
}

// openBlock verifies and decodes a session cookie's value, with a copy of
// the value for the cache if there is one.
func (m *sessionManager) openBlock(value string) (*sessionBlock, error) {
	if value == "" {
		return nil, ErrNoSession
	}
	var payload []byte
	if err := securecookie.DecodeMulti(m.cookieName, value, &payload, m.sessionCodecs...); err != nil {
		return nil, ErrNoSession
	}
	if m.cache == nil {
		value = ""
	}
	return decodeSessionBlock(payload, value)
}

// admitCached returns the session of a live cache entry for value, unless a
// revocation made since the entry was last checked matches it. While no
// revocation is added, that is one atomic load.
func (m *sessionManager) admitCached(e *cacheEntry, value string) (*Session, error) {
	epoch := m.revocations.epoch.Load()
	if e.checked.Load() == epoch {
		return e.sess, nil
	}
	if err := m.revocations.check(e.sess); err != nil {
		return m.refused(e.sess, err, value)
	}
	e.checked.Store(epoch)
	return e.sess, nil
}

// refused answers a session that the revocation check refused with err:
// a revoked one leaves the cache (value, if not empty, is its cookie). The
// session is returned with err, for a sign-out to revoke and an observer
// to name; it must not be served.
func (m *sessionManager) refused(s *Session, err error, value string) (*Session, error) {
	if !errors.Is(err, ErrRevocationsUnavailable) && value != "" && m.cache != nil {
		m.cache.remove(value)
	}
	return s, err
}

// expired returns the error of a session past its deadline: idle when the
// idle timeout came first, and otherwise expired.
func (m *sessionManager) expired(s *Session) error {
	if m.idle > 0 && m.idleEnd(s) < m.lifetimeEnd(s) {
		return errIdle
	}
	return errExpired
}

// sessionRefusal is an [ErrNoSession] that says why, for observers. The
// client sees the same answer whatever the reason.
type sessionRefusal struct{ reason Reason }

func (e *sessionRefusal) Error() string        { return ErrNoSession.Error() + ": " + string(e.reason) }
func (e *sessionRefusal) Is(target error) bool { return target == ErrNoSession }

var (
	errNoCookie      error = &sessionRefusal{ReasonNoSession}
	errInvalidCookie error = &sessionRefusal{ReasonInvalidSession}
	errExpired       error = &sessionRefusal{ReasonExpired}
	errIdle          error = &sessionRefusal{ReasonIdle}
)

// refusalReason returns why Load refused a session with err.
func refusalReason(err error) Reason {
	var sr *sessionRefusal
	switch {
	case errors.As(err, &sr):
		return sr.reason
	case errors.Is(err, ErrSessionRevoked):
		return ReasonRevoked
	case errors.Is(err, ErrRevocationsUnavailable):
		return ReasonUnavailable
	}
	return ReasonInvalidSession
}

// deadline returns the Unix second at which s stops being valid: its own
// expiry, sooner if the configured lifetime has been shortened since it
// was issued, and sooner still when it has been idle for IdleTimeout.
func (m *sessionManager) deadline(s *Session) int64 {
	if m.idle > 0 {
		return min(m.lifetimeEnd(s), m.idleEnd(s))
	}
	return m.lifetimeEnd(s)
}

// lifetimeEnd is the Unix second at which s expires, however active.
func (m *sessionManager) lifetimeEnd(s *Session) int64 {
	return min(s.ExpiresAt.Unix(), s.IssuedAt.Unix()+int64(m.lifetime/time.Second))
}

// idleEnd is the Unix second at which s times out unless used again.
func (m *sessionManager) idleEnd(s *Session) int64 {
	return s.LastSeen.Unix() + int64(m.idle/time.Second)
}

// Renew writes s again with LastSeen set to now, when an idle timeout is
// configured and a tenth of it has passed since s was last written, so that
// an active user is not timed out while gated requests seldom write a
// cookie. It returns the session the request carries from now on. A renewal
// that fails leaves the request's session as it was.
func (m *sessionManager) Renew(w http.ResponseWriter, r *http.Request, s *Session, now time.Time) *Session {
	if m.idle == 0 || now.Unix()-s.LastSeen.Unix() < m.renewAfter {
		return s
	}
	renewed := *s
	renewed.LastSeen = time.Unix(now.Unix(), 0)
	if err := m.write(w, r, &renewed, now, false); err != nil {
		return s
	}
	return &renewed
}

// Save starts a brand-new session for p, valid from now for the configured
// lifetime, and returns it. It never reuses the request's session: with a
// server-side store the old session is destroyed and a new id issued, so an
// id planted in the browser before sign-in (session fixation) is worth
// nothing after it.
//
// reauthenticated says that the sign-in asked the identity provider to
// authenticate the user anew (prompt=login): the session's AuthenticatedAt
// is then its IssuedAt.
//
// If the session cookie would exceed 4096 bytes, Save writes nothing and
// returns [ErrSessionTooLarge].
func (m *sessionManager) Save(w http.ResponseWriter, r *http.Request, p *Profile, reauthenticated bool) (*Session, error) {
	if p == nil {
		return nil, errors.New("ssogate: nil profile")
	}
	now := m.now()
	iat := now.Truncate(time.Millisecond)
	s := &Session{
		ID:        rand.Text(),
		Profile:   m.trimProfile(p),
		IssuedAt:  iat,
		ExpiresAt: time.Unix(iat.Unix(), 0).Add(m.lifetime),
		LastSeen:  time.Unix(iat.Unix(), 0),
	}
	if reauthenticated {
		s.AuthenticatedAt = iat
	}
	payload, err := appendSession(nil, s)
	if err != nil {
		return nil, err
	}
	// Hand back exactly what Load will see.
	if s, err = decodeSession(payload); err != nil {
		return nil, err
	}
	s.owner = m
	if err := m.write(w, r, s, now, true); err != nil {
		return nil, err
	}
	return s, nil
}

// write seals s into the session cookie, or into the store. A fresh
// session replaces the request's stored one, if any, with a new store id;
// a renewed one keeps it.
func (m *sessionManager) write(w http.ResponseWriter, r *http.Request, s *Session, now time.Time, fresh bool) error {
	payload, err := appendSession(nil, s)
	if err != nil {
		return err
	}
	// The cookie lives as long as the session has left.
	left := s.ExpiresAt.Sub(now).Truncate(time.Second)
	if m.store != nil {
		if fresh {
			return m.saveToStore(w, r, payload, left)
		}
		return m.updateStore(w, r, payload, left)
	}
	value, err := m.sessionCodecs[0].Encode(m.cookieName, payload)
	if err != nil {
		// With NopEncoder and valid keys, securecookie fails only when the
		// value exceeds MaxLength.
		return ErrSessionTooLarge
	}
	c := m.sessionCookie(value, int(left/time.Second), now.Add(left))
	if len(c.String()) > maxCookieBytes {
		return ErrSessionTooLarge
	}
	http.SetCookie(w, c)
	return nil
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

// cookieValue returns the value of the first valid cookie named name in the
// request, as r.Cookie would, without allocating.
func cookieValue(r *http.Request, name string) (string, bool) {
	return findCookie(r, name, true)
}

// findCookie returns the value of the first cookie named name in the
// request; if validate is set, of the first whose value is valid.
func findCookie(r *http.Request, name string, validate bool) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			part := line
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				line = ""
			}
			// As net/http reads it: "name=value", each trimmed.
			part = textproto.TrimString(part)
			if !strings.HasPrefix(part, name) {
				continue
			}
			v, ok := strings.CutPrefix(textproto.TrimString(part[len(name):]), "=")
			if !ok && v != "" { // a bare "name" is a cookie with no value
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

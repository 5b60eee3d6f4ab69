package ssogate

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

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
	// ForceLogin records that the login asked the identity provider to
	// authenticate the user anew (prompt=login), which is what satisfies
	// [Middleware.RequireRecentLogin].
	ForceLogin bool
	// Unverified records that OrganizationID or ConnectionID came from
	// the request and WorkOS could not be asked about them (the lookup
	// failed): WorkOS's authorization endpoint judges them, but observers
	// are not told them, since anyone can make them up.
	Unverified bool
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
//
// State cookies are scoped to the whole site, like the session cookie, and
// are named "__Host-..." whenever the session cookie could be: a browser
// accepts such a cookie only from this very host, over HTTPS, with Path=/
// and no Domain. A hostile sibling subdomain can therefore not plant the
// state cookie of a flow it started itself, then send the victim to the
// callback with its own code: login CSRF without an identity provider.
// The cost is that the state cookies of logins in progress (about 350
// bytes each, at most five, for at most ten minutes) travel with every
// request to the site, not only with the callback.
func (m *sessionManager) stateCookie(name, value string, maxAge int, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     m.path,
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
	return nil
}

// loginFlow is a login in progress, as its state cookie tells.
type loginFlow struct {
	id      string // flowID of its state
	created int64  // Unix seconds; math.MinInt64 when unknown
}

// flowsInProgress returns the login flows whose state cookies the request
// carries, other than skip, oldest first, less the expired ones. A cookie
// that does not open counts as the oldest, so that it is the first to go.
func (m *sessionManager) flowsInProgress(r *http.Request, now time.Time, skip string) []loginFlow {
	var flows []loginFlow
	for _, c := range r.Cookies() {
		if !isStateCookieName(c.Name, m.statePrefix) {
			continue
		}
		f := loginFlow{id: strings.TrimPrefix(c.Name, m.statePrefix), created: math.MinInt64}
		if f.id == skip || slices.ContainsFunc(flows, func(g loginFlow) bool { return g.id == f.id }) {
			continue
		}
		if st, err := m.openState(c.Name, c.Value); err == nil {
			if now.Sub(st.CreatedAt) > m.stateLifetime {
				continue
			}
			f.created = st.CreatedAt.Unix()
		}
		flows = append(flows, f)
	}
	slices.SortStableFunc(flows, func(a, b loginFlow) int { return cmp.Compare(a.created, b.created) })
	return flows
}

func (m *sessionManager) openState(name, value string) (*loginState, error) {
	var payload []byte
	if err := securecookie.DecodeMulti(name, value, &payload, m.stateCodecs...); err != nil {
		return nil, err
	}
	return decodeLoginState(payload)
}

// TakeState returns the login state sealed for state and deletes its cookie,
// whatever the outcome, so that a browser that follows Set-Cookie can use
// a state at most once. (One that does not is stopped by the callback's
// record of spent states.) It returns [ErrNoState] if state is empty or the
// browser has no live cookie for it, and [ErrStateMismatch] if the cookie
// holds another state.
func (m *sessionManager) TakeState(w http.ResponseWriter, r *http.Request, state string) (*loginState, error) {
	if state == "" {
		return nil, ErrNoState
	}
	name := m.statePrefix + flowID(state)
	m.expireState(w, name)
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

// ClearStates expires the cookies of every login flow in progress.
func (m *sessionManager) ClearStates(w http.ResponseWriter, r *http.Request) {
	var done []string
	for _, c := range r.Cookies() {
		if isStateCookieName(c.Name, m.statePrefix) && !slices.Contains(done, c.Name) {
			m.expireState(w, c.Name)
			done = append(done, c.Name)
		}
	}
}

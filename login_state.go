package ssogate

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/ssogate/ssogate/workos"
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
	Provider       workos.OAuthProvider
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

// A browser holds at most maxStateCookies state cookies, in fixed slots
// named {StatePrefix}0 to {StatePrefix}4, whoever started its logins and
// however many at once: a new login takes a free slot, or the oldest
// flow's. The slot's digit begins the state sent to WorkOS, so that the
// callback opens the one cookie its state names.

// stateSlot returns the slot of state, or -1 if it names none.
func stateSlot(state string) int {
	if state == "" || state[0] < '0' || state[0] >= '0'+maxStateCookies {
		return -1
	}
	return int(state[0] - '0')
}

// isStateCookieName reports whether name is prefix followed by a slot.
func isStateCookieName(name, prefix string) bool {
	slot, ok := strings.CutPrefix(name, prefix)
	return ok && len(slot) == 1 && stateSlot(slot) >= 0
}

// isLegacyStateCookieName reports whether name is a state cookie of the
// previous naming, prefix followed by a flow id of 12 hex digits: they
// are cleared as logins start and end.
func isLegacyStateCookieName(name, prefix string) bool {
	id, ok := strings.CutPrefix(name, prefix)
	if !ok || len(id) != 12 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newStateFor returns a fresh login state in the slot that a login started
// by r takes: the first the browser holds no live login in, or else the
// oldest login's. It opens at most maxStateCookies cookies, the first of
// each slot's name, whatever else the request carries.
func (m *sessionManager) newStateFor(r *http.Request) string {
	now := m.now()
	slot, oldest := 0, time.Time{}
	for i := range maxStateCookies {
		name := m.statePrefix + strconv.Itoa(i)
		value, ok := cookieValue(r, name)
		if !ok {
			slot = i
			break
		}
		st, err := m.openState(name, value)
		if err != nil || now.Sub(st.CreatedAt) > m.stateLifetime {
			slot = i
			break
		}
		if i == 0 || st.CreatedAt.Before(oldest) {
			slot, oldest = i, st.CreatedAt
		}
	}
	return strconv.Itoa(slot) + newState()
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

// SaveState seals st into the cookie of its slot (see
// [sessionManager.newStateFor]), so that logins started in several tabs at
// once can all finish, up to maxStateCookies of them.
func (m *sessionManager) SaveState(w http.ResponseWriter, r *http.Request, st *loginState) error {
	if st == nil || stateSlot(st.State) < 0 {
		return errors.New("ssogate: login state without a slot")
	}
	now := m.now()
	sealed := *st
	if sealed.CreatedAt.IsZero() {
		sealed.CreatedAt = now
	}
	name := m.statePrefix + st.State[:1]
	value, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &sealed))
	if err != nil {
		return errStateTooLarge
	}
	c := m.stateCookie(name, value, int(m.stateLifetime/time.Second), now.Add(m.stateLifetime))
	if len(c.String()) > maxCookieBytes {
		return errStateTooLarge
	}
	m.clearLegacyStates(w, r)
	http.SetCookie(w, c)
	return nil
}

// clearLegacyStates expires the state cookies of the previous naming that
// r carries, the first maxStateCookies of them.
func (m *sessionManager) clearLegacyStates(w http.ResponseWriter, r *http.Request) {
	n := 0
	for _, c := range r.Cookies() {
		if n < maxStateCookies && isLegacyStateCookieName(c.Name, m.statePrefix) {
			m.expireState(w, c.Name)
			n++
		}
	}
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
	if stateSlot(state) < 0 {
		return nil, ErrNoState
	}
	name := m.statePrefix + state[:1]
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
	for i := range maxStateCookies {
		name := m.statePrefix + strconv.Itoa(i)
		if _, ok := findCookie(r, name, false); ok {
			m.expireState(w, name)
		}
	}
	m.clearLegacyStates(w, r)
}

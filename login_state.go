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
	"strconv"
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

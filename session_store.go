package ssogate

import (
	"net/http"
	"time"

	"github.com/gorilla/sessions"
)

// loadFromStore is Load for sessions kept in a [sessions.Store].
func (m *sessionManager) loadFromStore(r *http.Request, t time.Time) (*Session, error) {
	// Store.New, not Store.Get: Get caches the session in a registry on the
	// request, and Save must never see an old session again.
	ss, err := m.store.New(r, m.cookieName)
	payload, ok := []byte(nil), false
	if err == nil && ss != nil {
		payload, ok = ss.Values[storeValuesKey].([]byte)
	}
	if !ok {
		if _, err := r.Cookie(m.cookieName); err != nil {
			return nil, errNoCookie
		}
		return nil, errInvalidCookie
	}
	s, err := decodeSession(payload)
	if err != nil {
		return nil, errInvalidCookie
	}
	if !m.keepCustom {
		s.Profile.CustomAttributes = nil
	}
	s.owner = m
	// The store's own expiry may be longer than ours, or absent: the
	// payload's is the one that counts.
	if t.Unix() >= m.deadline(s) {
		return nil, m.expired(s)
	}
	if err := m.revocations.check(s); err != nil {
		return m.refused(s, err, "")
	}
	return s, nil
}

// saveToStore is Save for sessions kept in a [sessions.Store].
func (m *sessionManager) saveToStore(w http.ResponseWriter, r *http.Request, payload []byte, left time.Duration) error {
	if old, err := m.store.New(r, m.cookieName); err == nil && old != nil && !old.IsNew {
		old.Options = m.storeOptions(-1)
		// Its deletion cookie is dropped: the new cookie replaces it.
		if err := m.store.Save(r, &headerWriter{h: make(http.Header)}, old); err != nil {
			return err
		}
	}
	ss := sessions.NewSession(m.store, m.cookieName)
	ss.Options = m.storeOptions(int(left / time.Second))
	ss.IsNew = true
	ss.Values[storeValuesKey] = payload
	return m.storeSave(w, r, ss)
}

// updateStore replaces the payload of the request's stored session.
func (m *sessionManager) updateStore(w http.ResponseWriter, r *http.Request, payload []byte, left time.Duration) error {
	ss, err := m.store.New(r, m.cookieName)
	if err != nil || ss == nil || ss.IsNew {
		return ErrNoSession
	}
	ss.Options = m.storeOptions(int(left / time.Second))
	ss.Values[storeValuesKey] = payload
	return m.storeSave(w, r, ss)
}

// storeSave saves ss and copies the headers the store wrote to w, only if
// all went well and every cookie fits.
func (m *sessionManager) storeSave(w http.ResponseWriter, r *http.Request, ss *sessions.Session) error {
	// The store writes into hw, so that nothing reaches w unless all is well.
	hw := &headerWriter{h: make(http.Header)}
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

// headerWriter is an http.ResponseWriter that keeps only headers.
type headerWriter struct{ h http.Header }

func (hw *headerWriter) Header() http.Header         { return hw.h }
func (hw *headerWriter) Write(b []byte) (int, error) { return len(b), nil }
func (hw *headerWriter) WriteHeader(int)             {}

package ssogate

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// Logout ends the session: it clears every cookie ssogate set and redirects
// (303) to [Config].AfterLogoutPath, or to the identity provider's logout
// when [Config].LogoutIdP is set and the connection supports it. If the
// [Backplane] does not take the sign-out within a second (Redis down), the
// session still ends on this replica and in the browser, but Logout
// answers 202 with a page that says the other replicas may not know yet,
// and a link on to the same place.
//
// Sign-out must not be something another site can do to a user, so Logout
// acts on a POST that passes cross-origin protection, or on a GET that the
// browser marks as coming from this site (Sec-Fetch-Site: same-origin), such
// as a plain link. Any other request (a cross-site form, link or image, a
// prefetch, a GET from a browser without Fetch Metadata) gets a page with a
// sign-out button.
func (m *Middleware) Logout(w http.ResponseWriter, r *http.Request) {
	r = m.withRequestID(r)
	noStore(w)
	switch r.Method {
	case http.MethodPost:
		if crossOrigin.Check(r) != nil {
			// Another site's form (a portal's "sign out everywhere", or an
			// attacker's): the user confirms with a same-origin step.
			writePage(w, http.StatusOK, logoutPage, struct{ Action, Home string }{m.cfg.LogoutPath, m.cfg.AfterLoginPath})
			return
		}
	case http.MethodGet, http.MethodHead:
		if r.Method == http.MethodHead || !sameOriginNavigation(r) || isPrefetch(r) {
			writePage(w, http.StatusOK, logoutPage, struct{ Action, Home string }{m.cfg.LogoutPath, m.cfg.AfterLoginPath})
			return
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		m.fail(w, r, &HTTPError{Status: http.StatusMethodNotAllowed, Message: "Use POST to sign out."})
		return
	}

	s, err := m.sessions.Load(r)
	if err != nil && !errors.Is(err, ErrRevocationsUnavailable) {
		s = nil
	}
	if err := m.sessions.Clear(w, r); err != nil {
		m.log.Error("ssogate: clearing the session failed", "err", err)
	}
	m.sessions.ClearStates(w, r)
	shared := true
	if s != nil {
		// A copy of the cookie must stop working too, on every replica.
		now := m.now()
		rev := Revocation{Kind: SessionRevocation, ID: s.ID, At: now, Expires: s.ExpiresAt}
		if m.signOuts.tooMany(s.Profile.ID, now, m.cfg.SessionLifetime) {
			// An account that signs in and out at will must not grow every
			// replica's memory: past maxSignOutsPerUser, sign the user out
			// everywhere instead, which is one record however often.
			rev = Revocation{Kind: UserRevocation, ID: s.Profile.ID, At: now, Expires: now.Add(MaxSessionLifetime)}
		}
		ctx, cancel := context.WithTimeout(r.Context(), logoutShareTimeout)
		err := m.publish(ctx, Update{Revocations: []Revocation{rev}})
		cancel()
		if err != nil {
			shared = false
			m.log.Warn("ssogate: sign-out not yet shared with the other replicas", "profile_id", s.Profile.ID, "err", err)
		}
	}

	target := m.cfg.AfterLogoutPath
	if m.cfg.LogoutIdP && s != nil && supportsSSOLogout(s.Profile.ConnectionType) {
		ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
		defer cancel()
		la, err := m.provider.AuthorizeLogout(withWorkOS(ctx, m.obs), s.Profile.ID)
		switch {
		case err != nil:
			m.log.Warn("ssogate: identity provider logout refused; signed out locally", "profile_id", s.Profile.ID, "err", err)
		case !absoluteHTTPURL(la.LogoutURL):
			m.log.Warn("ssogate: identity provider logout returned an invalid URL; signed out locally", "profile_id", s.Profile.ID)
		default:
			target = la.LogoutURL
		}
	}
	if shared {
		http.Redirect(w, r, target, http.StatusSeeOther)
	} else {
		// The browser is signed out, and so is this replica; the other
		// replicas learn of it only once the backplane takes it, which a
		// restart of this one would prevent. The page says so rather
		// than claim a sign-out that may not hold everywhere.
		writePage(w, http.StatusAccepted, logoutPendingPage, struct{ Next string }{target})
	}
	if s != nil {
		m.auditSignOut(r, s, shared)
		if f := m.obs.SignedOut; f != nil {
			f(r.Context(), SignOutInfo{
				ProfileID: s.Profile.ID, OrganizationID: s.Profile.OrganizationID, ConnectionID: s.Profile.ConnectionID,
				Shared: shared, IdPLogout: target != m.cfg.AfterLogoutPath,
			})
		}
	}
}

// logoutShareTimeout bounds how long a sign-out waits for the backplane to
// store the session's revocation; it holds on this replica at once, and a
// backplane that keeps trying shares it later.
const logoutShareTimeout = time.Second

// crossOrigin rejects cross-site POSTs using Fetch Metadata and Origin.
var crossOrigin = http.NewCrossOriginProtection()

// supportsSSOLogout reports whether WorkOS can end the identity provider's
// session for a connection type: only OIDC connections support it.
func supportsSSOLogout(t workos.ConnectionType) bool {
	return strings.HasSuffix(string(t), "OIDC")
}

// sameOriginNavigation reports whether r is the browser following a link of
// this site to a new page. A same-origin image, frame, script or fetch (such
// as markup a user managed to post on the site) is not one: it must not sign
// anyone out.
func sameOriginNavigation(r *http.Request) bool {
	h := r.Header
	dest := h.Get("Sec-Fetch-Dest")
	return h.Get("Sec-Fetch-Site") == "same-origin" && h.Get("Sec-Fetch-Mode") == "navigate" &&
		(dest == "" || dest == "document")
}

func isPrefetch(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Sec-Purpose"), "prefetch") ||
		strings.Contains(r.Header.Get("Purpose"), "prefetch")
}

// absoluteHTTPURL reports whether s is an absolute http or https URL with
// a host: what an identity provider logout may redirect to.
func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

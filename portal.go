package ssogate

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/ssogate/ssogate/workos"
)

// portalLinker is a Provider that makes Admin Portal links, as
// [*workos.Client] does.
type portalLinker interface {
	GeneratePortalLink(ctx context.Context, opts workos.PortalLinkOptions) (string, error)
}

// AdminPortalHandler returns a handler that sends a signed-in user to
// WorkOS's Admin Portal for their own organization, where its IT admin
// sets up what opts.Intent names: SSO ([workos.PortalSSO], the default),
// Directory Sync or domain verification. Each request generates a fresh
// link for the organization of the session, never one named by the
// request, and answers 302 to it, with Cache-Control: no-store; the link,
// a bearer capability good for five minutes, is neither logged nor
// cached. Each is an audit record (event admin_portal).
//
// Compose it with the gate for the organization's admins: the role of the
// user's own organization, which is the one the portal opens for.
//
//	mux.Handle("GET /admin/sso/setup", gate.RequireRole(ssogate.AnyOrganization, "admin")(gate.AdminPortalHandler(workos.PortalLinkOptions{Intent: workos.PortalSSO})))
//
// A request without a session is treated as by [Middleware.RequireSSO];
// one from another site (a link on another page, a form it posts) gets
// 403 without a WorkOS call, so no page can make a signed-in admin's
// browser spend the app's rate limit; a user of no organization (an OAuth
// sign-in) gets 403. opts.SuccessURL and opts.ReturnURL are passed on.
// It panics with a [*ConfigError] when opts names an organization or an
// unknown intent, or when the Provider makes no portal links.
func (m *Middleware) AdminPortalHandler(opts workos.PortalLinkOptions) http.Handler {
	const field = "AdminPortalHandler"
	linker, ok := m.provider.(portalLinker)
	switch {
	case opts.Organization != "":
		panic(&ConfigError{Field: field, Problem: "the organization is the session's: leave PortalLinkOptions.Organization empty"})
	case opts.Intent != "" && !opts.Intent.Known():
		panic(&ConfigError{Field: field, Problem: "unknown intent"})
	case !ok:
		panic(&ConfigError{Field: field, Problem: "the Provider makes no Admin Portal links (a *workos.Client does)"})
	}
	if opts.Intent == "" {
		opts.Intent = workos.PortalSSO
	}
	portal := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFromContext(r.Context())
		p := &s.Profile
		if p.OrganizationID == "" {
			m.fail(w, r, &HTTPError{Status: http.StatusForbidden, Message: "Your account belongs to no organization, so there is nothing to set up.", Reason: ReasonForbidden})
			return
		}
		o := opts
		o.Organization = p.OrganizationID
		ctx, cancel := context.WithTimeout(r.Context(), m.cfg.ExchangeTimeout)
		defer cancel()
		link, err := linker.GeneratePortalLink(withWorkOS(ctx, m.obs), o)
		if err == nil && !portalURL(link) {
			err = errors.New("ssogate: WorkOS answered a portal link that is not an https URL")
		}
		if err != nil {
			status, msg := http.StatusBadGateway, "The setup page is unavailable right now. Please try again in a minute."
			if errors.Is(err, workos.ErrNotFound) {
				status, msg = http.StatusNotFound, "Your organization is not set up with the sign-in service."
			}
			m.fail(w, r, &HTTPError{Status: status, Message: msg, Err: err, Reason: ReasonWorkOSFailed})
			return
		}
		m.auditPortal(r, p, o.Intent)
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, link, http.StatusFound)
	})
	gated := m.RequireSSO(portal)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			m.fail(w, r, &HTTPError{Status: http.StatusMethodNotAllowed, Message: "The setup page takes GET only.", Reason: ReasonBadRequest})
			return
		}
		if crossSite(r) {
			m.fail(w, r, &HTTPError{Status: http.StatusForbidden, Message: "Open the setup from this site's own admin page.", Reason: ReasonForbidden})
			return
		}
		if _, ok := SessionFromContext(r.Context()); ok {
			portal.ServeHTTP(w, r)
			return
		}
		gated.ServeHTTP(w, r)
	})
}

// portalURL reports whether link is one to send a browser to: an https URL,
// or an http one of this machine (the emulator).
func portalURL(link string) bool {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return u.Scheme == "http" && (host == "localhost" || ip != nil && ip.IsLoopback())
}

// auditPortal writes the audit record of a user sent to the Admin Portal.
func (m *Middleware) auditPortal(r *http.Request, p *Profile, intent workos.PortalIntent) {
	if !m.audit.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := appendIDs([]slog.Attr{slog.String("event", "admin_portal"), slog.String("intent", string(intent))}, p.ID, p.OrganizationID, p.ConnectionID)
	m.auditRecord(r, attrs, p.Email)
}

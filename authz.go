package ssogate

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/ssogate/ssogate/workos"
)

// The authorization gates answer "may this signed-in user see this?", after
// RequireSSO has answered "who is this?". Each is router middleware, made
// once when the routes are wired:
//
//	r.Use(gate.RequireSSO, gate.RequireRole(staffOrg, "admin"))
//
// A gate used without RequireSSO before it implies it: a request without a
// session is sent to sign in or answered 401, as by RequireSSO. Within one
// gate any listed value lets the user through; gates in a row must all let
// the user through. Misconfiguration (an empty list, an empty or malformed
// value) panics with a [*ConfigError] when the gate is made, at wiring time,
// rather than letting everyone in or no one.
//
// A signed-in user a gate refuses gets 403 Forbidden: a page saying whom
// they are signed in as, with a sign-out button and a link home, or for an
// API request (chosen as RequireSSO chooses between a redirect and 401) a
// JSON body {"error":"forbidden","message":...}. The refusal is logged at
// debug level with the profile id and the gate's name.

// RequireOrganization returns a gate that lets through only users of the
// given organizations, by WorkOS id (org_...), compared exactly.
func (m *Middleware) RequireOrganization(ids ...string) func(http.Handler) http.Handler {
	checkGateValues("RequireOrganization", ids, func(id string) bool { return validPrefixedID(id, "org_") })
	return m.authorize("organization", func(p *Profile) bool { return slices.Contains(ids, p.OrganizationID) })
}

// AnyOrganization, given to [Middleware.RequireRole] or
// [Middleware.RequireGroup] in place of an organization id, lets a role or
// group of any organization through. Each organization's roles and groups
// come from its own identity provider (or from role mappings that its IT
// administrator controls), so with AnyOrganization every customer can make
// its users "admin": use it only where the route itself is scoped to the
// user's own organization ([Profile].OrganizationID), such as a tenant's
// own settings.
const AnyOrganization = "*"

// RequireRole returns a gate that lets through only users of organization
// with one of the given roles: the slug of [Profile].Role or of any of
// [Profile].Roles, as WorkOS sends them. Slugs are compared exactly, case
// included (WorkOS makes them lower-case: "admin", not "Admin").
//
// The organization is part of the gate because a role is a claim of the
// user's own organization: the customer's identity provider, or role
// mappings that its IT administrator controls, decide it. An app's staff
// console gated on RequireRole(AnyOrganization, "admin") would admit the
// admins of every customer. organization is an organization id (org_...),
// or [AnyOrganization] for routes that only ever act within the user's own
// organization.
//
// A role removed in WorkOS stays in the sessions issued before, until they
// end; [Middleware.Revoke] with [RevokeUser] ends them at once.
func (m *Middleware) RequireRole(organization string, slugs ...string) func(http.Handler) http.Handler {
	checkGateOrganization("RequireRole", organization)
	checkGateValues("RequireRole", slugs, nil)
	return m.authorize("role", func(p *Profile) bool {
		if !inOrganization(p, organization) {
			return false
		}
		if p.Role != nil && slices.Contains(slugs, p.Role.Slug) {
			return true
		}
		return slices.ContainsFunc(p.Roles, func(r workos.Role) bool { return slices.Contains(slugs, r.Slug) })
	})
}

// RequireGroup returns a gate that lets through only users of organization
// who are members of one of the given groups, as the identity provider
// names them in [Profile].Groups. Names are compared exactly, case and
// spaces included, since identity providers differ on both: use the names
// as WorkOS reports them. organization is an organization id (org_...) or
// [AnyOrganization], as for [Middleware.RequireRole], and for the same
// reason: every customer's identity provider names its own groups.
func (m *Middleware) RequireGroup(organization string, groups ...string) func(http.Handler) http.Handler {
	checkGateOrganization("RequireGroup", organization)
	checkGateValues("RequireGroup", groups, nil)
	return m.authorize("group", func(p *Profile) bool {
		return inOrganization(p, organization) &&
			slices.ContainsFunc(p.Groups, func(g string) bool { return slices.Contains(groups, g) })
	})
}

// inOrganization reports whether p belongs to organization, an id or
// AnyOrganization.
func inOrganization(p *Profile, organization string) bool {
	return organization == AnyOrganization || p.OrganizationID == organization
}

// checkGateOrganization panics unless organization is an organization id
// or AnyOrganization.
func checkGateOrganization(gate, organization string) {
	if organization != AnyOrganization && !validPrefixedID(organization, "org_") {
		panic(&ConfigError{Field: gate, Problem: "the first argument must be the organization whose claims count (org_...), or AnyOrganization"})
	}
}

// RequireProfile returns a gate that lets through only users for whom
// allow returns true, for rules the other gates do not cover (a custom
// attribute, an email domain). name says what it checks, in the debug log
// of refusals. allow gets the session's profile, shared with other
// requests: it must not change it.
func (m *Middleware) RequireProfile(name string, allow func(p *Profile) bool) func(http.Handler) http.Handler {
	if name == "" || allow == nil {
		panic(&ConfigError{Field: "RequireProfile", Problem: "needs a name and a function"})
	}
	return m.authorize(name, allow)
}

// checkGateValues panics if a gate's list is empty, holds an empty value,
// or holds one that valid refuses.
func checkGateValues(gate string, values []string, valid func(string) bool) {
	if len(values) == 0 {
		panic(&ConfigError{Field: gate, Problem: "needs at least one value; an empty list would let no one in"})
	}
	for i, v := range values {
		if v == "" || valid != nil && !valid(v) {
			panic(&ConfigError{Field: gate, Problem: "value " + strconv.Itoa(i+1) + " is empty or malformed"})
		}
	}
}

// authorize returns middleware that serves next only when allow accepts the
// session's profile.
func (m *Middleware) authorize(name string, allow func(*Profile) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return m.withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := SessionFromContext(r.Context())
			if !allow(&s.Profile) {
				m.forbidden(w, r, s, name)
				m.refused(r, RefusalInfo{Reason: ReasonForbidden, Gate: name, Status: http.StatusForbidden}, s)
				return
			}
			next.ServeHTTP(w, r)
		}))
	}
}

// withSession serves h with the request's session in its context: at once
// when this Middleware's RequireSSO (or another of its gates) put it there
// already, and otherwise through RequireSSO.
func (m *Middleware) withSession(h http.Handler) http.Handler {
	gated := m.RequireSSO(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only a session this Middleware verified counts: with two
		// Middlewares in one app (customers and staff, say), the other's
		// session in the context proves nothing here.
		if s, ok := SessionFromContext(r.Context()); ok && s.owner == m.sessions {
			h.ServeHTTP(w, r)
			return
		}
		gated.ServeHTTP(w, r)
	})
}

// forbidden answers a signed-in user whom a gate refused.
func (m *Middleware) forbidden(w http.ResponseWriter, r *http.Request, s *Session, gate string) {
	m.log.Debug("ssogate: access refused", "profile_id", s.Profile.ID, "gate", gate, "path", r.URL.Path)
	const message = "You do not have access to this page."
	if !isNavigation(r) {
		writeJSONError(w, http.StatusForbidden, "forbidden", message)
		return
	}
	who := s.Profile.Email
	if who == "" {
		who = s.Profile.ID
	}
	writePage(w, http.StatusForbidden, forbiddenPage, struct {
		Who, Message, Logout, Home string
	}{who, message, m.cfg.LogoutPath, m.cfg.AfterLoginPath})
}

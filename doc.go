// Package ssogate gives a Go web app enterprise single sign-on through WorkOS:
// SAML and OIDC identity providers of your customers' organizations, and
// OAuth providers such as Google, behind one small net/http middleware.
//
// # Usage
//
//	gate, err := ssogate.New(ssogate.Config{
//		APIKey:        os.Getenv("WORKOS_API_KEY"),
//		ClientID:      os.Getenv("WORKOS_CLIENT_ID"),
//		RedirectURI:   "https://app.example.com/callback",
//		CookieSecrets: [][]byte{[]byte(os.Getenv("WORKOS_COOKIE_PASSWORD"))},
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	gate.Mount(mux) // /login, /callback, /logout
//	mux.Handle("/app/", gate.RequireSSO(appHandler))
//
// In appHandler, [ProfileFromContext] returns the signed-in user's profile.
// [Middleware.RequireSSO] is router middleware as it is (chi's r.Use), and
// [Middleware.Mount] registers the handlers on any router with a Handle
// method; the repository's examples show net/http, chi and gin.
//
// # Routing a login
//
// Send users to /login?organization=org_..., /login?connection=conn_...,
// /login?provider=GoogleOAuth or /login?email=user@company.com to sign in;
// add return_to=/path to come back to a page. With none of them, /login asks
// for the work email. A [ConnectionCache] looks the organization, email domain
// or connection up first, so that users without a working connection get a
// clear page instead of a WorkOS error; [NewWebhookHandler] keeps it fresh with
// WorkOS's signed connection events.
//
// # Who may see what
//
// Gates compose after RequireSSO, or alone (implying it):
// [Middleware.RequireOrganization], [Middleware.RequireRole],
// [Middleware.RequireGroup] and [Middleware.RequireProfile] for any other
// rule; in a chi group, r.Use(gate.RequireSSO, gate.RequireRole(staffOrg,
// "admin")). Roles and groups are claims of the user's own organization, so
// RequireRole and RequireGroup name the organization whose claims count, or
// [AnyOrganization]. A refused user gets 403: a page naming the account, or
// JSON for API requests. docs/authorization.md has the details.
//
// # Ending sessions
//
// Every request's session is checked in memory against a set of
// revocations: [Middleware.Revoke] ends a session, a user's, an
// organization's or a connection's ([RevokeSession], [RevokeUser],
// [RevokeOrganization], [RevokeConnection]), as do sign-out and a
// connection's deactivation. [Config].IdleTimeout ends sessions left
// unused, and [Middleware.RequireRecentLogin] asks for a fresh sign-in on
// sensitive routes. A [Backplane] shares revocations between replicas;
// github.com/ssogate/ssogate/redisstore does it through Redis. Checking a
// request never makes a network call. docs/sessions.md has the details.
//
// Package [github.com/ssogate/ssogate/workos] is the WorkOS API client the
// Middleware uses (through the [Provider] interface), usable on its own;
// [github.com/ssogate/ssogate/workostest] emulates WorkOS in-process, so
// the whole login flow runs in tests with no WorkOS account and no network.
//
// # Operating it
//
// [Config].AuditLog receives an audit record of each sign-in, refused
// callback, sign-out and revocation. [Config].Observer receives every
// decision as a typed value ([LoginInfo], [CallbackInfo], [RefusalInfo] and
// the rest), at no cost to a signed-in request;
// [github.com/ssogate/ssogate/otelssogate] turns them into OpenTelemetry
// metrics and spans. [Middleware.HealthHandler] shows each connection's
// recent sign-ins and failures.
//
// # Security model
//
// Every login carries a fresh 256-bit state and a PKCE verifier in its own
// short-lived __Host- cookie; the callback checks the state in constant
// time, spends it for good and refuses a profile from any organization or
// connection other than the one the login was started for. The session is
// a cookie signed and encrypted under keys derived from
// [Config].CookieSecrets and the WorkOS client ID, which rotate without
// signing anyone out. Sign-out acts only on a same-origin request;
// return_to is normalized by [SafeReturnTo]; webhook deliveries are
// verified before anything in them is read. Failures answer a short page
// that leaks nothing; the API key, codes, states, tokens and cookie values
// are never logged. docs/security.md in the repository says each of these
// in full, with the threats they stop.
package ssogate

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
// Authorization gates compose after RequireSSO, or alone (implying it):
// [Middleware.RequireOrganization], [Middleware.RequireRole],
// [Middleware.RequireGroup] and, for any other rule, [Middleware.RequireProfile].
// In a chi group: r.Use(gate.RequireSSO, gate.RequireRole(staffOrg, "admin")).
// Roles and groups are claims of the user's own organization (its identity
// provider decides them), so RequireRole and RequireGroup name the
// organization whose claims count, or [AnyOrganization] for routes that act
// only within the user's own organization. A gate trusts only a session its
// own Middleware verified. A signed-in user a gate refuses gets 403: a page
// that names the account, with a sign-out button and a link home, or JSON
// for API requests.
//
// # Ending sessions
//
// A session is a sealed cookie, checked on every request against a set of
// revocations held in memory: [Middleware.Revoke] ends one session
// ([RevokeSession], by [Session].ID), a user's ([RevokeUser]), an
// organization's ([RevokeOrganization]) or a connection's
// ([RevokeConnection]), for every session issued up to that moment (allowing
// [ClockSkew] between replicas) and every sign-in then in progress. Sign-out
// revokes the session it ends, by its id, so a copy of the cookie stops
// working too, whatever the replicas' clocks say, and
// a verified connection.deactivated or connection.deleted event revokes the
// connection's sessions. [Config].IdleTimeout ends sessions left unused, and
// [Middleware.RequireRecentLogin] asks for a recent sign-in that made the
// identity provider authenticate the user anew (prompt=login) on sensitive
// routes. A [Backplane] shares revocations and connection events between the
// replicas of an app; github.com/ssogate/ssogate/redisstore does it through
// Redis. Checking a request never makes a network call.
//
// Package [github.com/ssogate/ssogate/workostest] emulates WorkOS in-process,
// so the whole login flow runs in tests with no WorkOS account and no network.
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
// Every login carries a fresh 256-bit state and a PKCE (S256) verifier,
// sealed in a short-lived (10 minute) cookie that is HttpOnly, SameSite=Lax
// and __Host- prefixed on https (no sibling subdomain can plant one), one per
// login so that two tabs can sign in at once. The callback requires the state
// to match that cookie (compared in constant time), deletes the cookie
// whatever the outcome, spends the state for good on this replica, and sends
// the verifier with the code, so a stolen code is useless elsewhere and a
// login cannot be forced on a user (login CSRF). A /login that another site
// sends a browser to, choosing where it signs in, asks the user to continue
// first. [Config].MaxExchangesPerMinute bounds the code exchanges a replica
// makes.
//
// The login's intent (the organization, connection or provider it was started
// for) is sealed with the state, and the callback refuses a profile from any
// other organization or connection: an administrator of one organization's
// identity provider cannot sign in as a user of another.
//
// return_to is parsed and normalized by [SafeReturnTo]; anything that could
// leave the site falls back to the configured path.
//
// The session is a cookie signed (HMAC-SHA256) and encrypted (AES-256) with
// gorilla/securecookie under keys derived from [Config].CookieSecrets and
// the WorkOS client ID (so another environment's cookies never open), which
// rotate without signing anyone out. It is HttpOnly, SameSite=Lax, Secure
// when the redirect URI is https (with the __Host- prefix), holds the
// identity, role and groups but never the API key or access tokens, and is
// issued anew at every sign-in. Any gorilla/sessions Store can keep sessions
// on the server instead.
//
// Sign-out clears every cookie ssogate set and revokes the session on every
// replica. It acts only on a same-origin POST or a same-origin link, so
// another site cannot sign users out.
//
// Emails are parsed strictly and their domains normalized ([ParseEmailDomain]);
// the organization and connection a login is routed to become its intent.
// Webhook deliveries are verified (HMAC-SHA256, constant-time, a bounded
// clock skew and body) before anything in them is read, and events can only
// take access away: an old or replayed one never brings back a connection.
//
// Failures answer a short page that leaks nothing (see [Config].ErrorHandler);
// the API key, codes, states, tokens and cookie values are never logged.
package ssogate

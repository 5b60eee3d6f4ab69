// Package workostest provides an in-process emulator of the WorkOS SSO,
// Directory Sync and Events APIs,
// in the shape of net/http/httptest, so that tests and example applications
// can run the whole SSO login flow with no WorkOS account and no network.
//
//	srv := workostest.NewServer(workostest.WithAutoSignIn(workostest.AliceEmail))
//	defer srv.Close()
//	// Point the WorkOS client at srv.URL, with API key srv.APIKey and
//	// client ID srv.ClientID.
//
// # Endpoints
//
// The server answers as WorkOS does:
//
//   - GET /sso/authorize: the browser's entry point. It shows a hosted
//     sign-in page listing the users of the selected connection, or, with
//     [WithAutoSignIn], redirects straight back with a code.
//   - POST /sso/token: exchanges a code (single use, valid for ten minutes
//     on the server clock, PKCE S256 when a code_challenge was sent) for an
//     access token and the profile. Form-encoded and JSON bodies.
//   - GET /sso/profile: takes the access token, never the API key.
//   - GET /connections, GET /connections/{id}, DELETE /connections/{id}.
//   - POST /sso/logout/authorize and GET /sso/logout: OIDC connections only.
//   - GET /directories, GET and DELETE /directories/{id}, GET
//     /directory_users (by directory or group), GET /directory_users/{id}
//     (with the user's groups), GET /directory_groups and GET
//     /directory_groups/{id}, paged with before, after, limit and order.
//   - GET, POST /organizations, GET /organizations/external_id/{id}, GET,
//     PUT, DELETE /organizations/{id}, and the organization domains
//     (POST /organization_domains, GET and DELETE /organization_domains/{id},
//     POST .../verify, which leaves the state to [Server.SetDomainState]:
//     there is no DNS to look at). Each change sends its organization.* or
//     organization_domain.* event. Deleting an organization also deletes
//     its connections and directories, each with its event.
//   - POST /portal/generate_link, whose link opens the emulator's Admin
//     Portal page once, within five minutes: for intent sso, the IT admin
//     picks a provider (Okta SAML, Entra ID SAML, Google OAuth, any OIDC),
//     names the domain and a first user, and activates; that makes an
//     active connection with the domain (added to the organization,
//     pending), the user, and a signed connection.activated. For
//     domain_verification it marks a domain verified or failed. Other
//     intents are WorkOS's own.
//   - GET /events: every event the server has emitted (connection and
//     dsync events alike), oldest first, after an event-id cursor, in a
//     range or for an organization.
//
// Every other route requires "Authorization: Bearer <APIKey>". Every
// response carries an X-Request-ID header; unknown routes answer 404.
//
// # Authorization errors
//
// Problems that make the redirect URI untrustworthy or the request
// malformed answer 400 at the emulator itself (a page for browsers, an
// OAuth-style JSON body otherwise) and never redirect: an unknown client_id,
// a redirect_uri that is missing, not an absolute http(s) URL or not one of
// [WithRedirectURIs], a response_type other than "code", and a
// code_challenge_method other than "S256".
//
// Selector problems send the browser back to the redirect URI with error,
// error_description and state:
//
//	no connection, organization or provider      invalid_connection_selector
//	more than one of them                        ambiguous_connection_selector
//	unknown connection                           connection_invalid
//	connection not in state active               connection_unlinked
//	unknown organization                         organization_invalid
//	organization without an active connection    connection_invalid
//	organization with several active connections ambiguous_connection_selector
//	provider not one WorkOS knows                invalid_connection_selector
//	provider without an active connection        connection_invalid
//	provider with several active connections     connection_strategy_invalid
//	user not on the connection, or Cancel        access_denied
//
// # Default seed
//
// [DefaultSeed] holds:
//
//	Organization           Connection          Type         State
//	Acme     org_acme      conn_acme_okta      OktaSAML     active    (domain acme.com)
//	Globex   org_globex    conn_globex_oidc    GenericOIDC  active    (domain globex.com)
//	(none)                 conn_google_oauth   GoogleOAuth  active    (provider=GoogleOAuth)
//	Initech  org_initech   conn_initech_saml   GenericSAML  inactive  (domain initech.com)
//
//	User                Name            Connection         Groups                Role
//	alice@acme.com      Alice Anderson  conn_acme_okta     engineering, admins   admin
//	bob@acme.com        Bob Baker       conn_acme_okta     engineering           member
//	hank@globex.com     Hank Scorpio    conn_globex_oidc   executives            owner
//	carol@gmail.com     Carol Chen      conn_google_oauth                        (none)
//	peter@initech.com   Peter Gibbons   conn_initech_saml                        member
//
//	Directory                           Organization  Users (IdP id)
//	directory_acme    okta scim v2.0    org_acme      alice, bob (those of their SSO profiles)
//	directory_globex  azure scim v2.0   org_globex    Hank@Globex.com (azure-7f3c9d21-hank)
//
// Globex's directory stands for SSO and provisioning from two systems:
// hank's IdP id there differs from his SSO profile's, and his email from
// his profile's in letter case.
//
// The ids and emails are constants, such as [AcmeConnectionID],
// [AcmeDirectoryID] and [AliceEmail]. Profile ids are stable: see
// [ProfileID]; so are directory user ids: see [DirectoryUserID].
//
// # Faults, time and the request log
//
// [Server.Fail] makes the next calls of a route answer an error, a
// Retry-After header or a late answer. [Server.Advance] moves the server
// clock, to expire codes and access tokens. [Server.Requests] and
// [Server.Count] tell what the client sent; headers and bodies are not kept.
//
// # Seed files and the admin API
//
// [ParseSeed] reads organizations, connections, users, directories and
// directory users from a versioned
// JSON seed file, for [WithSeed]; cmd/ssogate/seed.example.json holds the
// default seed in that form. [WithAdmin] serves an admin API under
// [AdminPrefix] (/_emulator/), so that tests in any language can change a
// running server: add organizations, connections, users, directories and
// directory users, change a connection's or a directory user's state or
// delete it, delete a directory, decide a domain's verification, inject faults, move the clock and read the
// request log. The ssogate command's emulator turns it on.
//
// # Signing in from a test
//
// [Server.SignIn] signs an *http.Client with a cookie jar in to an app as a
// seeded user in one call, through the app's own login path, the hosted
// sign-in page and the app's callback, as a browser would; an error names
// the hop that went wrong.
//
// # Webhooks
//
// With [WithWebhook], changing a connection's state ([Server.SetConnectionState])
// or deleting it ([Server.DeleteConnection], DELETE /connections/{id}) sends
// a signed connection.activated, connection.deactivated or
// connection.deleted event; a directory user added, deactivated
// ([Server.SetDirectoryUserState]) or removed ([Server.DeleteDirectoryUser])
// sends dsync.user.created, dsync.user.updated or dsync.user.deleted with
// the user's last state, and a directory deleted ([Server.DeleteDirectory])
// one dsync.deleted and no per-user events, as WorkOS does. Every event is
// also kept for GET /events, with the same id, webhook or not, so that a
// missed delivery can be caught up. Events are delivered in the background, in
// order, once each; [Server.FlushWebhooks] waits for them and
// [Server.Deliveries] lists the attempts. [SignWebhook] computes the
// WorkOS-Signature header, to test a receiver with forged signatures.
//
// # Security
//
// The emulator is for tests and local development only: it signs in
// anyone who clicks a button. It listens on loopback, answers only to
// loopback host names, its listening address and the names given with
// [WithHosts] (a web page on a DNS name that rebinds to 127.0.0.1 gets 421,
// since the API key is public), refuses admin calls from other origins,
// HTML-escapes everything it shows, and never redirects to a redirect URI
// it has not validated.
package workostest

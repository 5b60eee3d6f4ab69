// Package workos is a client of the WorkOS API's single sign-on,
// connection, Directory Sync and Events endpoints: authorization URLs, the
// code exchange, profiles, connections, RP-initiated logout, directories
// and their users and groups, and the event log, with typed errors,
// bounded retries, paging and webhook signature verification. It is the protocol half of
// github.com/ssogate/ssogate and depends on nothing of the middleware, so
// it can be used alone.
//
// # Sign-in
//
// [Client.AuthorizationURL] builds the URL the browser is sent to, with
// exactly one selector (a connection, an organization or an OAuth
// provider) and a PKCE challenge ([NewPKCEVerifier], [PKCEChallenge]).
// WorkOS sends the browser back with a code, which [Client.ExchangeCode]
// trades once for the user's [Profile]. The calls follow
// https://workos.com/docs/reference/sso and WorkOS's OpenAPI spec, and
// avoid what some official SDKs get wrong:
//
//   - GET /sso/profile is authorized with the access token of the
//     exchange, never with the API key;
//   - a code exchange is not retried once it may have reached WorkOS (a
//     code is single-use): only a 429 or a request that surely never left
//     is sent again;
//   - the client never follows a redirect, which would replay the API key
//     to wherever it points.
//
// # Errors
//
// Every answer other than a success is an [*APIError] that matches, with
// errors.Is, the sentinel of its kind ([ErrNotFound] for a 404,
// [ErrInvalidGrant] for a spent or expired code, ...). Its message and
// fields hold at most a few hundred bytes of the answer, with control
// characters removed and every secret of the request (API key, code,
// verifier, access token) replaced, so an error is safe to log. Where
// WorkOS's answers and its spec may differ, the client takes both: a
// refused client ID or API key at POST /sso/token is [ErrInvalidClient]
// by its error code, whether WorkOS answers 400 (the spec) or 401; any
// other route refusing the key is [ErrUnauthorized] (401, which the spec
// does not list but WorkOS and its SDKs use).
//
// # Retries and rate limits
//
// [RetryPolicy] retries rate-limited answers (429), WorkOS's server errors
// (500, 502, 503, 504) and network failures, where repeating the request is
// safe (GETs, DELETEs, and POSTs, which carry an Idempotency-Key), with
// jittered exponential backoff; it honours Retry-After up to a bound and
// never waits past the context's deadline. WorkOS allows 6,000 requests per
// minute per API key, shared by every process that uses it.
//
// # Lists
//
// List cursors are object ids: ListMetadata.Before and After are the ids
// of a page's first and last items, and a walk resumed from an id stored
// earlier works. [AllConnections] walks every page; under [OrderNormal],
// which the spec lists newest first with before fetching older records, it
// follows before.
//
// # Directory Sync and events
//
// [Client.ListDirectories], [Client.ListDirectoryUsers] and
// [Client.ListDirectoryGroups] read what an organization's directory
// provisions, with [Client.AllDirectoryUsers] and the like to walk every
// page. A directory user's IdPID and Email need not equal the SSO
// [Profile]'s: WorkOS advises matching within the organization on the IdP
// id, then on the case-folded email. With WorkOS's default flow a user
// deactivated at the provider is deleted from the directory
// (dsync.user.deleted, with the user's last state); with the custom flow
// the user stays, inactive (dsync.user.updated). A deleted directory
// sends one dsync.deleted and nothing per user.
//
// [Client.ListEvents] reads the event log (GET /events): the event types
// are required (sent comma-joined), After is the id of the last event
// read, and the answer is oldest first whatever an order says. WorkOS
// keeps events 30 days and holds a new one back from reads for a few
// seconds; an event's id is the same in the log and in its webhook
// delivery, so the two can be de-duplicated.
//
// # Organizations and the Admin Portal
//
// [Client.CreateOrganization], [Client.ListOrganizations] and the rest
// keep the app's customers; an organization's domains are pending until
// WorkOS verifies them (a DNS TXT record, or the app vouching for one as
// verified). [Client.GeneratePortalLink] returns a link to the Admin
// Portal, where a customer's IT admin sets up their own connection (intent
// sso), directory or domains. The link expires five minutes after it is
// issued and is a bearer capability: generate it when the admin clicks,
// redirect at once, and never email, log or cache it. WorkOS sends
// connection.activated once the connection works.
//
// # Observing calls
//
// An [Observer] gets every call's route, status, attempts, duration and
// error code, each from a closed set of values, fit for metrics. Set one in
// [ClientConfig], or per call with [WithObserver], as a middleware handed
// a Client does.
//
// # Webhooks
//
// [VerifyWebhook] checks a WorkOS-Signature header (HMAC-SHA256 of
// "<timestamp>.<body>", compared in constant time, within a tolerance of
// the signature's time) before an [Event] is trusted.
package workos

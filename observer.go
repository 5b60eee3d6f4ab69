package ssogate

import (
	"context"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// Observer receives every decision ssogate makes, as typed values, for
// metrics, traces and audit trails. Every field is optional: a nil one costs
// a nil check, and a gated request with a valid session calls none of them.
// Set it in [Config].Observer. The WorkOS calls the Middleware makes report
// to it, through any [.Client] without an Observer of its own (see
// [workos.WithObserver]); so do the [*ConnectionCache] that [New] builds, a
// cache given in Config without an Observer of its own, and a webhook
// handler over the Middleware's cache. Those built apart may take one in
// their own configs ([.ClientConfig].Observer, [CacheConfig].Observer,
// [WebhookConfig].Observer).
//
// The funcs are called synchronously, on the request's goroutine, and must
// be quick and safe for concurrent use. The values they get are theirs to
// keep, but the slices in them must not be changed. No value holds a
// secret, a code, a state or a cookie value. Profile ids, organization and
// connection ids are in them; emails are not.
//
// The Start funcs return the context that the rest of the operation uses,
// so that an observer can put a span in it: the WorkOS calls of a callback
// are made with the context that CallbackStart returned, and the Done func
// of the operation gets it back. github.com/ssogate/ssogate/otelssogate
// builds an Observer that makes OpenTelemetry metrics and spans.
type Observer struct {
	// LoginStart is called when /login starts handling a request.
	LoginStart func(ctx context.Context) context.Context
	// LoginDone is called when /login has answered.
	LoginDone func(ctx context.Context, info LoginInfo)

	// CallbackStart is called when /callback starts handling a request.
	CallbackStart func(ctx context.Context) context.Context
	// CallbackDone is called when /callback has answered: a sign-in, or a
	// refusal and its reason.
	CallbackDone func(ctx context.Context, info CallbackInfo)

	// SessionRefused is called when a gated request is not served: it has
	// no valid session, a step-up is needed, or a gate forbids it.
	SessionRefused func(ctx context.Context, info RefusalInfo)

	// SignedOut is called when /logout has ended a session.
	SignedOut func(ctx context.Context, info SignOutInfo)

	// Revoked is called for the revocations this replica makes (Revoke, a
	// sign-out, a removed connection) and for those it receives from its
	// [Backplane].
	Revoked func(ctx context.Context, info RevocationInfo)

	// BackplaneChanged is called when the [Backplane] becomes unreachable
	// and when it is reachable again.
	BackplaneChanged func(ctx context.Context, info BackplaneInfo)

	// WebhookDone is called for every webhook delivery: verified and
	// applied, or refused and why.
	WebhookDone func(ctx context.Context, info WebhookInfo)
	// EventsPolled is called after each poll of [Middleware.FollowEvents].
	EventsPolled func(ctx context.Context, info EventsInfo)

	// WorkOSCallStart is called before a WorkOS API call, with its route,
	// such as "POST /sso/token".
	WorkOSCallStart func(ctx context.Context, route string) context.Context
	// WorkOSCallDone is called when the call is over, retries included.
	WorkOSCallDone func(ctx context.Context, info workos.CallInfo)

	// CacheLookup is called for every lookup of the connection cache that
	// routes logins.
	CacheLookup func(ctx context.Context, info CacheInfo)
}

// Reason says why a login, a callback or a gated request was refused. The
// values are a small fixed set, fit for a metric's attribute.
type Reason string

// Reasons of [LoginInfo], [CallbackInfo] and [RefusalInfo].
const (
	// A request ssogate cannot act on: a malformed query, a wrong method.
	ReasonBadRequest Reason = "bad_request"

	// Login routing.
	ReasonUnknownDomain      Reason = "unknown_domain"      // no connection has the email's domain
	ReasonNoConnection       Reason = "no_connection"       // the organization or connection does not exist
	ReasonInactiveConnection Reason = "inactive_connection" // it exists, but cannot sign anyone in
	ReasonAmbiguousDomain    Reason = "ambiguous_domain"    // connections of several organizations claim the domain
	ReasonLookupFailed       Reason = "lookup_failed"       // WorkOS could not be asked
	ReasonStartFailed        Reason = "start_failed"        // the login state could not be written

	// The callback.
	ReasonStateMissing    Reason = "state_missing"     // no login state: expired, or another browser
	ReasonStateMismatch   Reason = "state_mismatch"    // the state is not this browser's
	ReasonStateSpent      Reason = "state_spent"       // the state bought an exchange already
	ReasonIdPError        Reason = "idp_error"         // WorkOS sent the browser back with an error
	ReasonNoCode          Reason = "no_code"           // the callback has no code
	ReasonIdPInitiated    Reason = "idp_initiated"     // a login the identity provider started, refused by policy
	ReasonTooManySignIns  Reason = "too_many_sign_ins" // MaxExchangesPerMinute, or WorkOS's rate limit
	ReasonExchangeFailed  Reason = "exchange_failed"   // WorkOS refused the code (see WorkOSCode)
	ReasonMisconfigured   Reason = "misconfigured"     // WorkOS refused the API key or client ID
	ReasonWorkOSTimeout   Reason = "workos_timeout"    // WorkOS did not answer within ExchangeTimeout
	ReasonWorkOSFailed    Reason = "workos_failed"     // WorkOS failed or answered nonsense
	ReasonWrongTenant     Reason = "wrong_tenant"      // the profile is not of the organization, connection or provider asked for
	ReasonRevoked         Reason = "revoked"           // revoked while signing in; for a session, revoked
	ReasonUnavailable     Reason = "unavailable"       // the revocations cannot be vouched for
	ReasonRefusedByApp    Reason = "refused_by_app"    // Config.OnLogin refused the profile
	ReasonSessionNotSaved Reason = "session_not_saved" // the session could not be written (too large, store failed)

	// Gated requests.
	ReasonNoSession      Reason = "no_session"      // no session cookie
	ReasonInvalidSession Reason = "invalid_session" // tampered with, forged, or sealed with a key no longer configured or for another environment
	ReasonExpired        Reason = "expired"         // past its lifetime
	ReasonIdle           Reason = "idle"            // idle for longer than IdleTimeout
	ReasonStepUp         Reason = "step_up"         // RequireRecentLogin wants a recent authentication
	ReasonForbidden      Reason = "forbidden"       // an authorization gate refused the user
)

// LoginRoute says how /login chose where to send the browser.
type LoginRoute string

// Routes of [LoginInfo].
const (
	RouteOrganization LoginRoute = "organization" // ?organization=
	RouteConnection   LoginRoute = "connection"   // ?connection=
	RouteProvider     LoginRoute = "provider"     // ?provider=
	RouteEmailDomain  LoginRoute = "email_domain" // ?email= or ?domain=
	RouteDefault      LoginRoute = "default"      // Config.DefaultOrganization, DefaultConnection, DefaultProvider or RequestOrganization
	RouteAskEmail     LoginRoute = "ask_email"    // nothing chose: the email page is shown
)

// LoginInfo describes how /login answered.
type LoginInfo struct {
	// Route is how the login was routed; empty if the query was refused
	// before it chose anything.
	Route LoginRoute
	// OrganizationID and ConnectionID are where the login goes, as far as
	// routing resolved them; Provider is the OAuth provider asked for.
	OrganizationID string
	ConnectionID   string
	Provider       workos.OAuthProvider
	// Redirected reports whether the browser was sent to WorkOS. A login
	// that asks for an email, shows the connections to choose from or asks
	// to confirm a sign-in another site chose is neither redirected nor
	// refused.
	Redirected bool
	// Reason is why the login was refused, empty otherwise.
	Reason Reason
	// Status is the HTTP status of the answer.
	Status int
	// Err is the cause of a refusal, if there is one.
	Err error
	// Duration is how long /login took.
	Duration time.Duration
}

// CallbackInfo describes how /callback answered.
type CallbackInfo struct {
	// SignedIn reports whether a session was issued.
	SignedIn bool
	// Restarted reports a login that the identity provider started and
	// that [IdPInitiatedRestart] started again from this site: neither a
	// sign-in nor a refusal.
	Restarted bool
	// Reason is why the sign-in was refused; empty when SignedIn.
	Reason Reason
	// WorkOSCode is the error code WorkOS gave: the callback's error
	// parameter (access_denied, say), or the code of a refused exchange
	// (invalid_grant). It is one of WorkOS's documented codes, or "other"
	// for any other, so that it is safe as a metric label. Empty if WorkOS
	// gave none, and for a callback with no login of this browser's
	// (anyone can link to the callback with an error).
	WorkOSCode string
	// ProfileID, OrganizationID, ConnectionID and ConnectionType are the
	// profile's, once WorkOS returned one, and otherwise what the login
	// was started for.
	ProfileID      string
	OrganizationID string
	ConnectionID   string
	ConnectionType workos.ConnectionType
	// Provider is the OAuth provider the login was started for, if any.
	Provider workos.OAuthProvider
	// StepUp reports whether the login asked the identity provider to
	// authenticate the user anew (prompt=login).
	StepUp bool
	// Status is the HTTP status of the answer.
	Status int
	// Err is the cause of a refusal, if there is one.
	Err error
	// Duration is how long /callback took, WorkOS calls included.
	Duration time.Duration

	email string // the profile's, for the audit trail only
}

// RefusalInfo describes a gated request that was not served.
type RefusalInfo struct {
	Reason Reason
	// Gate names the gate that refused: "RequireSSO",
	// "RequireRecentLogin", or an authorization gate ("role", "group",
	// "organization", or RequireProfile's name).
	Gate string
	// ProfileID, OrganizationID and ConnectionID are the session's, when
	// the session was read (revoked, step-up, forbidden).
	ProfileID      string
	OrganizationID string
	ConnectionID   string
	// Status is the HTTP status of the answer: 302 to the login page, 401,
	// 403 or 503.
	Status int
}

// SignOutInfo describes a sign-out.
type SignOutInfo struct {
	ProfileID      string
	OrganizationID string
	ConnectionID   string
	// Shared reports whether the [Backplane] stored the session's
	// revocation in time; if not, it holds here and is shared later.
	Shared bool
	// IdPLogout reports whether the browser was sent on to end the
	// identity provider's session too.
	IdPLogout bool
}

// RevocationInfo describes revocations made here or received.
type RevocationInfo struct {
	Revocations []Revocation
	// Received reports whether they came from the [Backplane] (made by
	// another replica, or by this one and echoed), rather than made here.
	Received bool
	// Resync reports the backplane's read of every revocation in force
	// (when the replica starts, after an outage): not news, but what the
	// replica holds from now on.
	Resync bool
	// Lag is how long after the newest revocation was made it was applied
	// here, as the two replicas' clocks tell (their skew is in it); zero
	// when made here, and for a resync.
	Lag time.Duration
}

// BackplaneInfo describes a change of the [Backplane]'s health.
type BackplaneInfo struct {
	// Down reports whether the backplane became unreachable (true) or
	// reachable again (false).
	Down bool
	// Err is the failure that started the outage.
	Err error
}

// WebhookInfo describes a webhook delivery.
type WebhookInfo struct {
	// Verified reports whether the signature verified.
	Verified bool
	// EventType and EventID are the verified event's; empty otherwise.
	EventType string
	EventID   string
	// Status is the HTTP status of the answer; Reason, for a refusal, a
	// short phrase such as "signature mismatch or stale".
	Status int
	Reason string
}

// CacheResult is the outcome of a connection cache lookup.
type CacheResult string

// Results of [CacheInfo].
const (
	CacheHit     CacheResult = "hit"     // answered from the cache
	CacheMiss    CacheResult = "miss"    // WorkOS was asked
	CacheStale   CacheResult = "stale"   // WorkOS failed; an older answer was served
	CacheFailed  CacheResult = "failed"  // WorkOS failed and there was no answer to serve
	CacheLimited CacheResult = "limited" // over MaxFetchesPerMinute, with no answer to serve
)

// CacheInfo describes one lookup of the connection cache. A lookup that
// joins one in flight reports nothing of its own.
type CacheInfo struct {
	// Lookup is "organization", "domain" or "connection".
	Lookup string
	Result CacheResult
}

// JoinObservers returns an Observer that calls each of observers in turn
// (nil ones are skipped), for an app that feeds both otelssogate and one
// of its own. A Start func passes the context each returns to the next;
// each Done func gets the context the last Start returned.
func JoinObservers(observers ...*Observer) *Observer {
	var obs []*Observer
	for _, o := range observers {
		if o != nil {
			obs = append(obs, o)
		}
	}
	j := &Observer{
		LoginStart:       joinStart(obs, func(o *Observer) func(context.Context) context.Context { return o.LoginStart }),
		LoginDone:        joinDone(obs, func(o *Observer) func(context.Context, LoginInfo) { return o.LoginDone }),
		CallbackStart:    joinStart(obs, func(o *Observer) func(context.Context) context.Context { return o.CallbackStart }),
		CallbackDone:     joinDone(obs, func(o *Observer) func(context.Context, CallbackInfo) { return o.CallbackDone }),
		SessionRefused:   joinDone(obs, func(o *Observer) func(context.Context, RefusalInfo) { return o.SessionRefused }),
		SignedOut:        joinDone(obs, func(o *Observer) func(context.Context, SignOutInfo) { return o.SignedOut }),
		Revoked:          joinDone(obs, func(o *Observer) func(context.Context, RevocationInfo) { return o.Revoked }),
		BackplaneChanged: joinDone(obs, func(o *Observer) func(context.Context, BackplaneInfo) { return o.BackplaneChanged }),
		WebhookDone:      joinDone(obs, func(o *Observer) func(context.Context, WebhookInfo) { return o.WebhookDone }),
		EventsPolled:     joinDone(obs, func(o *Observer) func(context.Context, EventsInfo) { return o.EventsPolled }),
		WorkOSCallDone:   joinDone(obs, func(o *Observer) func(context.Context, workos.CallInfo) { return o.WorkOSCallDone }),
		CacheLookup:      joinDone(obs, func(o *Observer) func(context.Context, CacheInfo) { return o.CacheLookup }),
	}
	var starts []func(context.Context, string) context.Context
	for _, o := range obs {
		if o.WorkOSCallStart != nil {
			starts = append(starts, o.WorkOSCallStart)
		}
	}
	if len(starts) > 0 {
		j.WorkOSCallStart = func(ctx context.Context, route string) context.Context {
			for _, f := range starts {
				ctx = f(ctx, route)
			}
			return ctx
		}
	}
	return j
}

// joinStart joins the Start funcs that field picks; nil if there are none.
func joinStart(obs []*Observer, field func(*Observer) func(context.Context) context.Context) func(context.Context) context.Context {
	var fs []func(context.Context) context.Context
	for _, o := range obs {
		if f := field(o); f != nil {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return func(ctx context.Context) context.Context {
		for _, f := range fs {
			ctx = f(ctx)
		}
		return ctx
	}
}

// joinDone joins the funcs that field picks; nil if there are none.
func joinDone[T any](obs []*Observer, field func(*Observer) func(context.Context, T)) func(context.Context, T) {
	var fs []func(context.Context, T)
	for _, o := range obs {
		if f := field(o); f != nil {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return func(ctx context.Context, info T) {
		for _, f := range fs {
			f(ctx, info)
		}
	}
}

// withWorkOS returns ctx with o's WorkOS hooks in it, for the calls made
// with ctx through a [.Client] that has no Observer of its own.
func withWorkOS(ctx context.Context, o *Observer) context.Context {
	if o == nil || o.WorkOSCallStart == nil && o.WorkOSCallDone == nil {
		return ctx
	}
	return workos.WithObserver(ctx, &workos.Observer{CallStart: o.WorkOSCallStart, CallDone: o.WorkOSCallDone})
}

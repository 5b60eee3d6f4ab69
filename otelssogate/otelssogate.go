// Package otelssogate reports what ssogate does as OpenTelemetry metrics
// and traces: sign-ins by outcome, organization and connection, refused
// sessions, sign-outs, revocations, webhook deliveries, WorkOS calls, the
// connection cache and the backplane; spans for /login and /callback with
// their WorkOS calls as children, joined to the caller's trace.
//
// It lives in a module of its own, so that an app that does not use
// OpenTelemetry never has it in its go.mod:
//
//	tel, err := otelssogate.New(otelssogate.Config{}) // the global MeterProvider and TracerProvider
//	if err != nil {
//		log.Fatal(err)
//	}
//	cfg.Observer = tel.Observer()
//	gate, err := ssogate.New(cfg)
//	if err != nil {
//		log.Fatal(err)
//	}
//	if _, err := tel.Watch(gate); err != nil { // the gauges: revocations in force, caches, readiness
//		log.Fatal(err)
//	}
//
// Names follow OpenTelemetry's semantic conventions where they have one
// (error.type, http.request.method, http.response.status_code,
// url.template), and are under "ssogate." otherwise. Attributes are chosen
// so that their values are few: reasons, routes, outcomes, and the ids of
// organizations and connections that WorkOS vouched for, never ids from a
// request's query that it did not. Profile ids and emails are never
// attributes of metrics.
package otelssogate

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workos"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/ssogate/ssogate/otelssogate"

// Attribute keys of ssogate's own.
const (
	OutcomeKey        = attribute.Key("ssogate.outcome")         // success, failure, restarted; redirected, refused, page; caught_up, behind; applied, invalid
	RouteKey          = attribute.Key("ssogate.login.route")     // organization, connection, provider, email_domain, default, ask_email
	OrganizationKey   = attribute.Key("ssogate.organization.id") // org_...
	ConnectionKey     = attribute.Key("ssogate.connection.id")   // conn_...
	ConnectionTypeKey = attribute.Key("ssogate.connection.type") // OktaSAML, GoogleOAuth...
	ProviderKey       = attribute.Key("ssogate.provider")        // the OAuth provider asked for
	WorkOSCodeKey     = attribute.Key("ssogate.workos.error_code")
	StepUpKey         = attribute.Key("ssogate.step_up")
	GateKey           = attribute.Key("ssogate.gate")
	RevocationKindKey = attribute.Key("ssogate.revocation.kind")     // session, user, organization, connection
	ReceivedKey       = attribute.Key("ssogate.revocation.received") // from the backplane
	VerifiedKey       = attribute.Key("ssogate.webhook.verified")
	EventTypeKey      = attribute.Key("ssogate.webhook.event")
	AttemptsKey       = attribute.Key("ssogate.workos.attempts")
	RequestIDKey      = attribute.Key("ssogate.workos.request_id")
	LookupKey         = attribute.Key("ssogate.cache.lookup") // organization, domain, connection
	CacheResultKey    = attribute.Key("ssogate.cache.result") // hit, miss, stale, failed, limited
	VersionKey        = attribute.Key("ssogate.version")      // of ssogate.build.info
)

// Config configures [New].
type Config struct {
	// MeterProvider makes the meter. Default: otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider makes the tracer. Default: otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
}

// Telemetry turns ssogate's [ssogate.Observer] events into metrics and
// spans. Make one with [New]; it is safe for concurrent use.
type Telemetry struct {
	tracer trace.Tracer
	meter  metric.Meter

	logins, signIns, refusals, signOuts, revocations, webhooks, lookups, outages metric.Int64Counter
	eventPolls, events                                                           metric.Int64Counter
	loginDuration, callbackDuration, workosDuration, backplaneLag                metric.Float64Histogram

	backplaneDown atomic.Bool
	refusalSets   sync.Map // reason and gate -> attribute.Set
}

// New returns a Telemetry with its instruments made.
func New(cfg Config) (*Telemetry, error) {
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = otel.GetMeterProvider()
	}
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = otel.GetTracerProvider()
	}
	t := &Telemetry{
		meter:  cfg.MeterProvider.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL)),
		tracer: cfg.TracerProvider.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
	}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := t.meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	// Durations in seconds, with the buckets OpenTelemetry's HTTP
	// conventions advise.
	buckets := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := t.meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	t.logins = counter("ssogate.login.requests", "{request}", "Requests to /login, by route and outcome.")
	t.signIns = counter("ssogate.sign_ins", "{sign_in}", "Callbacks, by outcome, reason, organization and connection.")
	t.refusals = counter("ssogate.session.refusals", "{request}", "Gated requests refused, by reason and gate.")
	t.signOuts = counter("ssogate.sign_outs", "{sign_out}", "Sign-outs, by organization and connection.")
	t.revocations = counter("ssogate.revocations", "{revocation}", "Revocations made on this replica or received from the backplane.")
	t.webhooks = counter("ssogate.webhook.deliveries", "{delivery}", "Webhook deliveries, verified or refused.")
	t.lookups = counter("ssogate.connection_cache.lookups", "{lookup}", "Connection cache lookups, by kind and result.")
	t.outages = counter("ssogate.backplane.outages", "{outage}", "Outages of the backplane's store.")
	t.eventPolls = counter("ssogate.events.polls", "{poll}", "Polls of WorkOS's Events API by FollowEvents: caught up, behind, or failed.")
	t.events = counter("ssogate.events.handled", "{event}", "Events FollowEvents read from WorkOS's Events API: applied, or malformed and skipped.")
	t.loginDuration = histogram("ssogate.login.duration", "How long /login took.")
	t.callbackDuration = histogram("ssogate.callback.duration", "How long /callback took, WorkOS calls included.")
	t.workosDuration = histogram("ssogate.workos.call.duration", "How long a WorkOS API call took, retries included.")
	t.backplaneLag = histogram("ssogate.backplane.lag", "How long after a revocation was made it was applied here.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// Watch registers the gauges of g: the revocations in force, the sessions
// and connection lookups cached, and whether g serves sessions and its
// backplane is reachable. The gauges carry no attribute that tells
// Middlewares apart: watch one per Telemetry. The returned Registration
// unregisters them.
func (t *Telemetry) Watch(g *ssogate.Middleware) (metric.Registration, error) {
	var errs []error
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		o, err := t.meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return o
	}
	revs := gauge("ssogate.revocations.in_force", "{revocation}", "Revocations in force on this replica.")
	sessions := gauge("ssogate.session_cache.entries", "{session}", "Verified session cookies cached.")
	lookups := gauge("ssogate.connection_cache.entries", "{entry}", "Answers the connection cache holds.")
	ready := gauge("ssogate.ready", "", "1 while sessions are served, 0 while the revocations cannot be vouched for.")
	up := gauge("ssogate.backplane.up", "", "1 while the backplane's store is reachable, 0 during an outage.")
	behind := gauge("ssogate.events.since_caught_up", "s", "Seconds since FollowEvents last read every event of WorkOS's Events API; absent before it first did.")
	unshared := gauge("ssogate.revocations.unshared", "{revocation}", "Revocations made here that the backplane's store has not taken yet and retries.")
	build := gauge("ssogate.build.info", "", "1, with the ssogate version and Go version as attributes.")
	buildAttrs := metric.WithAttributes(VersionKey.String(workos.Version), semconv.ProcessRuntimeVersionKey.String(runtime.Version()))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := g.Stats()
		o.ObserveInt64(revs, int64(s.Revocations))
		o.ObserveInt64(sessions, int64(s.CachedSessions))
		o.ObserveInt64(lookups, int64(s.CachedLookups))
		o.ObserveInt64(ready, boolInt(s.Ready))
		o.ObserveInt64(up, boolInt(!t.backplaneDown.Load()))
		if !s.EventsCaughtUp.IsZero() {
			o.ObserveInt64(behind, int64(time.Since(s.EventsCaughtUp).Seconds()))
		}
		o.ObserveInt64(unshared, int64(s.UnsharedRevocations))
		o.ObserveInt64(build, 1, buildAttrs)
		return nil
	}, revs, sessions, lookups, ready, up, behind, unshared, build)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Observer returns the [ssogate.Observer] to put in [ssogate.Config]. The
// same one serves any number of Middlewares, clients and caches.
func (t *Telemetry) Observer() *ssogate.Observer {
	return &ssogate.Observer{
		LoginStart:       t.loginStart,
		LoginDone:        t.loginDone,
		CallbackStart:    t.callbackStart,
		CallbackDone:     t.callbackDone,
		SessionRefused:   t.sessionRefused,
		SignedOut:        t.signedOut,
		Revoked:          t.revoked,
		BackplaneChanged: t.backplaneChanged,
		WebhookDone:      t.webhookDone,
		EventsPolled:     t.eventsPolled,
		WorkOSCallStart:  t.workOSCallStart,
		WorkOSCallDone:   t.workOSCallDone,
		CacheLookup:      t.cacheLookup,
	}
}

func (t *Telemetry) loginStart(ctx context.Context) context.Context {
	return t.startInternal(ctx, "ssogate login")
}

func (t *Telemetry) callbackStart(ctx context.Context) context.Context {
	return t.startInternal(ctx, "ssogate callback")
}

// startInternal starts an internal span under the request's.
func (t *Telemetry) startInternal(ctx context.Context, name string) context.Context {
	ctx, _ = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
	return ctx
}

func (t *Telemetry) loginDone(ctx context.Context, info ssogate.LoginInfo) {
	outcome := "page"
	switch {
	case info.Redirected:
		outcome = "redirected"
	case info.Reason != "":
		outcome = "refused"
	}
	attrs := []attribute.KeyValue{OutcomeKey.String(outcome)}
	if info.Route != "" {
		attrs = append(attrs, RouteKey.String(string(info.Route)))
	}
	if info.Reason != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(info.Reason)))
	}
	opt := metric.WithAttributes(attrs...)
	t.logins.Add(ctx, 1, opt)
	t.loginDuration.Record(ctx, info.Duration.Seconds(), opt)

	span := trace.SpanFromContext(ctx)
	// The span may name what routing resolved, which came from WorkOS.
	if info.OrganizationID != "" && info.Reason == "" {
		attrs = append(attrs, OrganizationKey.String(info.OrganizationID))
	}
	if info.ConnectionID != "" && info.Reason == "" {
		attrs = append(attrs, ConnectionKey.String(info.ConnectionID))
	}
	if info.Provider != "" {
		attrs = append(attrs, ProviderKey.String(string(info.Provider)))
	}
	attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(info.Status))
	span.SetAttributes(attrs...)
	if info.Status >= 500 {
		span.SetStatus(codes.Error, string(info.Reason))
	}
	span.End()
}

func (t *Telemetry) callbackDone(ctx context.Context, info ssogate.CallbackInfo) {
	outcome := "failure"
	switch {
	case info.SignedIn:
		outcome = "success"
	case info.Restarted:
		outcome = "restarted"
	}
	attrs := []attribute.KeyValue{OutcomeKey.String(outcome)}
	if info.Reason != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(string(info.Reason)))
	}
	if info.WorkOSCode != "" {
		attrs = append(attrs, WorkOSCodeKey.String(info.WorkOSCode))
	}
	if info.OrganizationID != "" {
		attrs = append(attrs, OrganizationKey.String(info.OrganizationID))
	}
	if info.ConnectionID != "" {
		attrs = append(attrs, ConnectionKey.String(info.ConnectionID))
	}
	if info.ConnectionType != "" {
		attrs = append(attrs, ConnectionTypeKey.String(string(info.ConnectionType)))
	}
	if info.StepUp {
		attrs = append(attrs, StepUpKey.Bool(true))
	}
	opt := metric.WithAttributes(attrs...)
	t.signIns.Add(ctx, 1, opt)
	t.callbackDuration.Record(ctx, info.Duration.Seconds(), metric.WithAttributes(attrs[0]))

	span := trace.SpanFromContext(ctx)
	span.SetAttributes(append(attrs, semconv.HTTPResponseStatusCodeKey.Int(info.Status))...)
	if !info.SignedIn && !info.Restarted {
		span.SetStatus(codes.Error, string(info.Reason))
	}
	span.End()
}

func (t *Telemetry) sessionRefused(ctx context.Context, info ssogate.RefusalInfo) {
	key := string(info.Reason) + "\x00" + info.Gate
	v, ok := t.refusalSets.Load(key)
	if !ok {
		v, _ = t.refusalSets.LoadOrStore(key, attribute.NewSet(semconv.ErrorTypeKey.String(string(info.Reason)), GateKey.String(info.Gate)))
	}
	set := v.(attribute.Set)
	t.refusals.Add(ctx, 1, metric.WithAttributeSet(set))
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("ssogate.session.refused", trace.WithAttributes(set.ToSlice()...))
	}
}

func (t *Telemetry) signedOut(ctx context.Context, info ssogate.SignOutInfo) {
	t.signOuts.Add(ctx, 1, metric.WithAttributes(OrganizationKey.String(info.OrganizationID), ConnectionKey.String(info.ConnectionID)))
}

func (t *Telemetry) revoked(ctx context.Context, info ssogate.RevocationInfo) {
	if info.Resync {
		return // not news: the gauge of those in force shows them
	}
	var counts [5]int64 // by RevocationKind, 1 to 4
	for _, r := range info.Revocations {
		if int(r.Kind) < len(counts) {
			counts[r.Kind]++
		}
	}
	for kind, n := range counts {
		if n > 0 {
			t.revocations.Add(ctx, n, metric.WithAttributes(
				RevocationKindKey.String(ssogate.RevocationKind(kind).String()), ReceivedKey.Bool(info.Received)))
		}
	}
	if info.Received {
		t.backplaneLag.Record(ctx, info.Lag.Seconds())
	}
}

func (t *Telemetry) backplaneChanged(ctx context.Context, info ssogate.BackplaneInfo) {
	if info.Down && !t.backplaneDown.Swap(true) {
		t.outages.Add(ctx, 1)
	}
	if !info.Down {
		t.backplaneDown.Store(false)
	}
}

func (t *Telemetry) webhookDone(ctx context.Context, info ssogate.WebhookInfo) {
	attrs := []attribute.KeyValue{VerifiedKey.Bool(info.Verified), semconv.HTTPResponseStatusCodeKey.Int(info.Status)}
	if info.Verified && info.EventType != "" {
		attrs = append(attrs, EventTypeKey.String(info.EventType))
	}
	t.webhooks.Add(ctx, 1, metric.WithAttributes(attrs...))
}

func (t *Telemetry) eventsPolled(ctx context.Context, info ssogate.EventsInfo) {
	outcome := "behind"
	switch {
	case info.Err != nil:
		outcome = "failure"
	case info.CaughtUp:
		outcome = "caught_up"
	}
	t.eventPolls.Add(ctx, 1, metric.WithAttributes(OutcomeKey.String(outcome)))
	if info.Applied > 0 {
		t.events.Add(ctx, int64(info.Applied), metric.WithAttributes(OutcomeKey.String("applied")))
	}
	if info.Invalid > 0 {
		t.events.Add(ctx, int64(info.Invalid), metric.WithAttributes(OutcomeKey.String("invalid")))
	}
}

func (t *Telemetry) workOSCallStart(ctx context.Context, route string) context.Context {
	method, path, _ := strings.Cut(route, " ")
	ctx, _ = t.tracer.Start(ctx, route, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.URLTemplateKey.String(path)))
	return ctx
}

func (t *Telemetry) workOSCallDone(ctx context.Context, info workos.CallInfo) {
	method, path, _ := strings.Cut(info.Route, " ")
	attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method), semconv.URLTemplateKey.String(path)}
	if info.Status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCodeKey.Int(info.Status))
	}
	if info.Err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(info)))
	}
	t.workosDuration.Record(ctx, info.Duration.Seconds(), metric.WithAttributes(attrs...))

	span := trace.SpanFromContext(ctx)
	attrs = append(attrs, AttemptsKey.Int(info.Attempts))
	if info.RequestID != "" {
		attrs = append(attrs, RequestIDKey.String(info.RequestID))
	}
	span.SetAttributes(attrs...)
	if info.Err != nil {
		span.SetStatus(codes.Error, errorType(info))
	}
	span.End()
}

// errorType is a WorkOS call's error.type: WorkOS's error code, the status,
// or "_OTHER" when no response arrived.
func errorType(info workos.CallInfo) string {
	switch {
	case info.Code != "":
		return info.Code
	case info.Status != 0:
		return strconv.Itoa(info.Status)
	case errors.Is(info.Err, context.DeadlineExceeded):
		return "timeout"
	}
	return "_OTHER"
}

func (t *Telemetry) cacheLookup(ctx context.Context, info ssogate.CacheInfo) {
	t.lookups.Add(ctx, 1, metric.WithAttributes(LookupKey.String(info.Lookup), CacheResultKey.String(string(info.Result))))
}

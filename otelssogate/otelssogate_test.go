package otelssogate_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/otelssogate"
	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// app is an app gated by ssogate, signing in through an emulator, with
// OpenTelemetry's SDK reading its metrics and recording its spans. Every
// request it serves runs in a server span, as otelhttp would start it.
type app struct {
	t      *testing.T
	idp    *workostest.Server
	srv    *httptest.Server
	gate   *ssogate.Middleware
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	c      *http.Client
	outage func(error)
}

// backplane is a local backplane whose store can be said to fail.
type backplane struct {
	ssogate.Backplane
	mu   sync.Mutex
	subs []ssogate.Subscriber
}

func (b *backplane) Subscribe(s ssogate.Subscriber) func() {
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	return b.Backplane.Subscribe(s)
}

func newApp(t *testing.T) *app {
	t.Helper()
	idp := workostest.NewServer(workostest.WithAutoSignIn(workostest.AliceEmail))
	t.Cleanup(idp.Close)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	tel, err := otelssogate.New(otelssogate.Config{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	bp := &backplane{Backplane: ssogate.NewLocalBackplane()}
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        idp.APIKey,
		ClientID:      idp.ClientID,
		BaseURL:       idp.URL,
		RedirectURI:   srv.URL + "/callback",
		CookieSecrets: [][]byte{[]byte("0123456789abcdef0123456789abcdef-otel")},
		Backplane:     bp,
		Observer:      tel.Observer(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gate.Close() })
	reg, err := tel.Watch(gate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Unregister() })
	wh, err := ssogate.NewWebhookHandler(ssogate.WebhookConfig{Secret: "whsec_otel", Cache: gate.Connections()})
	if err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("/app", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })))
	mux.Handle("POST /webhooks/workos", wh)
	server := tp.Tracer("server")
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := server.Start(r.Context(), r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		mux.ServeHTTP(w, r.WithContext(ctx))
	})

	jar, _ := cookiejar.New(nil)
	return &app{
		t: t, idp: idp, srv: srv, gate: gate, reader: reader, spans: spans,
		c: &http.Client{Jar: jar, Timeout: 10 * time.Second},
		outage: func(err error) {
			bp.mu.Lock()
			defer bp.mu.Unlock()
			for _, s := range bp.subs {
				s.Outage(err)
			}
		},
	}
}

func (a *app) get(path string) *http.Response {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Accept", "text/html")
	res, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// metrics collects every metric, by name.
func (a *app) metrics() map[string]metricdata.Metrics {
	a.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := a.reader.Collect(context.Background(), &rm); err != nil {
		a.t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelssogate.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// matches reports whether set has every attribute of want.
func matches(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// count returns the sum of the counter name's points that have the
// attributes want, or of the histogram's counts.
func count(t *testing.T, ms map[string]metricdata.Metrics, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Errorf("no metric %s", name)
		return 0
	}
	var n int64
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += int64(p.Count)
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			if matches(p.Attributes, want) {
				n += p.Value
			}
		}
	default:
		t.Errorf("metric %s has data %T", name, m.Data)
	}
	return n
}

func TestMetrics(t *testing.T) {
	a := newApp(t)
	acme := []attribute.KeyValue{
		otelssogate.OrganizationKey.String(workostest.AcmeOrganizationID),
		otelssogate.ConnectionKey.String(workostest.AcmeConnectionID),
	}

	// Signed out: refused.
	a.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if res := a.get("/app"); res.StatusCode != http.StatusFound {
		t.Fatalf("/app signed out: %d", res.StatusCode)
	}
	// Signed in, following every redirect.
	a.c.CheckRedirect = nil
	if res := a.get("/login?connection=" + workostest.AcmeConnectionID); res.Request.URL.Path != "/" {
		t.Fatalf("sign-in ended at %s", res.Request.URL)
	}
	a.get("/login")
	a.get("/login?email=someone@unknown.example")
	// A callback WorkOS refuses the code of.
	a.c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == "/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res := a.get("/login?connection=" + workostest.AcmeConnectionID)
	cb, _ := url.Parse(res.Header.Get("Location"))
	q := cb.Query()
	q.Set("code", "made-up")
	a.get("/callback?" + q.Encode())
	a.c.CheckRedirect = nil
	// Sign out.
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if res, err := a.c.Do(req); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	// A forged webhook.
	req, _ = http.NewRequest(http.MethodPost, a.srv.URL+"/webhooks/workos", strings.NewReader(`{}`))
	req.Header.Set("WorkOS-Signature", workostest.SignWebhook("whsec_forged", time.Now(), []byte(`{}`)))
	if res, err := a.c.Do(req); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	a.outage(errors.New("connection refused"))

	ms := a.metrics()
	for _, c := range []struct {
		name string
		want int64
		attr []attribute.KeyValue
	}{
		{"ssogate.sign_ins", 1, append([]attribute.KeyValue{otelssogate.OutcomeKey.String("success"),
			otelssogate.ConnectionTypeKey.String("OktaSAML")}, acme...)},
		{"ssogate.sign_ins", 1, []attribute.KeyValue{otelssogate.OutcomeKey.String("failure"),
			attribute.String("error.type", "exchange_failed"), otelssogate.WorkOSCodeKey.String("invalid_grant"),
			// Before WorkOS returns a profile, what the login was started for.
			otelssogate.ConnectionKey.String(workostest.AcmeConnectionID)}},
		{"ssogate.login.requests", 2, []attribute.KeyValue{otelssogate.OutcomeKey.String("redirected"), otelssogate.RouteKey.String("connection")}},
		{"ssogate.login.requests", 1, []attribute.KeyValue{otelssogate.OutcomeKey.String("page"), otelssogate.RouteKey.String("ask_email")}},
		{"ssogate.login.requests", 1, []attribute.KeyValue{otelssogate.OutcomeKey.String("refused"),
			otelssogate.RouteKey.String("email_domain"), attribute.String("error.type", "unknown_domain")}},
		{"ssogate.login.duration", 4, nil},
		{"ssogate.callback.duration", 2, nil},
		{"ssogate.session.refusals", 1, []attribute.KeyValue{attribute.String("error.type", "no_session"), otelssogate.GateKey.String("RequireSSO")}},
		{"ssogate.sign_outs", 1, acme},
		{"ssogate.revocations", 1, []attribute.KeyValue{otelssogate.RevocationKindKey.String("session"), otelssogate.ReceivedKey.Bool(false)}},
		{"ssogate.backplane.lag", 1, nil},
		{"ssogate.webhook.deliveries", 1, []attribute.KeyValue{otelssogate.VerifiedKey.Bool(false), attribute.Int("http.response.status_code", 401)}},
		{"ssogate.connection_cache.lookups", 1, []attribute.KeyValue{otelssogate.LookupKey.String("connection"), otelssogate.CacheResultKey.String("miss")}},
		{"ssogate.connection_cache.lookups", 1, []attribute.KeyValue{otelssogate.LookupKey.String("connection"), otelssogate.CacheResultKey.String("hit")}},
		{"ssogate.workos.call.duration", 1, []attribute.KeyValue{attribute.String("http.request.method", "POST"),
			attribute.String("url.template", "/sso/token"), attribute.Int("http.response.status_code", 200)}},
		{"ssogate.workos.call.duration", 1, []attribute.KeyValue{attribute.String("url.template", "/sso/token"),
			attribute.Int("http.response.status_code", 400), attribute.String("error.type", "invalid_grant")}},
		{"ssogate.workos.call.duration", 1, []attribute.KeyValue{attribute.String("http.request.method", "GET"),
			attribute.String("url.template", "/connections/{id}")}},
		{"ssogate.backplane.outages", 1, nil},
		{"ssogate.revocations.in_force", 1, nil},
		{"ssogate.ready", 1, nil},
		{"ssogate.backplane.up", 0, nil},
		{"ssogate.connection_cache.entries", 2, nil},
		{"ssogate.revocations.unshared", 0, nil},
		{"ssogate.build.info", 1, []attribute.KeyValue{otelssogate.VersionKey.String(workos.Version), attribute.String("process.runtime.version", runtime.Version())}},
	} {
		if got := count(t, ms, c.name, c.attr...); got != c.want {
			t.Errorf("%s %v = %d, want %d", c.name, c.attr, got, c.want)
		}
	}
	if m := ms["ssogate.workos.call.duration"]; m.Unit != "s" {
		t.Errorf("WorkOS call duration unit %q, want s", m.Unit)
	}
	// No profile id or email in any metric's attributes.
	for name, m := range ms {
		if s, ok := m.Data.(metricdata.Sum[int64]); ok {
			for _, p := range s.DataPoints {
				for _, kv := range p.Attributes.ToSlice() {
					if v := kv.Value.String(); strings.HasPrefix(v, "prof_") || strings.Contains(v, "@") {
						t.Errorf("%s has attribute %s=%s", name, kv.Key, v)
					}
				}
			}
		}
	}
}

func TestSpans(t *testing.T) {
	a := newApp(t)
	a.get("/login?connection=" + workostest.AcmeConnectionID) // signs in
	a.get("/app")

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range a.spans.Ended() {
		byName[s.Name()] = s
	}
	attrs := func(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
		m := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			m[kv.Key] = kv.Value
		}
		return m
	}
	for _, name := range []string{"GET /login", "ssogate login", "GET /connections/{id}", "GET /callback", "ssogate callback", "POST /sso/token"} {
		if byName[name] == nil {
			t.Fatalf("no span %q; got %v", name, byName)
		}
	}
	parent := func(child, parent string) {
		t.Helper()
		c, p := byName[child], byName[parent]
		if c.Parent().SpanID() != p.SpanContext().SpanID() || c.SpanContext().TraceID() != p.SpanContext().TraceID() {
			t.Errorf("span %q is not a child of %q", child, parent)
		}
	}
	parent("ssogate login", "GET /login")
	parent("GET /connections/{id}", "ssogate login")
	parent("ssogate callback", "GET /callback")
	parent("POST /sso/token", "ssogate callback")

	cb := attrs(byName["ssogate callback"])
	for k, want := range map[attribute.Key]string{
		"ssogate.outcome":         "success",
		"ssogate.organization.id": workostest.AcmeOrganizationID,
		"ssogate.connection.id":   workostest.AcmeConnectionID,
		"ssogate.connection.type": "OktaSAML",
	} {
		if got := cb[k].String(); got != want {
			t.Errorf("callback span %s = %q, want %q", k, got, want)
		}
	}
	if got := cb["http.response.status_code"].AsInt64(); got != http.StatusSeeOther {
		t.Errorf("callback span status code %d", got)
	}
	tok := byName["POST /sso/token"]
	ta := attrs(tok)
	if tok.SpanKind() != trace.SpanKindClient || ta["http.request.method"].String() != "POST" || ta["url.template"].String() != "/sso/token" ||
		ta["http.response.status_code"].AsInt64() != 200 || ta["ssogate.workos.attempts"].AsInt64() != 1 || ta["ssogate.workos.request_id"].String() == "" {
		t.Errorf("token span: kind %v, attributes %v", tok.SpanKind(), ta)
	}
	login := attrs(byName["ssogate login"])
	if login["ssogate.outcome"].String() != "redirected" || login["ssogate.login.route"].String() != "connection" {
		t.Errorf("login span attributes %v", login)
	}

	// A refused request is an event on the request's span.
	a.spans.Reset()
	a.c.Jar, _ = cookiejar.New(nil)
	a.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	a.get("/app")
	for _, s := range a.spans.Ended() {
		if s.Name() != "GET /app" {
			continue
		}
		if len(s.Events()) != 1 || s.Events()[0].Name != "ssogate.session.refused" {
			t.Fatalf("events of the refused request's span: %v", s.Events())
		}
		got := attribute.NewSet(s.Events()[0].Attributes...)
		if !matches(got, []attribute.KeyValue{attribute.String("error.type", "no_session"), otelssogate.GateKey.String("RequireSSO")}) {
			t.Errorf("refusal event attributes %v", got.ToSlice())
		}
		return
	}
	t.Error("no span for the refused request")
}

// TestEventsPolled: FollowEvents' polls and the events they apply are
// counted, and how long since it last caught up is a gauge.
func TestEventsPolled(t *testing.T) {
	a := newApp(t)
	client, err := workos.NewClient(workos.ClientConfig{APIKey: a.idp.APIKey, ClientID: a.idp.ClientID, BaseURL: a.idp.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.gate.FollowEvents(ctx, client.ListEvents, 10*time.Millisecond)
	}()
	t.Cleanup(func() { cancel(); <-done })

	// The emulator has no webhook: only the poll can apply bob's removal.
	if err := a.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		ms := a.metrics()
		if _, ok := ms["ssogate.events.handled"]; ok && count(t, ms, "ssogate.events.handled", otelssogate.OutcomeKey.String("applied")) == 1 {
			if n := count(t, ms, "ssogate.events.polls", otelssogate.OutcomeKey.String("caught_up")); n < 1 {
				t.Errorf("ssogate.events.polls{caught_up} = %d, want at least 1", n)
			}
			if n := count(t, ms, "ssogate.events.polls", otelssogate.OutcomeKey.String("failure")); n != 0 {
				t.Errorf("ssogate.events.polls{failure} = %d, want 0", n)
			}
			if _, ok := ms["ssogate.events.since_caught_up"]; !ok {
				t.Error("no ssogate.events.since_caught_up gauge after polls that caught up")
			}
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("bob's removal was not counted as applied")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

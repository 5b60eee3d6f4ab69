package ssogate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// fakeDirectory is a Provider serving connection lookups from memory, with
// a call counter, an injectable failure and an optional gate that holds
// calls until released.
type fakeDirectory struct {
	Provider // the other methods are never called

	mu    sync.Mutex // guards conns and err
	conns []Connection
	err   error

	// ListConnectionsHook, if set, answers every listing, unfiltered.
	ListConnectionsHook func(workos.ListConnectionsOptions) []Connection

	calls atomic.Int64
	gate  chan struct{} // if not nil, calls wait for it to be closed
	// ctxErr records the context error a call saw when it returned.
	ctxErr atomic.Value
}

func (d *fakeDirectory) set(conns ...Connection) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conns = conns
}

func (d *fakeDirectory) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

func (d *fakeDirectory) wait(ctx context.Context) error {
	d.calls.Add(1)
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-ctx.Done():
		}
	}
	if err := ctx.Err(); err != nil {
		d.ctxErr.Store(err)
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

func (d *fakeDirectory) ListConnections(ctx context.Context, o workos.ListConnectionsOptions) (*workos.ConnectionList, error) {
	if err := d.wait(ctx); err != nil {
		return nil, err
	}
	if d.ListConnectionsHook != nil {
		return &workos.ConnectionList{Data: d.ListConnectionsHook(o)}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Connection
	for _, c := range d.conns {
		if o.OrganizationID != "" && c.OrganizationID != o.OrganizationID {
			continue
		}
		if o.Domain != "" && !hasDomain(&c, o.Domain) {
			continue
		}
		out = append(out, c)
	}
	return &workos.ConnectionList{Data: out}, nil
}

func (d *fakeDirectory) GetConnection(ctx context.Context, id string) (*Connection, error) {
	if err := d.wait(ctx); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		if c.ID == id {
			return &c, nil
		}
	}
	return nil, &workos.APIError{StatusCode: http.StatusNotFound, Method: "GET", Path: "/connections/" + id}
}

func acmeConnection() Connection {
	return Connection{
		ID: "conn_acme", OrganizationID: "org_acme", ConnectionType: workos.OktaSAML, State: workos.ConnectionActive,
		Domains:   []workos.ConnectionDomain{{Domain: "acme.com"}, {Domain: "ACME.co.uk"}},
		UpdatedAt: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC),
	}
}

// newTestCache returns a cache over d on the test clock, logging to logs.
func newTestCache(t *testing.T, d Provider, clock *testClock, logs *syncBuffer, modify ...func(*CacheConfig)) *ConnectionCache {
	t.Helper()
	cfg := CacheConfig{now: clock.Now, Logger: slog.New(slog.DiscardHandler)}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	for _, m := range modify {
		m(&cfg)
	}
	c, err := NewConnectionCache(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCalls checks the provider's call count.
func wantCalls(t *testing.T, d *fakeDirectory, want int64, when string) {
	t.Helper()
	if got := d.calls.Load(); got != want {
		t.Errorf("%s: got %d WorkOS calls, want %d", when, got, want)
	}
}

func TestCacheLookups(t *testing.T) {
	other := Connection{ID: "conn_other", OrganizationID: "org_acme", State: workos.ConnectionInactive}
	d := &fakeDirectory{}
	d.set(acmeConnection(), other)
	c := newTestCache(t, d, newTestClock(), nil)
	ctx := context.Background()

	org, err := c.Organization(ctx, "org_acme")
	if err != nil || org.OrganizationID != "org_acme" || len(org.Connections) != 2 || len(org.Active()) != 1 || org.Active()[0].ID != "conn_acme" {
		t.Fatalf("Organization = %+v, %v; want two connections, conn_acme active", org, err)
	}
	for _, domain := range []string{"acme.com", "ACME.COM", "acme.co.uk"} {
		set, err := c.Domain(ctx, domain)
		if err != nil || len(set.Active()) != 1 || set.Active()[0].ID != "conn_acme" || set.OrganizationID != "org_acme" {
			t.Errorf("Domain(%q) = %+v, %v; want conn_acme of org_acme", domain, set, err)
		}
	}
	conn, err := c.Connection(ctx, "conn_acme")
	if err != nil || conn.ID != "conn_acme" || !conn.Active() {
		t.Errorf("Connection = %+v, %v; want conn_acme, active", conn, err)
	}
	wantCalls(t, d, 4, "four distinct keys") // "ACME.COM" is "acme.com"

	for _, tc := range []struct {
		name   string
		lookup func() error
		want   error
	}{
		{"unknown organization", func() error { _, err := c.Organization(ctx, "org_nosuch"); return err }, ErrNoConnection},
		{"unknown domain", func() error { _, err := c.Domain(ctx, "nosuch.com"); return err }, ErrNoConnection},
		{"unknown connection", func() error { _, err := c.Connection(ctx, "conn_nosuch"); return err }, ErrNoConnection},
		{"malformed organization", func() error { _, err := c.Organization(ctx, "acme"); return err }, workos.ErrInvalidOptions},
		{"malformed connection", func() error { _, err := c.Connection(ctx, "conn_a/../b"); return err }, workos.ErrInvalidOptions},
		{"malformed domain", func() error { _, err := c.Domain(ctx, "acme .com"); return err }, ErrInvalidEmail},
	} {
		if err := tc.lookup(); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	wantCalls(t, d, 7, "after three unknown keys and three malformed ones")
}

func TestCacheDropsConnectionsThatDoNotMatch(t *testing.T) {
	d := &fakeDirectory{}
	// A faulty answer: connections of other organizations and domains,
	// and malformed ids, must never route a user.
	d.ListConnectionsHook = func(o workos.ListConnectionsOptions) []Connection {
		return []Connection{
			acmeConnection(),
			{ID: "conn_evil", OrganizationID: "org_evil", State: workos.ConnectionActive, Domains: []workos.ConnectionDomain{{Domain: "evil.com"}}},
			{ID: "conn_bad\"id", OrganizationID: "org_acme", State: workos.ConnectionActive, Domains: []workos.ConnectionDomain{{Domain: "acme.com"}}},
			{ID: "conn_badorg", OrganizationID: "org_<x>", State: workos.ConnectionActive, Domains: []workos.ConnectionDomain{{Domain: "acme.com"}}},
		}
	}
	c := newTestCache(t, d, newTestClock(), nil)
	for _, tc := range []struct {
		name   string
		lookup func() (*ConnectionSet, error)
	}{
		{"organization", func() (*ConnectionSet, error) { return c.Organization(context.Background(), "org_acme") }},
		{"domain", func() (*ConnectionSet, error) { return c.Domain(context.Background(), "acme.com") }},
	} {
		set, err := tc.lookup()
		if err != nil || len(set.Connections) != 1 || set.Connections[0].ID != "conn_acme" {
			t.Errorf("%s: got %+v, %v; want conn_acme only", tc.name, set, err)
		}
	}
}

func TestCacheTTLAndNegativeTTL(t *testing.T) {
	d := &fakeDirectory{}
	d.set(acmeConnection())
	clock := newTestClock()
	c := newTestCache(t, d, clock, nil)
	ctx := context.Background()
	lookups := func() {
		t.Helper()
		if _, err := c.Organization(ctx, "org_acme"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Domain(ctx, "nosuch.com"); !errors.Is(err, ErrNoConnection) {
			t.Fatalf("unknown domain: got %v, want ErrNoConnection", err)
		}
	}
	lookups()
	wantCalls(t, d, 2, "cold")
	// Within both TTLs, less their 10% jitter: nothing is asked again.
	clock.Advance(DefaultCacheNegativeTTL * 89 / 100)
	lookups()
	wantCalls(t, d, 2, "within the TTLs")
	// Past the negative TTL only.
	clock.Advance(DefaultCacheNegativeTTL * 12 / 100)
	lookups()
	wantCalls(t, d, 3, "past the negative TTL")
	// Past the TTL.
	clock.Advance(DefaultCacheTTL)
	lookups()
	wantCalls(t, d, 5, "past the TTL")
	// The domain now has a connection; the negative answer expires.
	conn := acmeConnection()
	conn.ID, conn.Domains = "conn_new", []workos.ConnectionDomain{{Domain: "nosuch.com"}}
	d.set(acmeConnection(), conn)
	clock.Advance(DefaultCacheNegativeTTL * 111 / 100)
	if set, err := c.Domain(ctx, "nosuch.com"); err != nil || set.Active()[0].ID != "conn_new" {
		t.Errorf("after the negative TTL: got %+v, %v; want conn_new", set, err)
	}
}

func TestCacheJitterSpreadsExpiry(t *testing.T) {
	seen := map[int64]bool{}
	for range 50 {
		j := jitter(DefaultCacheTTL)
		if j > int64(DefaultCacheTTL) || j < int64(DefaultCacheTTL)*9/10 {
			t.Fatalf("jitter(%v) = %v, want within the last 10%%", DefaultCacheTTL, time.Duration(j))
		}
		seen[j] = true
	}
	if len(seen) < 2 {
		t.Error("jitter gave the same TTL every time")
	}
}

func TestCacheConcurrentColdLookupsMakeOneCall(t *testing.T) {
	idp := workostest.NewServer()
	defer idp.Close()
	client, err := workos.NewClient(workos.ClientConfig{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewConnectionCache(client, CacheConfig{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			<-start
			set, err := c.Organization(context.Background(), workostest.AcmeOrganizationID)
			switch {
			case err != nil:
				errs <- err
			case len(set.Active()) != 1 || set.Active()[0].ID != workostest.AcmeConnectionID:
				errs <- fmt.Errorf("got %+v, want Acme's connection", set.Active())
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := idp.Count("GET /connections"); got != 1 {
		t.Errorf("%d concurrent cold lookups made %d WorkOS calls, want 1", n, got)
	}
}

func TestCacheCallerGivingUpDoesNotCancelTheSharedCall(t *testing.T) {
	d := &fakeDirectory{gate: make(chan struct{})}
	d.set(acmeConnection())
	c := newTestCache(t, d, newTestClock(), nil)

	impatient, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() {
		_, err := c.Organization(impatient, "org_acme")
		firstDone <- err
	}()
	for d.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	secondDone := make(chan error, 1)
	go func() {
		set, err := c.Organization(context.Background(), "org_acme")
		if err == nil && len(set.Active()) != 1 {
			err = fmt.Errorf("got %+v, want one active connection", set)
		}
		secondDone <- err
	}()
	cancel()
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Errorf("caller that gave up: got %v, want context.Canceled", err)
	}
	close(d.gate)
	if err := <-secondDone; err != nil {
		t.Errorf("caller still waiting: %v", err)
	}
	if err, _ := d.ctxErr.Load().(error); err != nil {
		t.Errorf("the shared WorkOS call saw %v, want its context left alone", err)
	}
	wantCalls(t, d, 1, "two callers of one key")
}

func TestCacheStaleIfError(t *testing.T) {
	d := &fakeDirectory{}
	d.set(acmeConnection())
	clock := newTestClock()
	logs := &syncBuffer{}
	c := newTestCache(t, d, clock, logs)
	ctx := context.Background()
	if _, err := c.Organization(ctx, "org_acme"); err != nil {
		t.Fatal(err)
	}

	d.fail(&workos.APIError{StatusCode: http.StatusBadGateway, Method: "GET", Path: "/connections"})
	clock.Advance(DefaultCacheTTL)
	for i := range 20 {
		set, err := c.Organization(ctx, "org_acme")
		if err != nil || len(set.Active()) != 1 {
			t.Fatalf("lookup %d while WorkOS fails: got %+v, %v; want the last known answer", i, set, err)
		}
	}
	wantCalls(t, d, 2, "20 lookups while WorkOS fails, within the backoff")
	if n := strings.Count(logs.String(), "connection lookups are failing"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, logs)
	}
	clock.Advance(failureBackoff)
	if _, err := c.Organization(ctx, "org_acme"); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, d, 3, "after the backoff")
	if n := strings.Count(logs.String(), "connection lookups are failing"); n != 1 {
		t.Errorf("failure logged %d times, want once", n)
	}

	// Past the stale window, the failure is the answer.
	clock.Advance(DefaultCacheStaleIfError)
	if _, err := c.Organization(ctx, "org_acme"); !errors.Is(err, workos.ErrServer) {
		t.Errorf("past the stale window: got %v, want the WorkOS failure", err)
	}

	// WorkOS recovers: fresh answers again, and the recovery is logged.
	d.fail(nil)
	clock.Advance(failureBackoff)
	if _, err := c.Organization(ctx, "org_acme"); err != nil {
		t.Errorf("after recovery: %v", err)
	}
	if !strings.Contains(logs.String(), "connection lookups recovered") {
		t.Errorf("recovery not logged:\n%s", logs)
	}
}

func TestCacheWaitsOutRetryAfter(t *testing.T) {
	d := &fakeDirectory{}
	d.fail(&workos.APIError{StatusCode: http.StatusTooManyRequests, RetryAfter: 30 * time.Second})
	clock := newTestClock()
	c := newTestCache(t, d, clock, nil)
	ctx := context.Background()
	for range 10 {
		if _, err := c.Domain(ctx, "acme.com"); !errors.Is(err, workos.ErrRateLimited) {
			t.Fatalf("got %v, want ErrRateLimited", err)
		}
		clock.Advance(2 * time.Second)
	}
	wantCalls(t, d, 1, "within Retry-After")
	clock.Advance(11 * time.Second)
	c.Domain(ctx, "acme.com")
	wantCalls(t, d, 2, "after Retry-After")
}

func TestCacheBoundedUnderRandomDomains(t *testing.T) {
	d := &fakeDirectory{}
	d.set(acmeConnection())
	clock := newTestClock()
	const max = 1000
	c := newTestCache(t, d, clock, nil, func(cfg *CacheConfig) {
		cfg.MaxEntries = max
		cfg.MaxFetchesPerMinute = -1
	})
	ctx := context.Background()
	for i := range 100000 {
		if _, err := c.Domain(ctx, fmt.Sprintf("r%d.example.com", i)); !errors.Is(err, ErrNoConnection) {
			t.Fatalf("random domain: got %v, want ErrNoConnection", err)
		}
		// A domain in real use, read all along, survives the flood.
		if i%100 == 0 {
			if _, err := c.Domain(ctx, "acme.com"); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.Len(); n > max {
			t.Fatalf("after %d random domains the cache holds %d entries, want at most %d", i+1, n, max)
		}
	}
	before := d.calls.Load()
	if _, err := c.Domain(ctx, "acme.com"); err != nil {
		t.Fatal(err)
	}
	if d.calls.Load() != before {
		t.Error("the domain in use was evicted by the flood")
	}
}

func TestCacheLimitsWorkOSCalls(t *testing.T) {
	d := &fakeDirectory{}
	d.set(acmeConnection())
	clock := newTestClock()
	c := newTestCache(t, d, clock, nil, func(cfg *CacheConfig) { cfg.MaxFetchesPerMinute = 60 })
	ctx := context.Background()
	if _, err := c.Organization(ctx, "org_acme"); err != nil {
		t.Fatal(err)
	}
	// The burst is a tenth of the minute's budget: 6 calls, one used.
	for i := range 5 {
		if _, err := c.Domain(ctx, fmt.Sprintf("d%d.example", i)); !errors.Is(err, ErrNoConnection) {
			t.Fatalf("miss %d within the burst: got %v", i, err)
		}
	}
	if _, err := c.Domain(ctx, "over.example"); !errors.Is(err, ErrLookupLimited) {
		t.Errorf("miss beyond the burst: got %v, want ErrLookupLimited", err)
	}
	wantCalls(t, d, 6, "burst")
	// Cached answers are still served.
	if _, err := c.Organization(ctx, "org_acme"); err != nil {
		t.Errorf("hit while limited: %v", err)
	}
	// One call a second comes back.
	clock.Advance(time.Second)
	if _, err := c.Domain(ctx, "over.example"); !errors.Is(err, ErrNoConnection) {
		t.Errorf("a second later: got %v, want ErrNoConnection", err)
	}
	wantCalls(t, d, 7, "a second later")
}

func TestCacheInvalidation(t *testing.T) {
	tests := []struct {
		name       string
		invalidate func(c *ConnectionCache)
		// which of the organization, domain and connection lookups must ask WorkOS again
		org, domain, conn bool
	}{
		{"connection", func(c *ConnectionCache) { c.InvalidateConnection("conn_acme") }, true, true, true},
		{"organization", func(c *ConnectionCache) { c.InvalidateOrganization("org_acme") }, true, true, true},
		{"domain", func(c *ConnectionCache) { c.InvalidateDomain("ACME.com") }, false, true, false},
		{"other connection", func(c *ConnectionCache) { c.InvalidateConnection("conn_other") }, false, false, false},
		{"purge", func(c *ConnectionCache) { c.Purge() }, true, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDirectory{}
			d.set(acmeConnection())
			c := newTestCache(t, d, newTestClock(), nil)
			ctx := context.Background()
			lookups := []struct {
				name  string
				run   func()
				again bool
			}{
				{"organization", func() { c.Organization(ctx, "org_acme") }, tc.org},
				{"domain", func() { c.Domain(ctx, "acme.com") }, tc.domain},
				{"connection", func() { c.Connection(ctx, "conn_acme") }, tc.conn},
			}
			for _, l := range lookups {
				l.run()
			}
			tc.invalidate(c)
			for _, l := range lookups {
				before := d.calls.Load()
				l.run()
				if asked := d.calls.Load() > before; asked != l.again {
					t.Errorf("%s lookup asked WorkOS: %v, want %v", l.name, asked, l.again)
				}
			}
		})
	}
}

func TestCacheInvalidationDuringALookupIsNotUndone(t *testing.T) {
	d := &fakeDirectory{gate: make(chan struct{})}
	d.set(acmeConnection())
	c := newTestCache(t, d, newTestClock(), nil)
	done := make(chan *ConnectionSet, 1)
	go func() {
		set, _ := c.Organization(context.Background(), "org_acme")
		done <- set
	}()
	for d.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// WorkOS deactivates the connection while the lookup is under way; the
	// lookup's answer (read before the change) comes back after the event.
	ev := connectionEvent(t, workos.EventConnectionDeactivated, acmeConnection(), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err := c.ApplyEvent(ev); err != nil {
		t.Fatal(err)
	}
	close(d.gate)
	if set := <-done; set == nil || len(set.Active()) != 0 {
		t.Errorf("lookup that raced the event: got %+v, want the connection inactive", set)
	}
	before := d.calls.Load()
	c.Organization(context.Background(), "org_acme")
	if d.calls.Load() == before {
		t.Error("the answer that predates the event was cached")
	}
}

func connectionEvent(t *testing.T, event string, conn Connection, at time.Time) *workos.Event {
	t.Helper()
	data := fmt.Sprintf(`{"object":"connection","id":%q,"organization_id":%q,"connection_type":"OktaSAML","state":"active","domains":[`, conn.ID, conn.OrganizationID)
	for i, dom := range conn.Domains {
		if i > 0 {
			data += ","
		}
		data += fmt.Sprintf(`{"object":"connection_domain","id":"org_domain_%d","domain":%q}`, i, dom.Domain)
	}
	data += `]}`
	return &workos.Event{ID: "event_" + strings.ReplaceAll(event, ".", "_"), Event: event, Data: []byte(data), CreatedAt: at}
}

func TestApplyEventOrdering(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	active := func(c *ConnectionCache) bool {
		t.Helper()
		set, err := c.Domain(context.Background(), "acme.com")
		return err == nil && len(set.Active()) == 1
	}
	t.Run("old activation after deletion", func(t *testing.T) {
		d := &fakeDirectory{}
		// WorkOS's reads lag behind: it still lists the deleted connection.
		d.set(acmeConnection())
		c := newTestCache(t, d, newTestClock(), nil)
		if !active(c) {
			t.Fatal("not active at first")
		}
		deleted := acmeConnection()
		deleted.Domains = nil // deletions carry no domains
		if err := c.ApplyEvent(connectionEvent(t, workos.EventConnectionDeleted, deleted, t0.Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
		if active(c) {
			t.Error("deleted connection still routes")
		}
		// A retried, older activation arrives days later.
		if err := c.ApplyEvent(connectionEvent(t, workos.EventConnectionActivated, acmeConnection(), t0)); err != nil {
			t.Fatal(err)
		}
		c.Purge()
		if active(c) {
			t.Error("an old activation brought back a deleted connection")
		}
		// Even a newer one cannot: deleted ids do not come back.
		c.ApplyEvent(connectionEvent(t, workos.EventConnectionActivated, acmeConnection(), t0.Add(48*time.Hour)))
		if active(c) {
			t.Error("an activation brought back a deleted connection")
		}
	})
	t.Run("deactivation, old activation, reactivation", func(t *testing.T) {
		d := &fakeDirectory{}
		d.set(acmeConnection()) // lagging: updated_at older than the events
		c := newTestCache(t, d, newTestClock(), nil)
		active(c)
		calls := d.calls.Load()
		c.ApplyEvent(connectionEvent(t, workos.EventConnectionDeactivated, acmeConnection(), t0.Add(time.Hour)))
		if active(c) {
			t.Error("deactivated connection still routes")
		}
		if d.calls.Load() != calls+1 {
			t.Error("the event did not make the cache ask WorkOS again")
		}
		calls = d.calls.Load()
		if err := c.ApplyEvent(connectionEvent(t, workos.EventConnectionActivated, acmeConnection(), t0)); err != nil {
			t.Fatal(err)
		}
		if active(c) {
			t.Error("an old activation brought back a deactivated connection")
		}
		if d.calls.Load() != calls {
			t.Error("an old event invalidated the cache")
		}
		// A real reactivation: WorkOS now says active, updated after the events.
		conn := acmeConnection()
		conn.UpdatedAt = t0.Add(2 * time.Hour)
		d.set(conn)
		c.ApplyEvent(connectionEvent(t, workos.EventConnectionActivated, conn, t0.Add(2*time.Hour)))
		if !active(c) {
			t.Error("a reactivated connection does not route")
		}
	})
	t.Run("events of the same instant", func(t *testing.T) {
		d := &fakeDirectory{}
		d.set(acmeConnection())
		c := newTestCache(t, d, newTestClock(), nil)
		active(c)
		c.ApplyEvent(connectionEvent(t, workos.EventConnectionDeactivated, acmeConnection(), t0))
		if active(c) {
			t.Error("deactivated connection still routes")
		}
		// Reactivated within the same millisecond: WorkOS's answer, updated
		// then, decides.
		conn := acmeConnection()
		conn.UpdatedAt = t0
		d.set(conn)
		calls := d.calls.Load()
		c.ApplyEvent(connectionEvent(t, workos.EventConnectionActivated, conn, t0))
		if !active(c) || d.calls.Load() != calls+1 {
			t.Error("an activation of the same instant was not looked up")
		}
		// A lagging read from before that instant stays inactive.
		conn.UpdatedAt = t0.Add(-time.Second)
		d.set(conn)
		c.Purge()
		if active(c) {
			t.Error("a lagging read undid a deactivation of the same instant as the activation")
		}
	})
	t.Run("events grant nothing WorkOS does not", func(t *testing.T) {
		d := &fakeDirectory{}
		conn := acmeConnection()
		conn.State = workos.ConnectionInactive
		d.set(conn)
		c := newTestCache(t, d, newTestClock(), nil)
		c.ApplyEvent(connectionEvent(t, workos.EventConnectionActivated, acmeConnection(), t0))
		if active(c) {
			t.Error("an activation event made a connection WorkOS says is inactive route")
		}
	})
}

func TestApplyEventRejectsMalformedEvents(t *testing.T) {
	c := newTestCache(t, &fakeDirectory{}, newTestClock(), nil)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		ev   *workos.Event
	}{
		{"no data", &workos.Event{Event: workos.EventConnectionDeleted, CreatedAt: at}},
		{"data not an object", &workos.Event{Event: workos.EventConnectionDeleted, Data: []byte(`"conn_x"`), CreatedAt: at}},
		{"malformed connection id", &workos.Event{Event: workos.EventConnectionDeleted, Data: []byte(`{"id":"conn_<x>"}`), CreatedAt: at}},
		{"organization as id", &workos.Event{Event: workos.EventConnectionDeleted, Data: []byte(`{"id":"org_acme"}`), CreatedAt: at}},
		{"no time", &workos.Event{Event: workos.EventConnectionDeleted, Data: []byte(`{"id":"conn_x"}`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.ApplyEvent(tc.ev); !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("got %v, want ErrInvalidEvent", err)
			}
		})
	}
	if err := c.ApplyEvent(&workos.Event{Event: "user.created", Data: []byte(`{}`)}); err != nil {
		t.Errorf("other event: got %v, want it ignored", err)
	}
}

func TestCacheEventRecordIsBounded(t *testing.T) {
	c := newTestCache(t, &fakeDirectory{}, newTestClock(), nil, func(cfg *CacheConfig) { cfg.MaxEntries = 16 })
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	deleted := Connection{ID: "conn_deleted", OrganizationID: "org_x"}
	c.ApplyEvent(connectionEvent(t, workos.EventConnectionDeleted, deleted, at))
	for i := range 100 {
		conn := Connection{ID: fmt.Sprintf("conn_%d", i), OrganizationID: "org_x"}
		c.ApplyEvent(connectionEvent(t, workos.EventConnectionDeactivated, conn, at.Add(time.Duration(i)*time.Second)))
	}
	c.mu.Lock()
	n, kept := len(c.events), c.events["conn_deleted"].deleted
	c.mu.Unlock()
	if n > 16 {
		t.Errorf("the event record holds %d connections, want at most 16", n)
	}
	if !kept {
		t.Error("the deletion was forgotten before older deactivations")
	}
}

func TestNewConnectionCacheRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   CacheConfig
		field string
	}{
		{"negative TTL", CacheConfig{TTL: -time.Second}, "CacheConfig.TTL"},
		{"negative negative TTL", CacheConfig{NegativeTTL: -time.Second}, "CacheConfig.NegativeTTL"},
		{"negative fetch timeout", CacheConfig{FetchTimeout: -time.Second}, "CacheConfig.FetchTimeout"},
		{"tiny bound", CacheConfig{MaxEntries: 3}, "CacheConfig.MaxEntries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewConnectionCache(&fakeDirectory{}, tc.cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Errorf("got %v, want a *ConfigError for %s", err, tc.field)
			}
		})
	}
	if _, err := NewConnectionCache(nil, CacheConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil provider: got %v, want a configuration error", err)
	}
}

func TestCacheDefaults(t *testing.T) {
	c, err := NewConnectionCache(&fakeDirectory{}, CacheConfig{})
	if err != nil {
		t.Fatal(err)
	}
	got := c.cfg
	if got.TTL != 5*time.Minute || got.NegativeTTL != time.Minute || got.StaleIfError != time.Hour ||
		got.MaxEntries != 10000 || got.MaxFetchesPerMinute != 1000 || got.FetchTimeout != 10*time.Second || got.Logger == nil {
		t.Errorf("defaults: got %+v", got)
	}
}

func TestCoarseClock(t *testing.T) {
	var c coarseClock
	c.base = time.Now()
	first := c.Now()
	deadline := time.Now().Add(10 * time.Second)
	for c.Now() <= first {
		if time.Now().After(deadline) {
			t.Fatal("the coarse clock did not advance while read")
		}
		time.Sleep(coarseResolution / 4)
	}
	// Unread, the timer stops; the next read is exact again.
	for c.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the coarse clock's timer did not stop when idle")
		}
		time.Sleep(coarseResolution)
	}
	before := int64(time.Since(c.base))
	if got := c.Now(); got < before {
		t.Errorf("after an idle period: got %v, want at least %v", time.Duration(got), time.Duration(before))
	}
}

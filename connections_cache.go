package ssogate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ssogate/ssogate/internal/sanitize"
	"github.com/ssogate/ssogate/workos"
)

// Errors of [ConnectionCache] lookups.
// Bounds on what one lookup takes from WorkOS and on how long a failure is
// waited out.
const (
	maxListedConnections = 1000 // connections kept from one listing
	failureBackoff       = 5 * time.Second
	maxRetryAfter        = 10 * time.Minute
	coarseResolution     = 100 * time.Millisecond
)

// CacheConfig configures a [ConnectionCache]. The zero value is ready to use.
type CacheConfig struct {
	// TTL is how long an answer is served before WorkOS is asked again.
	// Each entry's TTL is shortened by a random 0-10%, so that entries
	// cached together do not expire together. Default 5 minutes.
	TTL time.Duration
	// NegativeTTL is how long "WorkOS has no connection for this" is
	// remembered, for unknown domains, organizations and connection ids.
	// Default 1 minute.
	NegativeTTL time.Duration
	// StaleIfError is how long past its TTL an answer keeps being served
	// while WorkOS fails or rate limits. Default 1 hour; negative: never.
	StaleIfError time.Duration
	// MaxEntries bounds the number of cached answers, negative ones
	// included. When it is reached, entries past their stale window go
	// first, then entries not read since the previous eviction (a "second
	// chance" approximation of least recently used), down to 7/8 of the
	// bound. Default 10,000.
	MaxEntries int
	// MaxFetchesPerMinute bounds the WorkOS calls the cache makes, in
	// bursts of up to a tenth of it, so that a stream of lookups for
	// made-up domains cannot spend the API key's rate limit (6,000 requests
	// a minute, shared by every replica of the app). A miss beyond it gets
	// [ErrLookupLimited], or the stale answer if there is one. Default
	// 1,000; negative: no limit.
	MaxFetchesPerMinute int
	// FetchTimeout bounds one WorkOS lookup, retries included. It is not
	// cut short when the caller that started the lookup gives up, since
	// other callers may be waiting for it. Default 10 seconds.
	FetchTimeout time.Duration
	// Logger receives a warning when lookups start failing and a notice
	// when they recover: once per outage, not once per request. Default
	// slog.Default().
	Logger *slog.Logger
	// Observer receives every lookup (CacheLookup). Default: none; a cache
	// without one reports to the Observer of the [Middleware] configured
	// with it.
	Observer *Observer

	// now replaces the clock in tests.
	now func() time.Time
}

// ConnectionSet is the answer to a [ConnectionCache] lookup. It is shared
// between callers: treat it as read-only.
type ConnectionSet struct {
	// OrganizationID is the organization the connections belong to, or ""
	// if they belong to none or to more than one.
	OrganizationID string
	// Connections are the connections found, active or not.
	Connections []Connection

	active []Connection
}

// Active returns the connections users can sign in through.
func (s *ConnectionSet) Active() []Connection { return s.active }

func newConnectionSet(orgID string, conns []Connection) *ConnectionSet {
	s := &ConnectionSet{OrganizationID: orgID, Connections: conns}
	for _, c := range conns {
		if c.Active() {
			s.active = append(s.active, c)
		}
	}
	return s
}

func (s *ConnectionSet) has(connID string) bool {
	for i := range s.Connections {
		if s.Connections[i].ID == connID {
			return true
		}
	}
	return false
}

// A ConnectionCache answers the lookups that route a login to a connection
// (by organization, by email domain and by connection id) from memory,
// asking WorkOS through a [Provider] only when its answer is missing or old.
//
// Concurrent misses for one key make one WorkOS call, whose result they all
// get; a caller whose context ends stops waiting without cancelling that
// call. Answers expire after [CacheConfig].TTL; "no connection" answers
// after the shorter NegativeTTL. While WorkOS fails, the last answer keeps
// serving for StaleIfError, and the failure (or a 429's Retry-After) is
// waited out rather than retried on every request. Memory is bounded by
// MaxEntries whatever the lookups.
//
// WorkOS's connection events keep it fresh: see [NewWebhookHandler] and
// [ConnectionCache.ApplyEvent]. The methods are safe for concurrent use.
type ConnectionCache struct {
	provider Provider
	cfg      CacheConfig
	log      *slog.Logger

	// base is the origin of the cache's clock, which counts nanoseconds
	// from it: monotonic, and cheap to compare.
	base    time.Time
	coarse  coarseClock
	nowFn   func() time.Time
	precise bool // the clock is injected: read it exactly, hits included

	flights singleflight.Group
	// entries holds the answers by kind. Reads take no lock.
	entries [numKinds]sync.Map // key string -> *lookupEntry
	// gen counts invalidations. A lookup that started before one does not
	// store its answer, which may predate the change.
	gen     atomic.Uint64
	failing atomic.Bool // lookups are failing: the warning was logged

	// mu guards count, events and the writes to entries.
	mu     sync.Mutex
	count  int
	events map[string]connectionEventState

	// onEvent, if set, shares an applied connection event: the
	// [Middleware] that uses the cache revokes and publishes through it.
	onEvent atomic.Pointer[eventHook]

	// limit is the token bucket of MaxFetchesPerMinute.
	limit *rateLimit

	obs atomic.Pointer[Observer]
}

type lookupKind uint8

const (
	kindOrganization lookupKind = iota
	kindDomain
	kindConnection
	numKinds
)

// lookupEntry is one answer. Only ref changes after it is stored; a new
// answer replaces the entry.
type lookupEntry struct {
	set   *ConnectionSet // nil if err is set
	err   error          // ErrNoConnection, or the failure being waited out
	fresh int64          // served without asking WorkOS until then
	stale int64          // served while WorkOS fails until then
	ref   atomic.Bool    // read since the last eviction pass
}

// connectionEventState is the newest event applied for a connection, which
// older events cannot undo.
type connectionEventState struct {
	at       time.Time
	inactive bool
	deleted  bool
}

// NewConnectionCache returns a cache over p. An invalid field of cfg is
// reported as a [*ConfigError].
func NewConnectionCache(p Provider, cfg CacheConfig) (*ConnectionCache, error) {
	if p == nil {
		return nil, &ConfigError{Field: "Provider", Problem: "required"}
	}
	durations := []struct {
		field string
		d     *time.Duration
		def   time.Duration
	}{
		{"CacheConfig.TTL", &cfg.TTL, DefaultCacheTTL},
		{"CacheConfig.NegativeTTL", &cfg.NegativeTTL, DefaultCacheNegativeTTL},
		{"CacheConfig.FetchTimeout", &cfg.FetchTimeout, DefaultCacheFetchTimeout},
	}
	for _, f := range durations {
		switch {
		case *f.d == 0:
			*f.d = f.def
		case *f.d < 0:
			return nil, &ConfigError{Field: f.field, Problem: "must not be negative"}
		}
	}
	switch {
	case cfg.StaleIfError == 0:
		cfg.StaleIfError = DefaultCacheStaleIfError
	case cfg.StaleIfError < 0:
		cfg.StaleIfError = 0
	}
	switch {
	case cfg.MaxEntries == 0:
		cfg.MaxEntries = DefaultCacheMaxEntries
	case cfg.MaxEntries < 8:
		return nil, &ConfigError{Field: "CacheConfig.MaxEntries", Problem: "must be at least 8"}
	}
	if cfg.MaxFetchesPerMinute == 0 {
		cfg.MaxFetchesPerMinute = DefaultMaxFetchesPerMinute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &ConnectionCache{
		provider: p,
		cfg:      cfg,
		log:      cfg.Logger,
		nowFn:    cfg.now,
		events:   make(map[string]connectionEventState),
	}
	if c.nowFn == nil {
		c.nowFn = time.Now
	} else {
		c.precise = true
	}
	c.base = c.nowFn()
	c.coarse.base = c.base
	c.limit = newRateLimit(cfg.MaxFetchesPerMinute)
	if cfg.Observer != nil {
		c.obs.Store(cfg.Observer)
	}
	return c, nil
}

// preciseNow is the cache's clock, read exactly.
func (c *ConnectionCache) preciseNow() int64 { return int64(c.nowFn().Sub(c.base)) }

// Organization returns the connections of an organization (org_...). An
// organization with no connection (or one WorkOS does not know) is
// [ErrNoConnection]; one whose connections are all inactive is a set whose
// Active is empty.
func (c *ConnectionCache) Organization(ctx context.Context, id string) (*ConnectionSet, error) {
	if s, err, ok := c.hit(ctx, kindOrganization, id); ok {
		return s, err
	}
	if !validPrefixedID(id, "org_") {
		return nil, fmt.Errorf("%w: not an organization id", workos.ErrInvalidOptions)
	}
	return c.miss(ctx, kindOrganization, id)
}

// Domain returns the connections whose domains include an email domain,
// such as "acme.com". The domain is normalized as [NormalizeDomain] does;
// one it refuses is [ErrInvalidEmail]. A domain no connection has is
// [ErrNoConnection].
func (c *ConnectionCache) Domain(ctx context.Context, domain string) (*ConnectionSet, error) {
	if s, err, ok := c.hit(ctx, kindDomain, domain); ok {
		return s, err
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	if d != domain {
		if s, err, ok := c.hit(ctx, kindDomain, d); ok {
			return s, err
		}
	}
	return c.miss(ctx, kindDomain, d)
}

// Connection returns the connection with the given id (conn_...). An id
// WorkOS does not know is [ErrNoConnection]. The connection is shared:
// treat it as read-only.
func (c *ConnectionCache) Connection(ctx context.Context, id string) (*Connection, error) {
	s, err, ok := c.hit(ctx, kindConnection, id)
	if !ok {
		if !validPrefixedID(id, "conn_") {
			return nil, fmt.Errorf("%w: not a connection id", workos.ErrInvalidOptions)
		}
		s, err = c.miss(ctx, kindConnection, id)
	}
	if err != nil {
		return nil, err
	}
	return &s.Connections[0], nil
}

// hit returns the fresh answer for key, if there is one. Only checked,
// normalized keys are ever stored, so a hit needs no check of its own: the
// key must be the same string.
func (c *ConnectionCache) hit(ctx context.Context, k lookupKind, key string) (*ConnectionSet, error, bool) {
	v, ok := c.entries[k].Load(key)
	if !ok {
		return nil, nil, false
	}
	e := v.(*lookupEntry)
	var now int64
	if c.precise {
		now = c.preciseNow()
	} else {
		now = c.coarse.Now()
	}
	if now >= e.fresh {
		return nil, nil, false
	}
	// Write the flag only when it changes: a store on every hit would
	// bounce the entry's cache line between cores.
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	c.observe(ctx, k, CacheHit)
	return e.set, e.err, true
}

// cachedName returns the name of a connection the cache holds, fresh or
// not, without asking WorkOS.
func (c *ConnectionCache) cachedName(id string) string {
	if v, ok := c.entries[kindConnection].Load(id); ok {
		if e := v.(*lookupEntry); e.set != nil && len(e.set.Connections) > 0 {
			return sanitize.Text(e.set.Connections[0].Name, 100, nil)
		}
	}
	return ""
}

// lookupNames are the lookup kinds' names for observers.
var lookupNames = [numKinds]string{"organization", "domain", "connection"}

// observe reports a lookup to the cache's observer, if it has one.
func (c *ConnectionCache) observe(ctx context.Context, k lookupKind, res CacheResult) {
	if obs := c.obs.Load(); obs != nil && obs.CacheLookup != nil {
		obs.CacheLookup(ctx, CacheInfo{Lookup: lookupNames[k], Result: res})
	}
}

func (c *ConnectionCache) miss(ctx context.Context, k lookupKind, key string) (*ConnectionSet, error) {
	gen := c.gen.Load()
	// The generation is part of the flight's key, so that a lookup that
	// starts after an invalidation never joins one that started before it.
	flight := strconv.Itoa(int(k)) + "/" + strconv.FormatUint(gen, 10) + "/" + key
	fetchCtx := context.WithoutCancel(ctx)
	ch := c.flights.DoChan(flight, func() (any, error) {
		return c.refresh(fetchCtx, k, key, gen), nil
	})
	select {
	case r := <-ch:
		e := r.Val.(*lookupEntry)
		return e.set, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// refresh asks WorkOS for key and stores the answer. It returns the entry
// to answer with: the new answer, a stale one while WorkOS fails, or the
// failure.
func (c *ConnectionCache) refresh(ctx context.Context, k lookupKind, key string, gen uint64) *lookupEntry {
	now := c.preciseNow()
	var old *lookupEntry
	if v, ok := c.entries[k].Load(key); ok {
		old = v.(*lookupEntry)
		if now < old.fresh {
			return old // refreshed while this call waited for the flight
		}
	}
	servesStale := old != nil && old.set != nil && now < old.stale
	if !c.limit.allow(now) {
		c.failed(ErrLookupLimited)
		if servesStale {
			c.observe(ctx, k, CacheStale)
			return old
		}
		c.observe(ctx, k, CacheLimited)
		return &lookupEntry{err: ErrLookupLimited}
	}

	ctx, cancel := context.WithTimeout(ctx, c.cfg.FetchTimeout)
	defer cancel()
	set, err := c.fetch(ctx, k, key)
	now = c.preciseNow()
	var e *lookupEntry
	switch {
	case err == nil || errors.Is(err, workos.ErrNotFound):
		c.recovered()
		e = c.answer(now, set)
		c.observe(ctx, k, CacheMiss)
	case servesStale:
		c.failed(err)
		e = &lookupEntry{set: old.set, err: old.err, fresh: now + int64(waitOut(err)), stale: old.stale}
		c.observe(ctx, k, CacheStale)
	default:
		c.failed(err)
		e = &lookupEntry{err: err, fresh: now + int64(waitOut(err))}
		c.observe(ctx, k, CacheFailed)
	}
	return c.store(k, key, e, gen, now)
}

// answer makes the entry of a successful lookup.
func (c *ConnectionCache) answer(now int64, set *ConnectionSet) *lookupEntry {
	if set == nil || len(set.Connections) == 0 {
		fresh := now + jitter(c.cfg.NegativeTTL)
		return &lookupEntry{err: ErrNoConnection, fresh: fresh, stale: fresh}
	}
	fresh := now + jitter(c.cfg.TTL)
	return &lookupEntry{set: set, fresh: fresh, stale: fresh + int64(c.cfg.StaleIfError)}
}

// jitter shortens ttl by a random 0-10%.
func jitter(ttl time.Duration) int64 {
	return int64(ttl) - mathrand.Int64N(int64(ttl)/10+1)
}

// waitOut is how long a failure is waited out before WorkOS is asked again:
// what a 429 asked for, or a few seconds.
func waitOut(err error) time.Duration {
	var apiErr *workos.APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return min(apiErr.RetryAfter, maxRetryAfter)
	}
	return failureBackoff
}

// failed logs the first failure of an outage.
func (c *ConnectionCache) failed(err error) {
	if !c.failing.Swap(true) {
		c.log.Warn("ssogate: connection lookups are failing; serving cached answers where possible", "err", err)
	}
}

// recovered logs the end of an outage.
func (c *ConnectionCache) recovered() {
	if c.failing.Load() && c.failing.Swap(false) {
		c.log.Info("ssogate: connection lookups recovered")
	}
}

// store saves e for key unless an invalidation happened since the lookup
// started, applies the connection events the cache has seen to it, and
// returns the entry to answer with.
func (c *ConnectionCache) store(k lookupKind, key string, e *lookupEntry, gen uint64, now int64) *lookupEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.set != nil {
		if set := c.overlayLocked(e.set); set != e.set {
			if set == nil {
				e = &lookupEntry{err: ErrNoConnection, fresh: e.fresh, stale: e.fresh}
			} else {
				e = &lookupEntry{set: set, err: e.err, fresh: e.fresh, stale: e.stale}
			}
		}
	}
	if c.gen.Load() != gen {
		return e
	}
	if _, loaded := c.entries[k].Swap(key, e); !loaded {
		c.count++
		if c.count > c.cfg.MaxEntries {
			c.evictLocked(now)
		}
	}
	return e
}

// overlayLocked applies the events seen to a set from WorkOS, whose reads
// may lag behind its events: a deleted connection is dropped, and one
// deactivated after WorkOS last updated it is marked inactive. Events only
// ever take access away; only WorkOS's own answer grants it. It returns
// nil if no connection is left.
func (c *ConnectionCache) overlayLocked(s *ConnectionSet) *ConnectionSet {
	if len(c.events) == 0 {
		return s
	}
	changed := false
	out := make([]Connection, 0, len(s.Connections))
	for _, conn := range s.Connections {
		ev, ok := c.events[conn.ID]
		switch {
		case ok && ev.deleted:
			changed = true
			continue
		case ok && ev.inactive && conn.UpdatedAt.Before(ev.at) && conn.Active():
			conn.State = workos.ConnectionInactive
			changed = true
		}
		out = append(out, conn)
	}
	switch {
	case !changed:
		return s
	case len(out) == 0:
		return nil
	}
	return newConnectionSet(s.OrganizationID, out)
}

// evictLocked brings the entries down to 7/8 of MaxEntries: first those
// past their stale window, then those not read since the last pass (whose
// flag each pass clears), then any.
func (c *ConnectionCache) evictLocked(now int64) {
	target := c.cfg.MaxEntries - c.cfg.MaxEntries/8
	drop := func(keep func(*lookupEntry) bool) {
		for k := range c.entries {
			c.entries[k].Range(func(key, v any) bool {
				if c.count <= target {
					return false
				}
				if !keep(v.(*lookupEntry)) {
					c.entries[k].Delete(key)
					c.count--
				}
				return true
			})
		}
	}
	drop(func(e *lookupEntry) bool { return now < e.fresh || now < e.stale })
	drop(func(e *lookupEntry) bool { return e.ref.Swap(false) })
	drop(func(*lookupEntry) bool { return false })
}

// fetch asks WorkOS. Every connection in the answer is checked: one with a
// malformed id, or that does not match what was asked for, is dropped, so a
// faulty answer cannot route a user to someone else's connection.
func (c *ConnectionCache) fetch(ctx context.Context, k lookupKind, key string) (*ConnectionSet, error) {
	ctx = withWorkOS(ctx, c.obs.Load())
	if k == kindConnection {
		conn, err := c.provider.GetConnection(ctx, key)
		if err != nil {
			return nil, err
		}
		if conn.ID != key || !wellFormed(conn) {
			return nil, fmt.Errorf("ssogate: workos answered connection %q for another id", sanitizeForLog(key))
		}
		return newConnectionSet(conn.OrganizationID, []Connection{*conn}), nil
	}
	opts := workos.ListConnectionsOptions{Limit: 100}
	match := func(conn *Connection) bool { return conn.OrganizationID == key }
	if k == kindOrganization {
		opts.OrganizationID = key
	} else {
		opts.Domain = key
		match = func(conn *Connection) bool { return hasDomain(conn, key) }
	}
	var conns []Connection
	for conn, err := range workos.AllConnections(ctx, c.provider.ListConnections, opts) {
		if err != nil {
			return nil, err
		}
		if wellFormed(&conn) && match(&conn) {
			conns = append(conns, conn)
		}
		if len(conns) == maxListedConnections {
			break
		}
	}
	orgID := ""
	for i, conn := range conns {
		if i == 0 {
			orgID = conn.OrganizationID
		} else if conn.OrganizationID != orgID {
			orgID = ""
			break
		}
	}
	return newConnectionSet(orgID, conns), nil
}

// wellFormed reports whether a connection from WorkOS has ids that are safe
// to route by.
func wellFormed(conn *Connection) bool {
	return validPrefixedID(conn.ID, "conn_") && (conn.OrganizationID == "" || validPrefixedID(conn.OrganizationID, "org_"))
}

func hasDomain(conn *Connection, domain string) bool {
	for _, d := range conn.Domains {
		if n, err := NormalizeDomain(d.Domain); err == nil && n == domain {
			return true
		}
	}
	return false
}

// Len returns the number of cached answers, negative ones included.
func (c *ConnectionCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// coarseClock reads the cache's clock to within coarseResolution in a few
// nanoseconds, where time.Now would cost more than the rest of a cache hit.
// While it is being read, a timer refreshes it; the timer stops after one
// period without reads, so an idle cache runs nothing.
type coarseClock struct {
	base    time.Time
	now     atomic.Int64 // nanoseconds since base
	read    atomic.Bool  // read since the last tick
	running atomic.Bool  // a tick is scheduled
}

// Now returns the time since base. When the timer is not running the reader
// sets the time itself before starting it, so a value stored before an idle
// period is never returned.
func (c *coarseClock) Now() int64 {
	if c.running.Load() {
		if !c.read.Load() {
			c.read.Store(true)
		}
		return c.now.Load()
	}
	return c.restart()
}

// restart reads the time exactly and starts the timer.
func (c *coarseClock) restart() int64 {
	t := int64(time.Since(c.base))
	c.now.Store(t)
	c.read.Store(true)
	if c.running.CompareAndSwap(false, true) {
		time.AfterFunc(coarseResolution, c.tick)
	}
	return t
}

func (c *coarseClock) tick() {
	c.now.Store(int64(time.Since(c.base)))
	if c.read.Swap(false) {
		time.AfterFunc(coarseResolution, c.tick)
		return
	}
	c.running.Store(false)
}

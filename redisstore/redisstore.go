// Package redisstore shares ssogate's revocations and connection events
// between the replicas of an app through Redis: a revocation made on one
// replica (a sign-out, [ssogate.Middleware.Revoke], a connection removed by
// a webhook) holds on every replica within milliseconds, and a webhook
// delivered to one replica refreshes every replica's connection cache.
//
//	store, err := redisstore.Open(os.Getenv("REDIS_URL"), redisstore.Options{}) // redis://host:6379/0
//	if err != nil {
//		log.Fatal(err)
//	}
//	cfg.Backplane = store // every replica: the same Redis, the same CookieSecrets
//	gate, err := ssogate.New(cfg)
//
// and close the store ([Store.Close]) when the app stops.
//
// # How it uses Redis
//
// Three keys, under one hash tag so that Redis Cluster keeps them on one
// node: a sorted set of the revocations in force, scored by when they
// expire (a revocation is kept until no session it matches can be alive);
// a stream of updates, trimmed to [Options].LogRetention; and an epoch, a
// random value that tells a Redis that lost its data from one that did not.
// Every change is added to the set and the stream by one script, which
// trims both by Redis's clock, never a replica's. Beside them, the cursor of
// [ssogate.Middleware.FollowEvents] (the Store is its [ssogate.CursorStore])
// is one more key, moved by compare-and-swap and kept 30 days.
//
// A replica reads the whole set once, when its [ssogate.Middleware] is made,
// noting first where the stream ends. From then on it reads the stream
// from where it stopped (XREAD BLOCK): its work and its traffic grow with
// the rate of changes, not with how many revocations are in force. With
// nothing changing, each replica asks Redis one small question every few
// seconds. The store needs Redis 7.0 or later.
//
// Checking a request never calls Redis: each replica holds the revocations
// in memory.
//
// # Nothing lost
//
// A replica resumes the stream only where it can prove that it missed
// nothing; on any doubt it writes back every revocation it holds and reads
// the whole set again. The proof, checked by a read-only script each time
// it asks Redis:
//
//   - the epoch is the one it read: otherwise Redis lost its data (a
//     restart without persistence, or the key evicted);
//   - the set holds the epoch's marker, a member that only a full write-back
//     adds: otherwise the set was evicted or deleted on its own;
//   - Redis's replication id (INFO replication) is the one it read from:
//     otherwise Redis's history changed (a failover, a split brain healed,
//     a restart from an older snapshot), and stream ids of two histories
//     must not be compared;
//   - the stream still holds the last entry it read, and the number of
//     entries Redis added since (XINFO STREAM's entries-added) is the number
//     it finds after that entry: otherwise entries were trimmed away while
//     it was gone, or the stream was lost.
//
// Until a replica has read the revocations in force, it refuses every
// session (503), so that a replica started while Redis is down does not
// accept cookies signed out before; [Options].ServeBeforeSync opts out.
// A replica that finds Redis's data brand new waits [Options].WriteBackGrace
// for the running replicas to write back before it trusts it.
//
// While Redis is down, replicas keep serving with the revocations they know,
// unless [Options].FailClosed, which a health check engages within about a
// second, blackholed connections included. The outage is logged once when it
// starts and once when it ends. A revocation made meanwhile holds at once on
// the replica that made it; [Store.Publish] returns within [Options].Timeout
// whatever its context, reporting that it is not stored (so
// [ssogate.Middleware.Revoke] returns an error matching
// [ssogate.ErrNotShared]), and the store retries it every
// [Options].RetryInterval until Redis takes it, and once more in
// [Store.Close]. [Options].MinReplicas makes Publish wait until that
// many Redis replicas have the write (WAIT).
//
// Redis must keep what it is given: run it with maxmemory-policy noeviction
// (or a volatile-* policy, which leaves keys without a TTL alone) and, with
// replicas, min-replicas-to-write 1 so that a primary cut off from its
// replicas refuses writes instead of acknowledging what a failover will
// drop. The store warns when it starts on an allkeys-* policy. A Redis out
// of memory under noeviction refuses writes but still serves the reads
// that keep replicas in sync, and the store says so rather than calling it
// an outage.
//
// # Upgrading from the previous format
//
// Replicas of the previous version of this package kept a JSON sorted set
// ({Prefix}revocations, without braces) and published on a channel
// ({Prefix}updates). While any of them is subscribed there, the store
// carries revocations over both ways: what they publish is written into
// the new set and stream, and what this store publishes is added to their
// set and channel. The store logs when such replicas appear and when the
// last is gone. On Redis Cluster, only those connected to the node that
// holds the store's keys are seen: upgrade a Cluster deployment at once.
//
// # Trust
//
// What Redis holds can only take access away, never grant it: a revocation
// ends sessions, an event empties caches. Records and entries that do not
// decode, or name a malformed id, are skipped and logged (by count, never by
// content). Keep Redis private all the same: whoever can write to it can
// sign every user out.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/ssogate/ssogate"
)

// Defaults of [Options].
const (
	DefaultPrefix        = "ssogate:"
	DefaultLogRetention  = 10 * time.Minute
	DefaultRetryInterval = time.Second
	DefaultTimeout       = 5 * time.Second
	// DefaultWriteBackGrace leaves the running replicas a blocking read
	// and a retry to notice that Redis lost its data and write back.
	DefaultWriteBackGrace = followBlock + time.Second
)

// followBlock is how long a replica waits on the stream before it asks
// Redis again whether it lost data.
const followBlock = 5 * time.Second

// With [Options].FailClosed, Redis is asked every healthInterval whether
// it answers, and counts as down when it has not within healthTimeout.
const (
	healthInterval = 400 * time.Millisecond
	healthTimeout  = 800 * time.Millisecond
)

// maxSkew is how far a replica's clock may be from Redis's before the
// store warns: revocations are trimmed by Redis's clock and sessions
// expire by the replicas'.
const maxSkew = 2 * time.Second

// scanCount is how many members one ZSCAN asks for when the whole set is read.
const scanCount = 5000

// maxPrealloc bounds the revocations a read of the set makes room for at
// once (a set larger still grows as it is read).
const maxPrealloc = 1 << 22

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix names the store's keys, {Prefix}revocations, {Prefix}log and
	// {Prefix}epoch, so that several apps can share one Redis database.
	// The braces are a Redis Cluster hash tag. Default "ssogate:".
	Prefix string
	// LogRetention is how long the stream keeps updates, by Redis's clock:
	// a replica away for longer (a network partition, a long pause) reads
	// the whole set when it is back. Default 10 minutes.
	LogRetention time.Duration
	// RetryInterval is how often revocations that Redis did not take are
	// tried again, and how often a lost Redis is tried while it is down.
	// Default 1 s.
	RetryInterval time.Duration
	// Timeout bounds each Redis call the store makes, [Store.Publish]
	// included whatever its context, and the first read of the
	// revocations when a Middleware subscribes. Default 5 s.
	Timeout time.Duration
	// FailClosed makes replicas refuse every session while they cannot
	// vouch for knowing every revocation: from the moment Redis fails (or
	// stops answering for about a second) until they have read it again.
	// Default false: keep serving with the revocations known.
	FailClosed bool
	// ServeBeforeSync lets a replica serve sessions before it has read the
	// revocations in force, for apps that prefer availability: a replica
	// started while Redis is down then accepts the sessions revoked
	// before. Default false: refuse them (503) until the first read.
	ServeBeforeSync bool
	// WriteBackGrace is how long after Redis lost its data (or first
	// served this app) a replica waits before it trusts the set it reads:
	// the replicas that were running need a moment to write back what they
	// hold. Meanwhile it refuses sessions as before its first read.
	// Default 6 s.
	WriteBackGrace time.Duration
	// MinReplicas makes [Store.Publish] return only once that many Redis
	// replicas have acknowledged the write (Redis's WAIT), within
	// ReplicaTimeout, so that a failover cannot lose an acknowledged
	// revocation. Default 0: the primary's answer is enough. Not with
	// Redis Cluster.
	MinReplicas int
	// ReplicaTimeout bounds the wait for MinReplicas. Default Timeout.
	ReplicaTimeout time.Duration
	// Logger receives the start and end of each outage, write-backs, and
	// the records skipped as malformed. Default slog.Default().
	Logger *slog.Logger
	// clock, if set, is the store's clock instead of time.Now, for tests
	// of skewed replicas; New sets it before any goroutine reads it. (An
	// interface, not a func, so that Options stays comparable.)
	clock interface{ Now() time.Time }

	// KeepRedisLogger leaves go-redis's own logger as it is in [Open].
	// By default Open routes it to Logger at debug level (see
	// [RouteRedisLog]), so that an outage is the store's two lines, not
	// go-redis's "failed to dial" twice a second.
	KeepRedisLogger bool
}

// Store is an [ssogate.Backplane] on Redis. Make one with [New] or [Open];
// stop it with [Store.Close]. It is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	// reader is the client of the follower's blocking reads: a copy of
	// rdb's, which Close closes to end a read under way at once.
	reader redis.UniversalClient
	opts   Options
	log    *slog.Logger
	keys   keys
	now    func() time.Time

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	// subscribed wakes the follower when the first subscriber comes.
	subscribed chan struct{}
	done       sync.WaitGroup
	// owned is the client Open made, which Close closes.
	owned io.Closer

	down     atomic.Bool // Redis is failing: the outage was logged
	full     atomic.Bool // Redis refuses writes for want of memory: logged
	skewed   atomic.Bool // the clock is off Redis's by more than maxSkew: logged
	policyOK atomic.Bool // the eviction policy was looked at

	// syncMu makes whole reads of the set and write-backs one at a time.
	syncMu sync.Mutex

	// old carries revocations to and from replicas of the previous format.
	old *oldFleet

	// mu guards every field below.
	mu sync.Mutex
	// subs are the subscribers, with whether each was told to fail
	// closed.
	subs []*subscriber
	// pending holds revocations that Redis has not taken yet, by member.
	pending map[string]ssogate.Revocation
	// pos is where this replica read Redis to; synced reports that it is
	// valid.
	synced bool
	pos    position
	// reads counts the full reads delivered to every subscriber.
	reads int64
	// markerMissing is when a first read found the set without its
	// marker (the set evicted, or written by an older version).
	markerMissing time.Time
	// lastTrim is when expired members were last removed from the set.
	lastTrim time.Time
	// lastSkew is when the clock was last compared with Redis's.
	lastSkew time.Time
}

// position is how far a replica has read Redis, and in which history.
type position struct {
	epoch  string // the epoch it read under
	replid string // Redis's replication id when it read
	lastID string // the last stream entry it read; "0-0" for none
	// added is XINFO STREAM's entries-added as of lastID: the stream's
	// count of every entry Redis ever added up to it.
	added int64
}

type subscriber struct {
	ssogate.Subscriber
	closed bool // told to fail closed
}

type keys struct{ set, log, epoch, v1, v1Channel string }

var _ ssogate.Backplane = (*Store)(nil)

// New returns a Store on rdb, which it does not close. It makes no call to
// Redis itself: each [ssogate.Middleware] that subscribes reads the
// revocations in force, within [Options].Timeout.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil client")
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"LogRetention", &opts.LogRetention, DefaultLogRetention},
		{"RetryInterval", &opts.RetryInterval, DefaultRetryInterval},
		{"Timeout", &opts.Timeout, DefaultTimeout},
		{"ReplicaTimeout", &opts.ReplicaTimeout, opts.Timeout},
		{"WriteBackGrace", &opts.WriteBackGrace, DefaultWriteBackGrace},
	}
	for _, f := range durations {
		switch {
		case *f.d == 0:
			*f.d = f.def
		case *f.d < 0:
			return nil, fmt.Errorf("redisstore: Options.%s must not be negative", f.name)
		}
	}
	if opts.ReplicaTimeout == 0 {
		opts.ReplicaTimeout = opts.Timeout
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, errors.New("redisstore: Options.Prefix must not contain braces: the store adds them")
	}
	if opts.MinReplicas < 0 {
		return nil, errors.New("redisstore: Options.MinReplicas must not be negative")
	}
	if _, ok := rdb.(*redis.Client); opts.MinReplicas > 0 && !ok {
		return nil, errors.New("redisstore: Options.MinReplicas needs a single-primary or Sentinel client, not a cluster")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	tag := "{" + opts.Prefix + "}"
	reader := rdb
	switch c := rdb.(type) {
	case *redis.Client:
		o := *c.Options()
		o.MinIdleConns = 0
		// A connection that broke (Redis restarted) must say so, not be
		// replaced silently under a read that then waits on a new Redis.
		o.MaxRetries, o.DialerRetries = -1, 1
		// A blocking read waits up to followBlock for its answer.
		o.ReadTimeout = followBlock + max(o.ReadTimeout, time.Second)
		// The copy would register rdb's maintenance-notification handlers
		// again, which go-redis refuses with a line that reads like an
		// error; rdb keeps them, and the follower's reads do without.
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		reader = redis.NewClient(&o)
	case *redis.ClusterClient:
		o := *c.Options()
		o.MaxRetries, o.DialerRetries = -1, 1
		o.ReadTimeout = followBlock + max(o.ReadTimeout, time.Second)
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		reader = redis.NewClusterClient(&o)
	}
	s := &Store{
		rdb:    rdb,
		reader: reader,
		opts:   opts,
		log:    opts.Logger,
		keys: keys{set: tag + "revocations", log: tag + "log", epoch: tag + "epoch",
			v1: opts.Prefix + "revocations", v1Channel: opts.Prefix + "updates"},
		now:        time.Now,
		pending:    make(map[string]ssogate.Revocation),
		subscribed: make(chan struct{}, 1),
	}
	if opts.clock != nil {
		s.now = opts.clock.Now
	}
	s.old = &oldFleet{s: s}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done.Add(2)
	go s.follow()
	go s.maintain()
	if opts.FailClosed {
		s.done.Add(1)
		go s.watchHealth()
	}
	return s, nil
}

// Open returns a Store on a client of its own for a Redis URL:
//
//   - redis://[user:password@]host:port[/db] (rediss:// for TLS): one server;
//   - redis+sentinel://[user:password@]host:port[/db]?master_name=NAME&addr=host2:port
//     ...: through Redis Sentinel, whose addresses these are;
//   - redis+cluster://[user:password@]host:port?addr=host2:port...: a Redis
//     Cluster, from any of its nodes.
//
// The query takes go-redis's options ([redis.ParseURL],
// [redis.ParseFailoverURL], [redis.ParseClusterURL]). [Store.Close] closes
// the client. Unless [Options].KeepRedisLogger, Open routes go-redis's
// process-wide logger to the store's Logger at debug level.
func Open(url string, opts Options) (*Store, error) {
	// The URL may hold a password: no error quotes it.
	malformed := errors.New("redisstore: malformed Redis URL (want redis://host:port[/db], redis+sentinel://... or redis+cluster://...)")
	var rdb redis.UniversalClient
	switch scheme, rest, _ := strings.Cut(url, "://"); scheme {
	case "redis", "rediss":
		ro, err := redis.ParseURL(url)
		if err != nil {
			return nil, malformed
		}
		ro.ContextTimeoutEnabled = true
		rdb = redis.NewClient(ro)
	case "redis+sentinel", "rediss+sentinel":
		fo, err := redis.ParseFailoverURL(strings.TrimSuffix(scheme, "+sentinel") + "://" + rest)
		if err != nil || fo.MasterName == "" {
			return nil, malformed
		}
		fo.ContextTimeoutEnabled = true
		rdb = redis.NewFailoverClient(fo)
	case "redis+cluster", "rediss+cluster":
		co, err := redis.ParseClusterURL(strings.TrimSuffix(scheme, "+cluster") + "://" + rest)
		if err != nil {
			return nil, malformed
		}
		co.ContextTimeoutEnabled = true
		rdb = redis.NewClusterClient(co)
	default:
		return nil, malformed
	}
	s, err := New(rdb, opts)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	s.owned = rdb
	if !opts.KeepRedisLogger {
		RouteRedisLog(s.log)
	}
	return s, nil
}

// Close tries once more, within [Options].Timeout, to store the
// revocations Redis has not taken yet, and logs those it drops (they held
// on this replica only). Then it stops the store's goroutines, waits for
// them, and closes the client if [Open] made it.
func (s *Store) Close() error {
	s.flushPending()
	s.cancel()
	if s.reader != s.rdb {
		s.reader.Close() // ends a blocking read under way
	}
	s.done.Wait()
	if s.owned != nil {
		return s.owned.Close()
	}
	return nil
}

// flushPending is Close's last try at the pending revocations: it logs
// those it drops.
func (s *Store) flushPending() {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	revs, err := s.storePending(ctx)
	if err == nil {
		return
	}
	// Ids are the only part of a revocation that reaches the logs.
	ids := make([]string, 0, min(len(revs), 20))
	for _, r := range revs[:min(len(revs), 20)] {
		ids = append(ids, r.Kind.String()+":"+r.ID)
	}
	s.log.Error("redisstore: closing with revocations Redis never took: they held on this replica only, and other replicas may accept the sessions they end",
		"count", len(revs), "revocations", strings.Join(ids, " "))
}

// storePending tries to store the revocations Redis has not taken. It
// returns them, with the error if Redis did not take them.
func (s *Store) storePending(ctx context.Context) ([]ssogate.Revocation, error) {
	revs := s.pendingRevocations()
	if len(revs) == 0 {
		return nil, nil
	}
	if err := s.write(ctx, revs, ""); err != nil {
		return revs, err
	}
	s.clearPending(revs)
	s.old.publish(ssogate.Update{Revocations: revs})
	s.log.Info("redisstore: revocations made while Redis was unreachable are stored", "count", len(revs))
	return revs, nil
}

// Publish stores u's revocations in Redis and adds u to the stream, in one
// script, and with [Options].MinReplicas waits for Redis replicas to have
// it. It returns within [Options].Timeout, whatever ctx allows. If Redis
// does not take the revocations, it returns the error and keeps them to
// retry every [Options].RetryInterval until Redis does. An update that
// holds only an event is not retried: the webhook handler answers WorkOS
// with an error, and WorkOS delivers the event again.
func (s *Store) Publish(ctx context.Context, u ssogate.Update) error {
	for _, r := range u.Revocations {
		if err := r.Validate(); err != nil {
			return err
		}
	}
	var event string
	if u.Event != nil {
		b, err := json.Marshal(u.Event)
		if err != nil {
			return err
		}
		event = string(b)
	}
	// go-redis bounds a call by its own timeouts, not by ctx, unless the
	// client was made with ContextTimeoutEnabled: the write runs apart, so
	// that a Redis that does not answer cannot hold the caller longer than
	// Timeout. A write that outlives the wait is retried all the same.
	errc := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeout)
		defer cancel()
		errc <- s.write(wctx, u.Revocations, event)
	}()
	wait := time.NewTimer(s.opts.Timeout)
	defer wait.Stop()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		err = fmt.Errorf("redisstore: %w", ctx.Err())
	case <-wait.C:
		err = fmt.Errorf("redisstore: Redis did not answer within %v", s.opts.Timeout)
		s.failed(err)
	}
	if err != nil {
		if len(u.Revocations) > 0 {
			s.mu.Lock()
			for _, r := range u.Revocations {
				s.pending[memberOf(r)] = r
			}
			s.mu.Unlock()
		}
		return err
	}
	s.old.publish(u)
	return nil
}

// clearPending forgets revs as pending: Redis has them.
func (s *Store) clearPending(revs []ssogate.Revocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range revs {
		delete(s.pending, memberOf(r))
	}
}

// Unshared returns the number of revocations that Redis has not taken yet
// and the store retries: [ssogate.Stats].UnsharedRevocations.
func (s *Store) Unshared() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// pendingRevocations returns the revocations Redis has not taken, and
// forgets those that expired.
func (s *Store) pendingRevocations() []ssogate.Revocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var revs []ssogate.Revocation
	for m, r := range s.pending {
		if r.Expires.Before(now) {
			delete(s.pending, m) // no session it matches is alive
			continue
		}
		revs = append(revs, r)
	}
	return revs
}

// expiryMargin keeps a revocation in Redis this long past its expiry, for
// replicas whose clocks are behind Redis's.
const expiryMargin = time.Minute

// writeScript adds revocations to the set and entries to the stream, and
// trims both by Redis's clock: the stream to ARGV[1] ms, and, when ARGV[2]
// is 1, the set of members expired ARGV[3] ms ago (never the marker, whose
// score is 0). ARGV[4] is the number of members, given as score and member
// pairs; the rest are entries, as pairs of their r and e fields ("" for
// none). It returns Redis's time in ms.
var writeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local stop = 4 + 2 * tonumber(ARGV[4])
local i = 5
while i <= stop do
  local j = math.min(i + 999, stop)
  redis.call('ZADD', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
if ARGV[2] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '(0', '(' .. (now - tonumber(ARGV[3])))
end
local minid = string.format('%d', now - tonumber(ARGV[1]))
for k = stop + 1, #ARGV, 2 do
  local fields = {'v', '2'}
  if ARGV[k] ~= '' then fields[#fields + 1] = 'r'; fields[#fields + 1] = ARGV[k] end
  if ARGV[k + 1] ~= '' then fields[#fields + 1] = 'e'; fields[#fields + 1] = ARGV[k + 1] end
  redis.call('XADD', KEYS[2], 'MINID', '~', minid, '*', unpack(fields))
end
return now
`)

// write adds revs to the set and the stream, with event in the first
// entry, all or nothing.
func (s *Store) write(ctx context.Context, revs []ssogate.Revocation, event string) error {
	now := s.now()
	s.mu.Lock()
	trim := now.Sub(s.lastTrim) >= time.Minute
	if trim {
		s.lastTrim = now
	}
	s.mu.Unlock()
	args := make([]any, 0, 4+2*len(revs)+2*(len(revs)/maxEntryRevocations+1))
	args = append(args, s.opts.LogRetention.Milliseconds(), btoi(trim), expiryMargin.Milliseconds(), len(revs))
	for _, r := range revs {
		args = append(args, r.Expires.UnixMilli(), memberOf(r))
	}
	for i := 0; i == 0 || i < len(revs); i += maxEntryRevocations {
		lines := entryLines(revs[i:min(i+maxEntryRevocations, len(revs))])
		e := ""
		if i == 0 {
			e = event
		}
		args = append(args, lines, e)
	}
	keys := []string{s.keys.set, s.keys.log}
	start := s.now()
	var redisNow int64
	var err error
	if c, ok := s.rdb.(*redis.Client); ok && s.opts.MinReplicas > 0 {
		// WAIT counts the writes of its own connection.
		conn := c.Conn()
		defer conn.Close()
		if redisNow, err = writeScript.Run(ctx, conn, keys, args...).Int64(); err == nil {
			var n int64
			n, err = conn.Wait(ctx, s.opts.MinReplicas, s.opts.ReplicaTimeout).Result()
			if err == nil && n < int64(s.opts.MinReplicas) {
				return fmt.Errorf("redisstore: stored on the primary, but %d of %d Redis replicas acknowledged it within %v", n, s.opts.MinReplicas, s.opts.ReplicaTimeout)
			}
		}
	} else {
		redisNow, err = writeScript.Run(ctx, s.rdb, keys, args...).Int64()
	}
	if err != nil {
		s.failed(err)
		return fmt.Errorf("redisstore: %w", err)
	}
	s.wrote()
	s.noteSkew(start, redisNow)
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Subscribe reads the revocations in force and delivers them to sub, then
// every update. Until the read succeeds, sub is asked to fail closed,
// unless [Options].ServeBeforeSync.
func (s *Store) Subscribe(sub ssogate.Subscriber) func() {
	p := &subscriber{Subscriber: sub}
	s.mu.Lock()
	s.subs = append(s.subs, p)
	seen := s.reads // a full read after this one delivers to p too
	s.mu.Unlock()
	if !s.opts.ServeBeforeSync {
		s.setClosed(p, errNotSynced)
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	if err := s.sync(ctx, true, seen); err != nil && s.ctx.Err() == nil && !errors.Is(err, errWriteBacks) {
		s.failed(err)
	}
	select {
	case s.subscribed <- struct{}{}:
	default:
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.subs {
			if x == p {
				s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
				break
			}
		}
	}
}

// noteSkew compares this replica's clock with Redis's, as Redis answered
// redisMS to a call made at start, and warns when they are apart by more
// than maxSkew.
func (s *Store) noteSkew(start time.Time, redisMS int64) {
	if redisMS <= 0 {
		return
	}
	end := s.now()
	s.mu.Lock()
	s.lastSkew = end
	s.mu.Unlock()
	mid := start.Add(end.Sub(start) / 2)
	skew := mid.Sub(time.UnixMilli(redisMS)).Round(time.Millisecond)
	off := skew > maxSkew+end.Sub(start) || -skew > maxSkew+end.Sub(start)
	if off && s.skewed.CompareAndSwap(false, true) {
		s.log.Warn("redisstore: this replica's clock is off Redis's: sessions expire by this clock and revocations are trimmed by Redis's, so keep them in sync (NTP)",
			"skew", skew.String(), "max", maxSkew.String())
	} else if !off && s.skewed.CompareAndSwap(true, false) {
		s.log.Info("redisstore: this replica's clock agrees with Redis's again", "skew", skew.String())
	}
}

// errorClass sorts what Redis answered.
type errorClass int

const (
	outage    errorClass = iota // Redis cannot be reached, or failed
	noMemory                    // Redis is out of memory and refuses writes
	migrating                   // a Cluster slot is moving: try again soon
)

func classify(err error) errorClass {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		switch {
		case strings.HasPrefix(msg, "OOM "):
			return noMemory
		case strings.HasPrefix(msg, "TRYAGAIN"), strings.HasPrefix(msg, "ASK "), strings.HasPrefix(msg, "MOVED "):
			return migrating
		}
	}
	return outage
}

// failed notes that a Redis call failed. The first failure of an outage
// is logged, and with FailClosed the replicas stop serving sessions. A
// Redis out of memory, or a Cluster slot in migration, is no outage.
func (s *Store) failed(err error) {
	switch classify(err) {
	case noMemory:
		if s.full.CompareAndSwap(false, true) {
			s.log.Error("redisstore: Redis refuses writes: it is out of memory (maxmemory); revocations made now hold on their replica only until it has room", "err", err)
		}
		return
	case migrating:
		s.log.Debug("redisstore: a Redis Cluster slot is moving; trying again", "err", err)
		return
	}
	if s.down.CompareAndSwap(false, true) {
		// Say what this replica does meanwhile.
		s.mu.Lock()
		synced := s.synced
		s.mu.Unlock()
		switch {
		case s.opts.FailClosed:
			s.log.Warn("redisstore: Redis is unreachable; refusing sessions until it answers (FailClosed)", "err", err)
		case !synced && !s.opts.ServeBeforeSync:
			s.log.Warn("redisstore: Redis is unreachable; refusing sessions until the revocations in force are read", "err", err)
		default:
			s.log.Warn("redisstore: Redis is unreachable; serving with the revocations known", "err", err)
		}
		s.outage(err)
	}
	if !s.opts.FailClosed {
		return
	}
	for _, p := range s.subscribers() {
		s.setClosed(p, err)
	}
}

// wrote notes that Redis took a write.
func (s *Store) wrote() {
	if s.full.CompareAndSwap(true, false) {
		s.log.Info("redisstore: Redis takes writes again")
	}
}

// recovered notes that Redis answered and that this replica is caught up:
// the end of an outage is logged, and every subscriber serves sessions
// again once synced.
func (s *Store) recovered() {
	if s.down.CompareAndSwap(true, false) {
		s.log.Info("redisstore: Redis is reachable again")
		s.outage(nil)
	}
	s.mu.Lock()
	synced := s.synced
	s.mu.Unlock()
	if synced {
		for _, p := range s.subscribers() {
			s.setClosed(p, nil)
		}
	}
}

func (s *Store) subscribers() []*subscriber {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*subscriber(nil), s.subs...)
}

// outage tells every subscriber that an outage started (err not nil) or
// ended.
func (s *Store) outage(err error) {
	for _, p := range s.subscribers() {
		if p.Outage != nil {
			p.Outage(err)
		}
	}
}

// setClosed asks p to fail closed (err not nil) or to serve, if that
// changes anything.
func (s *Store) setClosed(p *subscriber, err error) {
	s.mu.Lock()
	change := p.closed != (err != nil)
	p.closed = err != nil
	s.mu.Unlock()
	if change && p.FailClosed != nil {
		p.FailClosed(err)
	}
}

// deliver hands u to every subscriber.
func (s *Store) deliver(u ssogate.Update) {
	for _, p := range s.subscribers() {
		p.Apply(u)
	}
}

// known returns every revocation the subscribers hold.
func (s *Store) known() []ssogate.Revocation {
	var revs []ssogate.Revocation
	for _, p := range s.subscribers() {
		if p.Known != nil {
			for r := range p.Known {
				revs = append(revs, r)
			}
			break // the subscribers of one store hold the same revocations
		}
	}
	return revs
}

func (s *Store) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
	case <-t.C:
	}
}

// maintain retries pending revocations until Close.
func (s *Store) maintain() {
	defer s.done.Done()
	tick := time.NewTicker(s.opts.RetryInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		s.retryPending()
	}
}

// retryPending tries to store the revocations Redis has not taken.
func (s *Store) retryPending() {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	s.storePending(ctx)
}

// watchHealth, with FailClosed, asks Redis every healthInterval whether it
// answers, so that a Redis that holds connections open and answers nothing
// (a network partition that drops packets) closes the replicas within
// about a second, not once the follower's blocking read gives up.
func (s *Store) watchHealth() {
	defer s.done.Done()
	errUnresponsive := fmt.Errorf("redisstore: Redis did not answer within %v", healthTimeout)
	for s.ctx.Err() == nil {
		s.sleep(healthInterval)
		if s.down.Load() {
			continue // the follower tells when Redis is back, once it has read it
		}
		res := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
			defer cancel()
			res <- s.rdb.Ping(ctx).Err()
		}()
		t := time.NewTimer(healthTimeout)
		select {
		case err := <-res:
			if err != nil && s.ctx.Err() == nil {
				s.failed(err)
			}
		case <-t.C:
			s.failed(errUnresponsive)
			select { // one check at a time
			case <-res:
			case <-s.ctx.Done():
			}
		case <-s.ctx.Done():
		}
		t.Stop()
	}
}

// isNoScript reports whether err is Redis's answer to a script it does
// not hold.
func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// formatMS formats Unix milliseconds.
func formatMS(ms int64) string { return strconv.FormatInt(ms, 10) }

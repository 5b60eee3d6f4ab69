// Package redisstore shares ssogate's revocations and connection events
// between the replicas of an app through Redis: a revocation made on one
// replica (a sign-out, [ssogate.Middleware.Revoke], a connection removed by
// a webhook) holds on every replica within milliseconds, and a webhook
// delivered to one replica refreshes every replica's connection cache.
//
//	store, err := redisstore.Open(os.Getenv("REDIS_URL"), redisstore.Options{})
//	if err != nil { ... }
//	defer store.Close()
//	gate, err := ssogate.New(ssogate.Config{..., Backplane: store})
//
// # How it uses Redis
//
// Three keys, under one hash tag so that Redis Cluster keeps them on one
// node: a sorted set of the revocations in force, scored by when they
// expire (a revocation is kept until no session it matches can be alive);
// a stream of updates, trimmed to [Options].LogRetention; and an epoch, a
// random value that tells a Redis that lost its data from one that did not.
// Every change is added to the set and the stream in one transaction.
//
// A replica reads the whole set once, when its [ssogate.Middleware] is made,
// noting the stream's last entry first. From then on it reads the stream
// from where it stopped (XREAD BLOCK): its work and its traffic grow with
// the rate of changes, not with how many revocations are in force. With
// nothing changing, each replica asks Redis one small question every few
// seconds. A replica that was away longer than the stream keeps updates
// reads the whole set again.
//
// Checking a request never calls Redis: each replica holds the revocations
// in memory. The store needs Redis 7.0 or later, whose streams say which
// entries were trimmed away.
//
// # Nothing lost
//
// Until a replica has read the revocations in force, it refuses every
// session (503), so that a replica started while Redis is down does not
// accept cookies signed out before; [Options].ServeBeforeSync opts out.
//
// When Redis comes back empty (a restart without persistence), or a
// failover lost recent writes (the new primary's stream ends before the
// last update a replica read), each replica writes back the revocations it
// holds; what the set lacked is also added to the stream, so that every
// replica, and any replica started afterwards, knows it.
//
// While Redis is down, replicas keep serving with the revocations they know,
// unless [Options].FailClosed. The outage is logged once when it starts and
// once when it ends. A revocation made meanwhile holds at once on the
// replica that made it; [Store.Publish] reports that it is not stored (so
// [ssogate.Middleware.Revoke] returns an error matching
// [ssogate.ErrNotShared]), and the store retries it every
// [Options].RetryInterval until Redis takes it. [Options].MinReplicas makes
// Publish wait until that many Redis replicas have the write (WAIT).
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
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
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

// scanCount is how many members one ZSCAN asks for when the whole set is read.
const scanCount = 5000

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix names the store's keys, {Prefix}revocations, {Prefix}log and
	// {Prefix}epoch, so that several apps can share one Redis database.
	// The braces are a Redis Cluster hash tag. Default "ssogate:".
	Prefix string
	// LogRetention is how long the stream keeps updates: a replica away
	// for longer (a network partition, a long pause) reads the whole set
	// when it is back. Default 10 minutes.
	LogRetention time.Duration
	// RetryInterval is how often revocations that Redis did not take are
	// tried again, and how often a lost Redis is tried while it is down.
	// Default 1 s.
	RetryInterval time.Duration
	// Timeout bounds each Redis call the store makes on its own, and the
	// first read of the revocations when a Middleware subscribes. Default 5 s.
	Timeout time.Duration
	// FailClosed makes replicas refuse every session while they cannot
	// vouch for knowing every revocation: from the moment Redis fails
	// until they have read it again. Default false: keep serving with the
	// revocations known.
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

	down atomic.Bool // Redis is failing: the outage was logged

	// syncMu makes whole reads of the set and write-backs one at a time.
	syncMu sync.Mutex

	// mu guards every field below.
	mu sync.Mutex
	// subs are the subscribers, with whether each was told to fail
	// closed.
	subs []*subscriber
	// pending holds revocations that Redis has not taken yet, by member.
	pending map[string]ssogate.Revocation
	// synced reports that the set was read since Redis last failed, and
	// lastID and epoch say where the stream was read to and in which
	// life of Redis.
	synced bool
	lastID string
	epoch  string
	// lastTrim is when expired members were last removed from the set.
	lastTrim time.Time
}

type subscriber struct {
	ssogate.Subscriber
	closed bool // told to fail closed
}

type keys struct{ set, log, epoch, v1 string }

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
		// A pipelined blocking read waits up to followBlock for its answer.
		o.ReadTimeout = followBlock + max(o.ReadTimeout, time.Second)
		reader = redis.NewClient(&o)
	case *redis.ClusterClient:
		o := *c.Options()
		o.MaxRetries, o.DialerRetries = -1, 1
		o.ReadTimeout = followBlock + max(o.ReadTimeout, time.Second)
		reader = redis.NewClusterClient(&o)
	}
	s := &Store{
		rdb:        rdb,
		reader:     reader,
		opts:       opts,
		log:        opts.Logger,
		keys:       keys{set: tag + "revocations", log: tag + "log", epoch: tag + "epoch", v1: opts.Prefix + "revocations"},
		now:        time.Now,
		pending:    make(map[string]ssogate.Revocation),
		subscribed: make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done.Add(2)
	go s.follow()
	go s.maintain()
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
		rdb = redis.NewClient(ro)
	case "redis+sentinel", "rediss+sentinel":
		fo, err := redis.ParseFailoverURL(strings.TrimSuffix(scheme, "+sentinel") + "://" + rest)
		if err != nil || fo.MasterName == "" {
			return nil, malformed
		}
		rdb = redis.NewFailoverClient(fo)
	case "redis+cluster", "rediss+cluster":
		co, err := redis.ParseClusterURL(strings.TrimSuffix(scheme, "+cluster") + "://" + rest)
		if err != nil {
			return nil, malformed
		}
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

// Close stops the store's goroutines and waits for them, and closes the
// client if [Open] made it. Revocations still pending are dropped from this
// store (they hold on the replica that made them until it stops).
func (s *Store) Close() error {
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

// Publish stores u's revocations in Redis and adds u to the stream, in one
// transaction, and with [Options].MinReplicas waits for Redis replicas to
// have it. If Redis does not take the revocations, it returns the error and
// keeps them to retry every [Options].RetryInterval until Redis does. An
// update that holds only an event is not retried: the webhook handler
// answers WorkOS with an error, and WorkOS delivers the event again.
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
	err := s.write(ctx, u.Revocations, event)
	if err != nil && len(u.Revocations) > 0 {
		s.mu.Lock()
		for _, r := range u.Revocations {
			s.pending[memberOf(r)] = r
		}
		s.mu.Unlock()
	}
	return err
}

// write adds revs to the set and the stream, with event in the first
// entry, all or nothing.
func (s *Store) write(ctx context.Context, revs []ssogate.Revocation, event string) error {
	now := s.now()
	minID := strconv.FormatInt(now.Add(-s.opts.LogRetention).UnixMilli(), 10)
	s.mu.Lock()
	trim := now.Sub(s.lastTrim) >= time.Minute
	if trim {
		s.lastTrim = now
	}
	s.mu.Unlock()
	tx := func(p redis.Pipeliner) error {
		if len(revs) > 0 {
			members := make([]redis.Z, len(revs))
			for i, r := range revs {
				members[i] = redis.Z{Score: float64(r.Expires.UnixMilli()), Member: memberOf(r)}
			}
			p.ZAdd(ctx, s.keys.set, members...)
		}
		if trim {
			p.ZRemRangeByScore(ctx, s.keys.set, "-inf", "("+strconv.FormatInt(now.UnixMilli(), 10))
		}
		for i := 0; i == 0 || i < len(revs); i += maxEntryRevocations {
			values := []any{"v", formatVersion}
			if chunk := revs[i:min(i+maxEntryRevocations, len(revs))]; len(chunk) > 0 {
				values = append(values, "r", entryLines(chunk))
			}
			if i == 0 && event != "" {
				values = append(values, "e", event)
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: s.keys.log, MinID: minID, Approx: true, Values: values})
		}
		return nil
	}
	var err error
	if c, ok := s.rdb.(*redis.Client); ok && s.opts.MinReplicas > 0 {
		// WAIT counts the writes of its own connection.
		conn := c.Conn()
		defer conn.Close()
		if _, err = conn.TxPipelined(ctx, tx); err == nil {
			var n int64
			n, err = conn.Wait(ctx, s.opts.MinReplicas, s.opts.ReplicaTimeout).Result()
			if err == nil && n < int64(s.opts.MinReplicas) {
				return fmt.Errorf("redisstore: stored on the primary, but %d of %d Redis replicas acknowledged it within %v", n, s.opts.MinReplicas, s.opts.ReplicaTimeout)
			}
		}
	} else {
		_, err = s.rdb.TxPipelined(ctx, tx)
	}
	if err != nil {
		s.failed(err)
		return fmt.Errorf("redisstore: %w", err)
	}
	return nil
}

// Subscribe reads the revocations in force and delivers them to sub, then
// every update. Until the read succeeds, sub is asked to fail closed,
// unless [Options].ServeBeforeSync.
func (s *Store) Subscribe(sub ssogate.Subscriber) func() {
	p := &subscriber{Subscriber: sub}
	s.mu.Lock()
	s.subs = append(s.subs, p)
	s.mu.Unlock()
	if !s.opts.ServeBeforeSync {
		s.setClosed(p, errNotSynced)
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	if err := s.sync(ctx, true); err != nil && s.ctx.Err() == nil && !errors.Is(err, errWriteBacks) {
		s.failed(err)
	}
	select {
	case s.subscribed <- struct{}{}:
	default:
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.subs = slices.DeleteFunc(s.subs, func(x *subscriber) bool { return x == p })
	}
}

// errWriteBacks says that Redis's data is too new to trust yet.
var errWriteBacks = errors.New("redisstore: Redis lost its data (or is new) a moment ago; waiting for the running replicas to write back")

// epochAge returns how long ago the epoch was made, as its maker's clock
// said; an epoch of unknown age counts as old.
func (s *Store) epochAge(epoch string) time.Duration {
	_, at, ok := strings.Cut(epoch, ":")
	ms, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil {
		return s.opts.WriteBackGrace
	}
	return s.now().Sub(time.UnixMilli(ms))
}

var errNotSynced = errors.New("redisstore: the revocations in force have not been read from Redis yet")

// sync reads the whole set and delivers it to every subscriber, as a
// Resync update, having noted first where the stream ends, so that the
// stream brings whatever is added during the read. Unless forced (for a
// new subscriber), it does nothing once another sync has read the set:
// the follower and Subscribe may both find the store unsynced at once.
func (s *Store) sync(ctx context.Context, force bool) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	synced := s.synced
	s.mu.Unlock()
	if synced && !force {
		return nil
	}
	epoch, err := s.ensureEpoch(ctx)
	if err != nil {
		return err
	}
	if age := s.epochAge(epoch); age < s.opts.WriteBackGrace {
		return fmt.Errorf("%w (for %v more)", errWriteBacks, s.opts.WriteBackGrace-age)
	}
	st, err := s.check(ctx, epoch)
	if err != nil {
		return err
	}
	revs, err := s.readSet(ctx)
	if err != nil {
		return err
	}
	s.deliver(ssogate.Update{Revocations: revs, Resync: true})
	s.mu.Lock()
	s.synced, s.lastID, s.epoch = true, st.lastID, epoch
	s.mu.Unlock()
	s.recovered()
	return nil
}

// ensureEpoch returns Redis's epoch, creating it if this Redis has none
// (it is new, or lost its data). A new epoch also carries version 1's
// revocations over, once.
func (s *Store) ensureEpoch(ctx context.Context) (string, error) {
	value := rand.Text() + ":" + strconv.FormatInt(s.now().UnixMilli(), 10)
	created, err := s.rdb.SetNX(ctx, s.keys.epoch, value, 0).Result()
	if err != nil {
		return "", err
	}
	if created {
		s.migrateV1(ctx)
	}
	return s.rdb.Get(ctx, s.keys.epoch).Result()
}

// migrateV1 writes the revocations of version 1's sorted set, if any, in
// the new format.
func (s *Store) migrateV1(ctx context.Context) {
	members, err := s.rdb.ZRangeByScore(ctx, s.keys.v1, &redis.ZRangeBy{Min: strconv.FormatInt(s.now().UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil || len(members) == 0 {
		return
	}
	var revs []ssogate.Revocation
	for _, m := range members {
		if r, err := decodeV1Member(m); err == nil {
			revs = append(revs, r)
		}
	}
	if n, err := s.writeBack(ctx, revs); err == nil {
		s.log.Info("redisstore: revocations of the previous format carried over", "count", n)
	}
}

// readSet reads every revocation in force, a page at a time.
func (s *Store) readSet(ctx context.Context) ([]ssogate.Revocation, error) {
	nowMS := s.now().UnixMilli()
	var revs []ssogate.Revocation
	skipped := 0
	var cursor uint64
	for {
		page, next, err := s.rdb.ZScan(ctx, s.keys.set, cursor, "", scanCount).Result()
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(page); i += 2 {
			score, err := strconv.ParseFloat(page[i+1], 64)
			if err != nil {
				skipped++
				continue
			}
			if int64(score) < nowMS {
				continue
			}
			r, err := decodeMember(page[i], int64(score))
			if err != nil {
				skipped++
				continue
			}
			revs = append(revs, r)
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if skipped > 0 {
		s.log.Warn("redisstore: malformed revocation records skipped", "key", s.keys.set, "count", skipped)
	}
	return revs, nil
}

// streamState is what check learns of Redis.
type streamState struct {
	sameEpoch  bool   // Redis's epoch is the one asked about
	lastID     string // the stream's last entry id; "0-0" if it has none
	maxDeleted string // the largest id trimmed away; "0-0" if none
}

// checkScript answers, in one small reply, whether Redis's epoch is still
// ARGV[1] (or else it lost data) and where its stream stands. It runs every
// few seconds on every replica: the reply is kept to a few dozen bytes.
var checkScript = redis.NewScript(`
local same = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then same = 1 end
if redis.call('EXISTS', KEYS[2]) == 0 then return {same, '0-0', '0-0'} end
local info = redis.call('XINFO', 'STREAM', KEYS[2])
local last, maxdel = '0-0', '0-0'
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = info[i+1] end
  if info[i] == 'max-deleted-entry-id' then maxdel = info[i+1] end
end
return {same, last, maxdel}
`)

// check asks Redis whether its epoch is still epoch, and where the stream
// stands.
func (s *Store) check(ctx context.Context, epoch string) (streamState, error) {
	return parseState(checkScript.Run(ctx, s.rdb, []string{s.keys.epoch, s.keys.log}, epoch))
}

func parseState(cmd *redis.Cmd) (streamState, error) {
	v, err := cmd.Slice()
	if err != nil {
		return streamState{}, err
	}
	if len(v) != 3 {
		return streamState{}, errors.New("redisstore: unexpected answer to the stream check")
	}
	str := func(x any) string { s, _ := x.(string); return s }
	same, _ := v[0].(int64)
	return streamState{sameEpoch: same == 1, lastID: str(v[1]), maxDeleted: str(v[2])}, nil
}

// follow reads the stream from where this replica stopped, until Close.
func (s *Store) follow() {
	defer s.done.Done()
	ctx := s.ctx
	for ctx.Err() == nil {
		s.mu.Lock()
		synced, lastID, epoch := s.synced, s.lastID, s.epoch
		haveSubs := len(s.subs) > 0
		s.mu.Unlock()
		if !haveSubs {
			select {
			case <-ctx.Done():
			case <-s.subscribed:
			}
			continue
		}
		if !synced {
			sctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			err := s.sync(sctx, false)
			cancel()
			switch {
			case errors.Is(err, errWriteBacks):
				s.sleep(s.opts.RetryInterval)
			case err != nil && ctx.Err() == nil:
				s.failed(err)
				s.sleep(s.opts.RetryInterval)
			}
			continue
		}
		if s.down.Load() {
			// Coming back from an outage: look before waiting on the
			// stream, so that a Redis that lost data is seen at once.
			cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			st, err := s.check(cctx, epoch)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					s.failed(err)
					s.sleep(s.opts.RetryInterval)
				}
				continue
			}
			if s.handle(ctx, st, lastID) {
				s.recovered()
			}
			continue
		}
		// One round trip: whether Redis lost data, and the updates since
		// lastID (waiting for them up to followBlock).
		var check *redis.Cmd
		var read *redis.XStreamSliceCmd
		_, err := s.reader.Pipelined(ctx, func(p redis.Pipeliner) error {
			check = checkScript.Run(ctx, p, []string{s.keys.epoch, s.keys.log}, epoch)
			read = p.XRead(ctx, &redis.XReadArgs{Streams: []string{s.keys.log, lastID}, Count: 100, Block: followBlock})
			return nil
		})
		if errors.Is(err, redis.Nil) {
			err = nil // no update within followBlock
		}
		if err != nil && !isNoScript(err) {
			if ctx.Err() == nil {
				s.failed(err)
				s.sleep(s.opts.RetryInterval)
			}
			continue
		}
		st, cerr := parseState(check)
		if cerr != nil {
			// The script was not loaded (a new Redis): load it and look again.
			if lerr := checkScript.Load(ctx, s.rdb).Err(); lerr != nil && ctx.Err() == nil {
				s.failed(lerr)
				s.sleep(s.opts.RetryInterval)
			}
			continue
		}
		if !s.handle(ctx, st, lastID) {
			continue
		}
		s.recovered()
		streams, _ := read.Result()
		for _, stream := range streams {
			s.applyEntries(stream.Messages)
		}
	}
}

// handle acts on what check found, for a replica that read the stream to
// lastID. It reports whether the stream can be read on from lastID.
func (s *Store) handle(ctx context.Context, st streamState, lastID string) bool {
	switch {
	case !st.sameEpoch:
		// Redis lost everything (or was never ours).
		s.restore(ctx, "0-0")
		return false
	case compareIDs(st.lastID, lastID) < 0:
		// The stream ends before what this replica read: a failover
		// lost writes.
		s.restore(ctx, st.lastID)
		return false
	case compareIDs(st.maxDeleted, lastID) > 0:
		// Entries this replica has not read were trimmed away.
		s.mu.Lock()
		s.synced = false
		s.mu.Unlock()
		return false
	}
	return true
}

// applyEntries delivers stream entries in order, and notes the last.
func (s *Store) applyEntries(msgs []redis.XMessage) {
	skipped := 0
	for _, m := range msgs {
		u, err := decodeEntry(m.Values)
		if err != nil {
			skipped++
		} else {
			s.deliver(u)
		}
		s.mu.Lock()
		s.lastID = m.ID
		s.mu.Unlock()
	}
	if skipped > 0 {
		s.log.Warn("redisstore: malformed updates skipped", "key", s.keys.log, "count", skipped)
	}
}

// restore writes back every revocation the subscribers hold, after Redis
// lost data, and reads the stream again from from.
func (s *Store) restore(ctx context.Context, from string) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.log.Warn("redisstore: Redis lost revocations (a restart without persistence, or a failover); writing back those this replica holds")
	epoch, err := s.ensureEpoch(ctx)
	if err != nil {
		s.failed(err)
		return
	}
	var revs []ssogate.Revocation
	s.mu.Lock()
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, p := range subs {
		if p.Known != nil {
			for r := range p.Known {
				revs = append(revs, r)
			}
			break // the subscribers of one store hold the same revocations
		}
	}
	n, err := s.writeBack(ctx, revs)
	if err != nil {
		s.failed(err)
		return
	}
	s.log.Info("redisstore: revocations written back", "held", len(revs), "missing", n)
	s.mu.Lock()
	s.epoch, s.lastID = epoch, from
	s.mu.Unlock()
	s.recovered()
}

// writeBackScript adds the members the set lacks, and adds those to the
// stream, so that the other replicas learn of them too.
var writeBackScript = redis.NewScript(`
local added = {}
for i = 2, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[i+1], ARGV[i]) == 1 then
    added[#added+1] = ARGV[i] .. ' ' .. ARGV[i+1]
  end
end
if #added > 0 then
  redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[1], '*', 'v', '2', 'r', table.concat(added, '\n'))
end
return #added
`)

// writeBack writes revs back, a chunk at a time; it returns how many the
// set lacked.
func (s *Store) writeBack(ctx context.Context, revs []ssogate.Revocation) (int, error) {
	now := s.now()
	minID := strconv.FormatInt(now.Add(-s.opts.LogRetention).UnixMilli(), 10)
	added := 0
	for i := 0; i < len(revs); i += maxEntryRevocations {
		args := []any{minID}
		for _, r := range revs[i:min(i+maxEntryRevocations, len(revs))] {
			if r.Expires.Before(now) {
				continue
			}
			args = append(args, memberOf(r), strconv.FormatInt(r.Expires.UnixMilli(), 10))
		}
		if len(args) == 1 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		n, err := writeBackScript.Run(cctx, s.rdb, []string{s.keys.set, s.keys.log}, args...).Int()
		cancel()
		if err != nil {
			return added, err
		}
		added += n
	}
	return added, nil
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
	s.mu.Lock()
	now := s.now()
	var revs []ssogate.Revocation
	for m, r := range s.pending {
		if r.Expires.Before(now) {
			delete(s.pending, m) // no session it matches is alive
			continue
		}
		revs = append(revs, r)
	}
	s.mu.Unlock()
	if len(revs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	if err := s.write(ctx, revs, ""); err != nil {
		return
	}
	s.mu.Lock()
	for _, r := range revs {
		delete(s.pending, memberOf(r))
	}
	s.mu.Unlock()
	s.log.Info("redisstore: revocations made while Redis was unreachable are stored", "count", len(revs))
}

// failed notes that a Redis call failed: the first failure of an outage is
// logged, and with FailClosed the replicas stop serving sessions.
func (s *Store) failed(err error) {
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("redisstore: Redis is unreachable; serving with the revocations known", "err", err, "fail_closed", s.opts.FailClosed)
		s.outage(err)
	}
	if !s.opts.FailClosed {
		return
	}
	s.mu.Lock()
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, p := range subs {
		s.setClosed(p, err)
	}
}

// recovered notes that Redis answered: the end of an outage is logged, and
// every subscriber serves sessions again once synced.
func (s *Store) recovered() {
	if s.down.CompareAndSwap(true, false) {
		s.log.Info("redisstore: Redis is reachable again")
		s.outage(nil)
	}
	s.mu.Lock()
	synced := s.synced
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	if synced {
		for _, p := range subs {
			s.setClosed(p, nil)
		}
	}
}

// outage tells every subscriber that an outage started (err not nil) or
// ended.
func (s *Store) outage(err error) {
	s.mu.Lock()
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, p := range subs {
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
	s.mu.Lock()
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, p := range subs {
		p.Apply(u)
	}
}

func (s *Store) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
	case <-t.C:
	}
}

// isNoScript reports whether err is Redis's answer to a script it does
// not hold.
func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// compareIDs compares two stream ids, "ms-seq".
func compareIDs(a, b string) int {
	am, as := splitID(a)
	bm, bs := splitID(b)
	switch {
	case am != bm:
		return cmpInt(am, bm)
	default:
		return cmpInt(as, bs)
	}
}

func splitID(id string) (uint64, uint64) {
	ms, seq, _ := strings.Cut(id, "-")
	m, _ := strconv.ParseUint(ms, 10, 64)
	n, _ := strconv.ParseUint(seq, 10, 64)
	return m, n
}

func cmpInt(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

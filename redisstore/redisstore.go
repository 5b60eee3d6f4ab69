// Package redisstore shares ssogate's revocations and connection events
// between the replicas of an app through Redis: a revocation made on one
// replica (a sign-out, [ssogate.Middleware.Revoke], a connection removed by
// a webhook) holds on every replica within a moment, and a webhook
// delivered to one replica refreshes every replica's connection cache.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store, err := redisstore.New(rdb, redisstore.Options{})
//	if err != nil { ... }
//	defer store.Close()
//	gate, err := ssogate.New(ssogate.Config{..., Backplane: store})
//
// # How it uses Redis
//
// Revocations are members of one sorted set, scored by the time they expire
// (a revocation is kept until no session it matches can be alive, at most a
// day), so reading those in force is one range query and forgetting the
// others one trim. Each change is also published on a channel, which every
// replica subscribes to. Each replica reads the whole set when it starts,
// whenever its subscription (re)connects and every [Options].ResyncInterval,
// so a replica that missed messages converges; after a gap it also purges
// its connection cache, since it may have missed invalidations.
//
// Checking a request never calls Redis: each replica holds the revocations
// in memory.
//
// # When Redis is down
//
// By default replicas keep serving with the revocations they know. The
// outage is logged once and its end once. A revocation made meanwhile holds
// at once on the replica that made it; [Store.Publish] reports that it is
// not stored (so [ssogate.Middleware.Revoke] returns an error matching
// [ssogate.ErrNotShared]), and the store retries it every
// [Options].RetryInterval until Redis takes it, whereupon every replica
// gets it. With [Options].FailClosed, replicas instead refuse every session
// (503) from the moment they lose Redis until they have read the whole set
// again.
//
// Revocations live in Redis only: run it with persistence (appendonly) if a
// replica that starts after a Redis restart must know those made before.
//
// # Trust
//
// What Redis holds can only take access away, never grant it: a revocation
// ends sessions, an event empties caches. Records and messages that do not
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
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
)

// Defaults of [Options].
const (
	DefaultPrefix         = "ssogate:"
	DefaultResyncInterval = 30 * time.Second
	DefaultRetryInterval  = time.Second
	DefaultTimeout        = 5 * time.Second
)

// Options configures a [Store]. The zero value is ready to use.
type Options struct {
	// Prefix begins the store's key and channel names, so that several
	// apps can share one Redis database. Default "ssogate:".
	Prefix string
	// ResyncInterval is how often each replica reads every revocation in
	// force, in case it missed a message. Default 30 s.
	ResyncInterval time.Duration
	// RetryInterval is how often revocations that Redis did not take are
	// tried again, and how often a lost Redis is tried while it is down.
	// Default 1 s.
	RetryInterval time.Duration
	// Timeout bounds each Redis call the store makes on its own (reading
	// the set, retries), and the first read in [New]. Default 5 s.
	Timeout time.Duration
	// FailClosed makes replicas refuse every session while they cannot
	// vouch for knowing every revocation: from the moment Redis fails
	// until the store has read the whole set again. Default false: keep
	// serving with the revocations known.
	FailClosed bool
	// Logger receives the start and end of each outage and the records
	// skipped as malformed. Default slog.Default().
	Logger *slog.Logger
}

// Store is an [ssogate.Backplane] on Redis. Make one with [New]; stop it
// with [Store.Close]. It is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	opts    Options
	log     *slog.Logger
	key     string // the sorted set of revocations
	channel string // where updates are published
	now     func() time.Time

	cancel context.CancelFunc
	done   sync.WaitGroup
	// ps is the subscription; Close closes it to end a blocked read.
	ps *redis.PubSub
	// owned is the client Open made, which Close closes.
	owned io.Closer

	down atomic.Bool // Redis is failing: the outage was logged

	// mu guards subs, known, pending and synced.
	mu   sync.Mutex
	subs []*ssogate.Subscriber
	// known holds every revocation this store has seen, by member, for
	// subscribers that come later.
	known map[string]ssogate.Revocation
	// pending holds revocations that Redis has not taken yet, by member.
	pending map[string]ssogate.Revocation
	// synced reports that the whole set was read since Redis last failed.
	synced bool
}

var _ ssogate.Backplane = (*Store)(nil)

// New returns a Store on rdb, which it does not close. It reads the
// revocations in force before it returns, so that a replica that starts
// later refuses at once the sessions revoked before; if Redis cannot be
// reached within [Options].Timeout, New still succeeds, logs the outage
// and keeps trying.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil client")
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"ResyncInterval", &opts.ResyncInterval, DefaultResyncInterval},
		{"RetryInterval", &opts.RetryInterval, DefaultRetryInterval},
		{"Timeout", &opts.Timeout, DefaultTimeout},
	}
	for _, f := range durations {
		switch {
		case *f.d == 0:
			*f.d = f.def
		case *f.d < 0:
			return nil, fmt.Errorf("redisstore: Options.%s must not be negative", f.name)
		}
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Store{
		rdb:     rdb,
		opts:    opts,
		log:     opts.Logger,
		key:     opts.Prefix + "revocations",
		channel: opts.Prefix + "updates",
		now:     time.Now,
		known:   make(map[string]ssogate.Revocation),
		pending: make(map[string]ssogate.Revocation),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.resync(ctx, false)
	s.ps = rdb.Subscribe(ctx)
	s.done.Add(2)
	go s.subscribe(ctx)
	go s.maintain(ctx)
	return s, nil
}

// Open returns a Store on a client of its own for a Redis URL, such as
// redis://localhost:6379/0 or rediss://user:password@host:6380 (see
// [redis.ParseURL]). [Store.Close] closes the client.
func Open(url string, opts Options) (*Store, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		// The URL may hold a password: the error does not quote it.
		return nil, errors.New("redisstore: malformed Redis URL (want redis://host:port[/db])")
	}
	rdb := redis.NewClient(ro)
	s, err := New(rdb, opts)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	s.owned = rdb
	return s, nil
}

// Close stops the store's goroutines and waits for them, and closes the
// client if [Open] made it. Revocations still pending are dropped from this
// store (they hold on the replica that made them until it stops).
func (s *Store) Close() error {
	s.cancel()
	err := s.ps.Close()
	s.done.Wait()
	if s.owned != nil {
		err = errors.Join(err, s.owned.Close())
	}
	return err
}

// Publish stores u's revocations in Redis and publishes u to every replica,
// this one included, in one transaction. If Redis does not take them, it
// returns the error and keeps the revocations to retry every
// [Options].RetryInterval until Redis does. An update that holds only an
// event is not retried: the webhook handler answers WorkOS with an error,
// and WorkOS delivers the event again.
func (s *Store) Publish(ctx context.Context, u ssogate.Update) error {
	msg := message{V: messageVersion, Event: u.Event}
	members := make([]redis.Z, 0, len(u.Revocations))
	for _, r := range u.Revocations {
		if err := r.Validate(); err != nil {
			return err
		}
		rec := encodeRecord(r)
		msg.Revocations = append(msg.Revocations, rec)
		members = append(members, redis.Z{Score: float64(r.Expires.UnixMilli()), Member: rec.member()})
	}
	s.remember(u.Revocations)
	err := s.store(ctx, members, msg)
	if err != nil && len(u.Revocations) > 0 {
		s.mu.Lock()
		for _, r := range u.Revocations {
			s.pending[encodeRecord(r).member()] = r
		}
		s.mu.Unlock()
	}
	return err
}

// store adds members to the set and publishes msg, both or neither.
func (s *Store) store(ctx context.Context, members []redis.Z, msg message) error {
	payload, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if len(members) > 0 {
			p.ZAdd(ctx, s.key, members...)
		}
		p.Publish(ctx, s.channel, payload)
		return nil
	})
	if err != nil {
		s.failed(err)
		return fmt.Errorf("redisstore: %w", err)
	}
	return nil
}

// Subscribe delivers to sub the revocations known so far, then every update.
func (s *Store) Subscribe(sub ssogate.Subscriber) func() {
	p := &sub
	s.mu.Lock()
	s.subs = append(s.subs, p)
	known := s.knownLocked()
	failClosed := s.opts.FailClosed && !s.synced
	s.mu.Unlock()
	if failClosed && p.FailClosed != nil {
		p.FailClosed(errNotSynced)
	}
	p.Apply(ssogate.Update{Revocations: known, Resync: true})
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.subs = slices.DeleteFunc(s.subs, func(x *ssogate.Subscriber) bool { return x == p })
	}
}

var errNotSynced = errors.New("redisstore: the revocations have not been read from Redis since it was lost")

// subscribe receives the published updates until ctx ends. Each
// (re)subscription is followed by a full resync: messages published while
// the subscription was away are lost.
func (s *Store) subscribe(ctx context.Context) {
	defer s.done.Done()
	ps := s.ps
	for ctx.Err() == nil {
		// Subscribing again is cheap, and brings a confirmation after
		// every reconnection of the subscription.
		if err := ps.Subscribe(ctx, s.channel); err != nil {
			s.failed(err)
			s.sleep(ctx, s.opts.RetryInterval)
			continue
		}
		s.receive(ctx, ps)
	}
}

// receive handles what ps delivers until it fails.
func (s *Store) receive(ctx context.Context, ps *redis.PubSub) {
	for {
		m, err := ps.ReceiveTimeout(ctx, s.opts.Timeout)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var timeout interface{ Timeout() bool }
			if errors.As(err, &timeout) && timeout.Timeout() {
				// A quiet channel, or a Redis that hangs: ask it.
				if err := ps.Ping(ctx); err == nil {
					continue
				}
			}
			s.failed(err)
			s.sleep(ctx, s.opts.RetryInterval)
			return
		}
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// Updates published while the subscription was away are lost.
				s.resync(ctx, true)
			}
		case *redis.Message:
			u, err := decodeMessage([]byte(m.Payload))
			if err != nil {
				s.log.Warn("redisstore: malformed update skipped", "channel", s.channel, "err", err)
				continue
			}
			s.remember(u.Revocations)
			s.deliver(u)
		}
	}
}

// maintain retries pending revocations, tries a lost Redis, and resyncs
// periodically, until ctx ends.
func (s *Store) maintain(ctx context.Context) {
	defer s.done.Done()
	tick := time.NewTicker(s.opts.RetryInterval)
	defer tick.Stop()
	lastSync := s.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.retryPending(ctx)
		if s.down.Load() || s.now().Sub(lastSync) >= s.opts.ResyncInterval {
			s.resync(ctx, false)
			lastSync = s.now()
		}
	}
}

// retryPending tries to store the revocations Redis has not taken.
func (s *Store) retryPending(ctx context.Context) {
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
	msg := message{V: messageVersion}
	members := make([]redis.Z, 0, len(revs))
	for _, r := range revs {
		rec := encodeRecord(r)
		msg.Revocations = append(msg.Revocations, rec)
		members = append(members, redis.Z{Score: float64(r.Expires.UnixMilli()), Member: rec.member()})
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := s.store(ctx, members, msg); err != nil {
		return
	}
	s.mu.Lock()
	for _, z := range members {
		delete(s.pending, z.Member.(string))
	}
	s.mu.Unlock()
	s.log.Info("redisstore: revocations made while Redis was unreachable are stored", "count", len(revs))
}

// resync reads every revocation in force, forgets the expired ones in
// Redis, and delivers them all; with missed set, as a Resync update.
func (s *Store) resync(parent context.Context, missed bool) {
	ctx, cancel := context.WithTimeout(parent, s.opts.Timeout)
	defer cancel()
	nowMS := strconv.FormatInt(s.now().UnixMilli(), 10)
	var members *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, s.key, "-inf", "("+nowMS)
		members = p.ZRangeByScore(ctx, s.key, &redis.ZRangeBy{Min: nowMS, Max: "+inf"})
		return nil
	})
	if err != nil {
		if parent.Err() == nil { // not closing
			s.failed(err)
		}
		return
	}
	var revs []ssogate.Revocation
	skipped := 0
	for _, m := range members.Val() {
		r, err := decodeMember(m)
		if err != nil {
			skipped++
			continue
		}
		revs = append(revs, r)
	}
	if skipped > 0 {
		s.log.Warn("redisstore: malformed revocation records skipped", "key", s.key, "count", skipped)
	}
	s.remember(revs)
	s.mu.Lock()
	all := s.knownLocked()
	wasSynced := s.synced
	s.synced = true
	s.mu.Unlock()
	s.deliver(ssogate.Update{Revocations: all, Resync: missed})
	if s.down.CompareAndSwap(true, false) {
		s.log.Info("redisstore: Redis is reachable again")
	}
	if !wasSynced && s.opts.FailClosed {
		s.failClosed(nil)
	}
}

// failed notes that a Redis call failed: the first failure of an outage is
// logged, and with FailClosed the replicas stop serving sessions.
func (s *Store) failed(err error) {
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("redisstore: Redis is unreachable; serving with the revocations known", "err", err, "fail_closed", s.opts.FailClosed)
	}
	s.mu.Lock()
	wasSynced := s.synced
	s.synced = false
	s.mu.Unlock()
	if wasSynced && s.opts.FailClosed {
		s.failClosed(err)
	}
}

func (s *Store) failClosed(err error) {
	s.mu.Lock()
	subs := slices.Clone(s.subs)
	s.mu.Unlock()
	for _, p := range subs {
		if p.FailClosed != nil {
			p.FailClosed(err)
		}
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

// remember adds revs to the known set and forgets the expired ones.
func (s *Store) remember(revs []ssogate.Revocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for m, r := range s.known {
		if r.Expires.Before(now) {
			delete(s.known, m)
		}
	}
	for _, r := range revs {
		if !r.Expires.Before(now) {
			s.known[encodeRecord(r).member()] = r
		}
	}
}

func (s *Store) knownLocked() []ssogate.Revocation {
	out := make([]ssogate.Revocation, 0, len(s.known))
	for _, r := range s.known {
		out = append(out, r)
	}
	return out
}

func (s *Store) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

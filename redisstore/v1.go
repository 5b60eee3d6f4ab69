package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workos"
)

// The previous format of this package, version 1: each revocation a JSON
// member of the sorted set {Prefix}revocations (no braces), scored by its
// expiry in Unix ms, and each update a JSON message published on
// {Prefix}updates. Its replicas read the whole set when they subscribe and
// every 30 seconds.

// v1Record is a revocation as version 1 stored it. Its fields are in
// version 1's order, so that a member written here equals one written
// there.
type v1Record struct {
	V       int    `json:"v"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	At      int64  `json:"at"`
	Expires int64  `json:"expires"`
}

// v1Message is an update as version 1 published it.
type v1Message struct {
	V           int           `json:"v"`
	Revocations []v1Record    `json:"revocations,omitempty"`
	Event       *workos.Event `json:"event,omitempty"`
}

// Bounds of version 1's messages.
const (
	v1MaxMessageBytes       = 1 << 20
	v1MaxMessageRevocations = 10000
)

func v1RecordOf(r ssogate.Revocation) v1Record {
	return v1Record{V: 1, Kind: r.Kind.String(), ID: r.ID, At: r.At.UnixMilli(), Expires: r.Expires.UnixMilli()}
}

func (rec v1Record) member() string {
	b, _ := json.Marshal(rec) // strings and numbers only
	return string(b)
}

func (rec v1Record) revocation() (ssogate.Revocation, error) {
	if rec.V != 1 || rec.At <= 0 || rec.Expires < rec.At {
		return ssogate.Revocation{}, errMalformed
	}
	for k := range kindLetters {
		if k.String() == rec.Kind {
			r := ssogate.Revocation{Kind: k, ID: rec.ID, At: time.UnixMilli(rec.At), Expires: time.UnixMilli(rec.Expires)}
			if r.Validate() != nil {
				return ssogate.Revocation{}, errMalformed
			}
			return r, nil
		}
	}
	return ssogate.Revocation{}, errMalformed
}

// decodeV1Member decodes a member of version 1's sorted set.
func decodeV1Member(m string) (ssogate.Revocation, error) {
	var rec v1Record
	if len(m) > 512 || strictUnmarshal([]byte(m), &rec) != nil {
		return ssogate.Revocation{}, errMalformed
	}
	return rec.revocation()
}

// decodeV1Message decodes a message of version 1, refusing it whole if any
// part is malformed.
func decodeV1Message(b []byte) (ssogate.Update, error) {
	var msg v1Message
	if len(b) > v1MaxMessageBytes || strictUnmarshal(b, &msg) != nil || msg.V != 1 || len(msg.Revocations) > v1MaxMessageRevocations {
		return ssogate.Update{}, errMalformed
	}
	u := ssogate.Update{Event: msg.Event}
	for _, rec := range msg.Revocations {
		r, err := rec.revocation()
		if err != nil {
			return ssogate.Update{}, err
		}
		u.Revocations = append(u.Revocations, r)
	}
	if u.Event != nil && (u.Event.Event == "" || u.Event.CreatedAt.IsZero()) {
		return ssogate.Update{}, errMalformed
	}
	if u.Event == nil && len(u.Revocations) == 0 {
		return ssogate.Update{}, errMalformed
	}
	return u, nil
}

// oldFleet carries revocations between this store and the replicas of
// version 1 that share its Redis, while there are any: they are the
// clients subscribed to version 1's channel (this store listens there by
// pattern, which PUBSUB NUMSUB does not count).
type oldFleet struct {
	s *Store

	mu     sync.Mutex // guards the fields below
	count  int64      // version 1's subscribers at the last look
	cancel context.CancelFunc
	done   chan struct{}
	// malformed counts the malformed messages skipped since warned.
	malformed int
	warned    time.Time
}

// seen notes how many replicas of version 1 are subscribed, and starts or
// stops carrying revocations over.
func (o *oldFleet) seen(n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.count = n
	switch {
	case n > 0 && o.cancel == nil:
		if o.s.ctx.Err() != nil {
			return
		}
		o.s.log.Warn("redisstore: replicas of the previous storage format share this Redis; carrying revocations over both ways until the last is gone", "old_replicas", n)
		ctx, cancel := context.WithCancel(o.s.ctx)
		o.cancel, o.done = cancel, make(chan struct{})
		go o.bridge(ctx, o.done)
	case n == 0 && o.cancel != nil:
		o.cancel()
		o.cancel = nil
		o.s.log.Info("redisstore: no replica of the previous storage format is left")
	}
}

// OldReplicas returns how many replicas of the previous storage format
// were subscribed to its channel when this store last asked Redis: while
// it is not 0, a rolling upgrade is under way and the store carries
// revocations over both ways.
func (s *Store) OldReplicas() int {
	s.old.mu.Lock()
	defer s.old.mu.Unlock()
	return int(s.old.count)
}

func (o *oldFleet) active() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.cancel != nil
}

// bridge listens on version 1's channel until ctx ends: each message is
// delivered here and written into the set and stream (which adds only what
// they lack), and each (re)subscription, which may have missed messages,
// carries both sets over.
func (o *oldFleet) bridge(ctx context.Context, done chan struct{}) {
	defer close(done)
	ps := o.s.rdb.PSubscribe(ctx, globEscape(o.s.keys.v1Channel))
	defer ps.Close()
	for {
		m, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			o.s.sleep(o.s.opts.RetryInterval) // go-redis subscribes again
			continue
		}
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "psubscribe" {
				o.carry(ctx)
			}
		case *redis.Message:
			u, err := decodeV1Message([]byte(m.Payload))
			if err != nil {
				o.skipped()
				continue
			}
			o.s.deliver(u)
			if len(u.Revocations) > 0 {
				wctx, cancel := context.WithTimeout(ctx, o.s.opts.Timeout)
				if _, err := o.s.writeBack(wctx, u.Revocations); err != nil {
					o.s.failed(err)
				}
				cancel()
			}
		}
	}
}

// skipped counts a malformed message on version 1's channel, and logs
// the count at most once a minute: whoever can publish there must not be
// able to flood the log.
func (o *oldFleet) skipped() {
	o.mu.Lock()
	o.malformed++
	now := o.s.now()
	if now.Sub(o.warned) < time.Minute {
		o.mu.Unlock()
		return
	}
	n := o.malformed
	o.malformed, o.warned = 0, now
	o.mu.Unlock()
	o.s.log.Warn("redisstore: malformed updates of the previous format skipped", "channel", o.s.keys.v1Channel, "count", n)
}

// carry writes what version 1's set holds into this format's, and what
// this replica holds into version 1's set and channel.
func (o *oldFleet) carry(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 4*o.s.opts.Timeout)
	defer cancel()
	if revs, err := o.readV1(ctx); err == nil && len(revs) > 0 {
		o.s.deliver(ssogate.Update{Revocations: revs})
		if n, err := o.s.writeBack(ctx, revs); err == nil && n > 0 {
			o.s.log.Info("redisstore: revocations of the previous format carried over", "count", n)
		}
	}
	if err := o.write(ctx, o.s.known()); err != nil {
		o.s.log.Warn("redisstore: could not carry revocations over to the previous format", "err", err)
	}
}

// migrate carries version 1's set over once, when the epoch is made: a
// deployment upgraded all at once.
func (o *oldFleet) migrate(ctx context.Context) {
	revs, err := o.readV1(ctx)
	if err != nil || len(revs) == 0 {
		return
	}
	if n, err := o.s.writeBack(ctx, revs); err == nil {
		o.s.log.Info("redisstore: revocations of the previous format carried over", "count", n)
	}
}

// readV1 reads the revocations in force in version 1's set.
func (o *oldFleet) readV1(ctx context.Context) ([]ssogate.Revocation, error) {
	members, err := o.s.rdb.ZRangeByScore(ctx, o.s.keys.v1, &redis.ZRangeBy{Min: formatMS(o.s.now().UnixMilli()), Max: "+inf"}).Result()
	if err != nil {
		return nil, err
	}
	var revs []ssogate.Revocation
	for _, m := range members {
		if r, err := decodeV1Member(m); err == nil {
			revs = append(revs, r)
		}
	}
	return revs, nil
}

// publish shares what this replica stored with version 1's replicas, if
// any are running.
func (o *oldFleet) publish(u ssogate.Update) {
	if !o.active() {
		return
	}
	ctx, cancel := context.WithTimeout(o.s.ctx, o.s.opts.Timeout)
	defer cancel()
	err := o.write(ctx, u.Revocations)
	if err == nil && u.Event != nil {
		var b []byte
		if b, err = json.Marshal(v1Message{V: 1, Event: u.Event}); err == nil {
			err = o.s.rdb.Publish(ctx, o.s.keys.v1Channel, b).Err()
		}
	}
	if err != nil {
		o.s.log.Warn("redisstore: could not share an update with the replicas of the previous format", "err", err)
	}
}

// write adds revs to version 1's set and publishes them on its channel.
func (o *oldFleet) write(ctx context.Context, revs []ssogate.Revocation) error {
	for i := 0; i < len(revs); i += v1MaxMessageRevocations {
		chunk := revs[i:min(i+v1MaxMessageRevocations, len(revs))]
		msg := v1Message{V: 1}
		zs := make([]redis.Z, len(chunk))
		for j, r := range chunk {
			rec := v1RecordOf(r)
			msg.Revocations = append(msg.Revocations, rec)
			zs[j] = redis.Z{Score: float64(rec.Expires), Member: rec.member()}
		}
		b, err := json.Marshal(msg)
		if err != nil {
			return err
		}
		if len(b) > v1MaxMessageBytes {
			return errors.New("redisstore: update too large for the previous format")
		}
		// Two keys of different slots on Redis Cluster: not one transaction.
		if err := o.s.rdb.ZAdd(ctx, o.s.keys.v1, zs...).Err(); err != nil {
			return fmt.Errorf("redisstore: %w", err)
		}
		if err := o.s.rdb.Publish(ctx, o.s.keys.v1Channel, b).Err(); err != nil {
			return fmt.Errorf("redisstore: %w", err)
		}
	}
	return nil
}

// globEscape makes a PSUBSCRIBE pattern that matches channel alone.
func globEscape(channel string) string {
	var b strings.Builder
	for _, c := range channel {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

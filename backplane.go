package ssogate

import (
	"context"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// A Backplane shares between the replicas of an app what must hold on all
// of them: revocations ([Middleware.Revoke], sign-outs, and connections
// deactivated or deleted) and the connection events that invalidate their
// connection caches. Each replica keeps its own copy of the revocations in
// memory, so that checking a request never waits for the backplane.
//
// The default, [NewLocalBackplane], serves the replicas of one process. The
// module github.com/ssogate/ssogate/redisstore shares them through Redis.
type Backplane interface {
	// Publish stores u and delivers it to every subscriber of every
	// replica, this one's included. It returns once u is stored, or with an
	// error if it cannot be before ctx ends; a backplane that keeps trying
	// afterwards says so in its documentation.
	Publish(ctx context.Context, u Update) error
	// Subscribe starts delivering updates to s: first, as one update with
	// Resync set, every revocation still in force; then each update
	// published by any replica, and again every revocation in force now
	// and then, with Resync set whenever the backplane may have missed
	// updates (after a reconnection, say). It returns a function that
	// stops the deliveries.
	Subscribe(s Subscriber) (cancel func())
}

// An Update is what replicas share through a [Backplane].
type Update struct {
	// Revocations to apply.
	Revocations []Revocation
	// Event, if set, is a verified connection event, for
	// [ConnectionCache.ApplyEvent] on every replica.
	Event *workos.Event
	// Resync reports that updates may have been missed (the backplane
	// reconnected, say): Revocations holds every revocation in force, and
	// connection caches are purged, since invalidations may be among what
	// was missed.
	Resync bool
}

// A Subscriber receives a [Backplane]'s deliveries. Its functions must not
// block for long: they run on the backplane's delivery path.
type Subscriber struct {
	// Apply applies an update.
	Apply func(Update)
	// FailClosed, called with a non-nil error, asks the replica to refuse
	// every session because it may have missed revocations; with nil, to
	// serve them again.
	FailClosed func(error)
	// Known yields every revocation the replica holds, for a backplane
	// whose store lost data (a Redis that restarted empty, a failover that
	// lost recent writes) to write them back, so that replicas started
	// afterwards know them too. It may be nil.
	Known iter.Seq[Revocation]
	// Outage, if set, is told when the backplane's store becomes
	// unreachable (a non-nil error) and when it answers again (nil), once
	// each per outage, whether or not the replica fails closed. It is for
	// observers only.
	Outage func(error)
}

// NewLocalBackplane returns a [Backplane] for the replicas of one process:
// Publish delivers to every subscriber at once and keeps the revocations
// until they expire, for subscribers that come later. It is the default
// [Config].Backplane; share one between several [Middleware] values to
// make them act as replicas of one app.
func NewLocalBackplane() Backplane {
	return &localBackplane{now: time.Now}
}

type localBackplane struct {
	now func() time.Time
	// cursors make it the CursorStore of its replicas' FollowEvents.
	memoryCursors

	// mu guards subs and revs; it is held while delivering, so that every
	// subscriber sees the updates in one order.
	mu   sync.Mutex
	subs []*Subscriber
	revs []Revocation
}

func (b *localBackplane) Publish(ctx context.Context, u Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.revs = slices.DeleteFunc(b.revs, func(r Revocation) bool { return r.Expires.Before(now) })
	b.revs = append(b.revs, u.Revocations...)
	u.Resync = false
	for _, s := range b.subs {
		s.Apply(u)
	}
	return nil
}

func (b *localBackplane) Subscribe(s Subscriber) func() {
	sub := &s
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs, sub)
	if len(b.revs) > 0 {
		sub.Apply(Update{Revocations: slices.Clone(b.revs), Resync: true})
	}
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.subs = slices.DeleteFunc(b.subs, func(x *Subscriber) bool { return x == sub })
	}
}

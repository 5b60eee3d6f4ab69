package ssogate

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// eventsFollower runs FollowEvents of a gate over the emulator's Events
// API, recording each list call's options and each poll.
type eventsFollower struct {
	t      *testing.T
	client *workos.Client
	mu     sync.Mutex
	calls  []workos.ListEventsOptions
	polls  []EventsInfo
	failed int // list calls to fail from now on
	cancel context.CancelFunc
	done   chan error
}

func newEventsFollower(t *testing.T, f *flow) *eventsFollower {
	return &eventsFollower{t: t, client: f.gate.cfg.Provider.(*workos.Client)}
}

func (e *eventsFollower) list(ctx context.Context, opts workos.ListEventsOptions) (*workos.EventList, error) {
	e.mu.Lock()
	e.calls = append(e.calls, opts)
	fail := e.failed > 0
	if fail {
		e.failed--
	}
	e.mu.Unlock()
	if fail {
		return nil, errors.New("the network is down")
	}
	return e.client.ListEvents(ctx, opts)
}

// record is an Observer's EventsPolled.
func (e *eventsFollower) record(_ context.Context, info EventsInfo) {
	e.mu.Lock()
	e.polls = append(e.polls, info)
	e.mu.Unlock()
}

// start runs g.FollowEvents until the test ends.
func (e *eventsFollower) start(g *Middleware, interval time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	go func() { e.done <- g.FollowEvents(ctx, e.list, interval) }()
	e.t.Cleanup(e.stop)
}

func (e *eventsFollower) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	if err := <-e.done; !errors.Is(err, context.Canceled) {
		e.t.Errorf("FollowEvents returned %v, want context.Canceled", err)
	}
	e.cancel = nil
}

// waitCaughtUp waits for n more polls that read every event.
func (e *eventsFollower) waitCaughtUp(n int) []EventsInfo {
	e.t.Helper()
	e.mu.Lock()
	from := len(e.polls)
	e.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		polls := slices.Clone(e.polls[from:])
		e.mu.Unlock()
		caught := 0
		for _, p := range polls {
			if p.CaughtUp {
				caught++
			}
		}
		if caught >= n {
			return polls
		}
		time.Sleep(2 * time.Millisecond)
	}
	e.t.Fatalf("no %d polls caught up in 10 s", n)
	return nil
}

// TestFollowEventsCatchesUpMissedWebhooks: with no webhook delivered at
// all, a user removed from the directory is signed out within a poll.
func TestFollowEventsCatchesUpMissedWebhooks(t *testing.T) {
	var e *eventsFollower
	f := newFlow(t, nil, func(c *Config) {
		c.Observer = &Observer{EventsPolled: func(ctx context.Context, info EventsInfo) { e.record(ctx, info) }}
	})
	e = newEventsFollower(t, f)
	f.signInAs(workostest.AliceEmail, "organization="+workostest.AcmeOrganizationID)
	bob := f.newBrowser()
	bob.signInAs(workostest.BobEmail, "organization="+workostest.AcmeOrganizationID)
	f.clock.Advance(time.Second)

	e.start(f.gate, time.Millisecond)
	e.waitCaughtUp(1)
	bob.wantSignedIn(workostest.BobEmail)
	if err := f.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)); err != nil {
		t.Fatal(err)
	}
	e.waitCaughtUp(2)
	bob.wantSignedOut()
	f.wantSignedIn(workostest.AliceEmail)
	if got := f.gate.Stats().EventsCaughtUp; got.IsZero() {
		t.Error("Stats.EventsCaughtUp is zero after polls that caught up")
	}

	// One more poll, which began once the cursor was there: the poll that
	// applied bob's removal may have begun before it.
	e.waitCaughtUp(1)
	e.mu.Lock()
	calls := slices.Clone(e.calls)
	applied := 0
	for _, p := range e.polls {
		applied += p.Applied
	}
	e.mu.Unlock()
	// The first read starts a session lifetime back; the later ones after
	// the cursor, once there is one; every one names the events.
	if first := calls[0]; first.After != "" || !first.RangeStart.Equal(f.clock.Now().Add(-MaxSessionLifetime)) {
		t.Errorf("first read: %+v", first)
	}
	last := calls[len(calls)-1]
	if last.After == "" || !last.RangeStart.IsZero() || !slices.Contains(last.Events, workos.EventDirectoryUserDeleted) || last.Limit != 100 {
		t.Errorf("last read: %+v", last)
	}
	if applied != 1 {
		t.Errorf("%d events applied, want 1 (bob's deletion, once)", applied)
	}
}

// TestFollowEventsSharesItsCursor: a replica that starts polling later
// goes on from the cursor the first stored in the backplane, and handles
// nothing twice; nor does one that reads an event the webhook brought.
func TestFollowEventsSharesItsCursor(t *testing.T) {
	bp := NewLocalBackplane()
	var first *eventsFollower
	d := newDirectoryFlow(t, func(c *Config) {
		c.Backplane = bp
		c.Observer = &Observer{EventsPolled: func(ctx context.Context, info EventsInfo) { first.record(ctx, info) }}
	})
	first = newEventsFollower(t, d.flow)
	first.start(d.gate, time.Millisecond)
	first.waitCaughtUp(1)
	if err := d.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)); err != nil {
		t.Fatal(err)
	}
	d.flush() // the webhook brings it too
	first.waitCaughtUp(2)
	first.stop()
	d.bob.wantSignedOut()
	audited := d.auditRevocations()
	cursor, _ := bp.(CursorStore).Cursor(context.Background(), eventsCursorName)
	if cursor == "" {
		t.Fatal("no cursor in the backplane")
	}

	var second *eventsFollower
	other := d.newGate(func(c *Config) {
		c.Backplane = bp
		c.Observer = &Observer{EventsPolled: func(ctx context.Context, info EventsInfo) { second.record(ctx, info) }}
	})
	t.Cleanup(func() { other.Close() })
	second = newEventsFollower(t, d.flow)
	second.start(other, time.Millisecond)
	polls := second.waitCaughtUp(1)
	second.mu.Lock()
	firstCall := second.calls[0]
	second.mu.Unlock()
	if firstCall.After != cursor {
		t.Errorf("the second replica read after %q, want the stored %q", firstCall.After, cursor)
	}
	for _, p := range polls {
		if p.Applied != 0 {
			t.Errorf("the second replica applied %d events again", p.Applied)
		}
	}
	if n := d.auditRevocations(); n != audited {
		t.Errorf("%d more revocations audited", n-audited)
	}
	d.alice.wantSignedIn(workostest.AliceEmail)
}

// TestFollowEventsLosesNothingWhileFailing: while the Events API cannot be
// read, or the backplane cannot store what an event revokes, the cursor
// stays before the event; once both work, the event is shared.
func TestFollowEventsLosesNothingWhileFailing(t *testing.T) {
	down := errors.New("backplane down")
	bp := &toggleBackplane{Backplane: NewLocalBackplane()}
	bp.fail(down)
	var e *eventsFollower
	f := newFlow(t, nil, func(c *Config) {
		c.Backplane = bp
		c.Observer = &Observer{EventsPolled: func(ctx context.Context, info EventsInfo) { e.record(ctx, info) }}
	})
	e = newEventsFollower(t, f)
	bob := f.newBrowser()
	bob.signInAs(workostest.BobEmail, "organization="+workostest.AcmeOrganizationID)
	f.clock.Advance(time.Second)
	if err := f.idp.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.failed = 2
	e.mu.Unlock()
	e.start(f.gate, time.Millisecond)

	// Two failed reads, then reads whose event cannot be shared.
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.mu.Lock()
		n := len(e.polls)
		var errs []error
		for _, p := range e.polls {
			errs = append(errs, p.Err)
		}
		e.mu.Unlock()
		if n >= 4 {
			if errs[0] == nil || errs[1] == nil || !errors.Is(errs[2], ErrNotShared) || !errors.Is(errs[3], ErrNotShared) {
				t.Fatalf("poll errors %v", errs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d polls in 10 s", n)
		}
		time.Sleep(time.Millisecond)
	}
	bob.wantSignedOut() // it holds here already
	if c, _ := bp.Cursor(context.Background(), eventsCursorName); c != "" {
		t.Errorf("cursor moved to %q past an event not shared", c)
	}
	if bp.published() != 0 {
		t.Fatal("published while down")
	}
	bp.fail(nil)
	e.waitCaughtUp(1)
	if bp.published() == 0 {
		t.Error("the event was never shared once the backplane was back")
	}
	if c, _ := bp.Cursor(context.Background(), eventsCursorName); c == "" {
		t.Error("the cursor did not move once the event was shared")
	}
	late := f.newGate(func(c *Config) { c.Backplane = bp })
	t.Cleanup(func() { late.Close() })
	if late.Stats().Revocations == 0 {
		t.Error("a replica started afterwards does not know the revocation")
	}
}

// toggleBackplane is a local backplane whose Publish can be made to fail.
type toggleBackplane struct {
	Backplane
	memoryCursors
	mu   sync.Mutex
	err  error
	sent int
}

func (b *toggleBackplane) fail(err error) {
	b.mu.Lock()
	b.err = err
	b.mu.Unlock()
}

func (b *toggleBackplane) published() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sent
}

func (b *toggleBackplane) Publish(ctx context.Context, u Update) error {
	b.mu.Lock()
	err := b.err
	if err == nil {
		b.sent++
	}
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return b.Backplane.Publish(ctx, u)
}

func TestFollowEventsRefusesBadArguments(t *testing.T) {
	f := newFlow(t, nil)
	e := newEventsFollower(t, f)
	for _, tc := range []struct {
		list     func(context.Context, workos.ListEventsOptions) (*workos.EventList, error)
		interval time.Duration
	}{{nil, time.Second}, {e.list, 0}, {e.list, -time.Second}} {
		if err := f.gate.FollowEvents(context.Background(), tc.list, tc.interval); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("got %v, want ErrInvalidConfig", err)
		}
	}
	// A malformed event of the Events API is skipped, not retried for
	// ever.
	bad := func(context.Context, workos.ListEventsOptions) (*workos.EventList, error) {
		return &workos.EventList{Data: []workos.Event{{ID: "event_1", Event: workos.EventDirectoryUserDeleted, Data: []byte(`{}`), CreatedAt: time.Now()}}}, nil
	}
	info := f.gate.pollEvents(context.Background(), bad, &memoryCursors{})
	if info.Invalid != 1 || info.Applied != 0 || info.Err != nil || !info.CaughtUp {
		t.Errorf("a malformed event: %+v", info)
	}
}

package ssogate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// A CursorStore keeps the cursor of [Middleware.FollowEvents] where every
// replica reads it. A [Backplane] that is also a CursorStore keeps it for
// every replica it serves: [NewLocalBackplane]'s does, in memory, and
// redisstore's does, in Redis. With a Backplane that is not, each
// Middleware keeps its own, in memory.
type CursorStore interface {
	// Cursor returns the cursor stored under name, or "" if there is none.
	Cursor(ctx context.Context, name string) (string, error)
	// SwapCursor stores next under name if the cursor stored there is
	// still prev ("" for none), and reports whether it did.
	SwapCursor(ctx context.Context, name, prev, next string) (bool, error)
}

// EventsInfo reports one poll of [Middleware.FollowEvents].
type EventsInfo struct {
	// Applied is the number of events handled, and Invalid the number of
	// malformed ones skipped.
	Applied, Invalid int
	// CaughtUp reports whether the poll read every event there was.
	CaughtUp bool
	// Err is why the poll stopped early, if it did.
	Err error
}

// The events FollowEvents asks WorkOS for: those [Middleware.HandleEvent]
// acts on.
var followedEvents = []string{
	workos.EventConnectionActivated, workos.EventConnectionDeactivated, workos.EventConnectionDeleted,
	workos.EventDirectoryUserUpdated, workos.EventDirectoryUserDeleted, workos.EventDirectoryDeleted,
}

const (
	// eventsCursorName names the cursor of FollowEvents in its store.
	eventsCursorName = "workos-events"
	// maxEventPagesPerPoll bounds the pages one poll reads (100 events
	// each); the next poll goes on from where it stopped.
	maxEventPagesPerPoll = 50
	// maxEventsBackoff bounds the wait after failed polls.
	maxEventsBackoff = 10 * time.Minute
)

// FollowEvents reads WorkOS's Events API with list (a [workos.Client]'s
// ListEvents method) every interval until ctx ends, and hands each event
// to [Middleware.HandleEvent], so that a webhook delivery that never
// arrived (the app was down, a proxy dropped it) is acted on within an
// interval, plus the few seconds WorkOS holds a new event back from reads.
// It returns ctx's error. Start it once per replica:
//
//	go gate.FollowEvents(ctx, client.ListEvents, interval)
//
// It keeps the id of the last event handled as its cursor, in the
// [CursorStore] of the Backplane when it has one, and moves it with a
// compare-and-swap, so that replicas polling at once go on from one
// another's cursor and a poll that fails moves it only past what it
// handled. Without a cursor it starts [MaxSessionLifetime] back, as far
// as an event can still matter to a session. An event handled by webhook
// and read again here changes nothing more. A failed poll is retried
// after a doubling wait, up to 10 minutes (WorkOS's 429s are waited out by
// the client already). Each poll is told to [Observer].EventsPolled, and
// [Stats].EventsCaughtUp says when the last one read every event: alert
// when that falls behind a few intervals.
func (m *Middleware) FollowEvents(ctx context.Context, list func(context.Context, workos.ListEventsOptions) (*workos.EventList, error), interval time.Duration) error {
	if list == nil || interval <= 0 {
		return &ConfigError{Field: "FollowEvents", Problem: "a list function and a positive interval are required"}
	}
	store, ok := m.backplane.(CursorStore)
	if !ok {
		store = &memoryCursors{}
	}
	failures := 0
	for {
		info := m.pollEvents(ctx, list, store)
		if f := m.obs.EventsPolled; f != nil {
			f(ctx, info)
		}
		wait := interval
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case info.Err != nil:
			if failures == 0 {
				m.log.Warn("ssogate: reading WorkOS's events failed; retrying", "err", info.Err)
			}
			failures++
			wait = min(interval<<min(failures, 16), maxEventsBackoff)
		case failures > 0:
			m.log.Info("ssogate: reading WorkOS's events again", "failed_polls", failures)
			failures = 0
		}
		if info.CaughtUp {
			now := m.now()
			m.eventsCaughtUp.Store(&now)
		}
		// Up to a tenth more, so that replicas started together spread.
		wait += rand.N(wait/10 + 1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// pollEvents reads and handles the events after the stored cursor, page
// by page, moving the cursor past each page handled.
func (m *Middleware) pollEvents(ctx context.Context, list func(context.Context, workos.ListEventsOptions) (*workos.EventList, error), store CursorStore) EventsInfo {
	var info EventsInfo
	cursor, err := store.Cursor(ctx, eventsCursorName)
	if err != nil {
		info.Err = fmt.Errorf("reading the events cursor: %w", err)
		return info
	}
	opts := workos.ListEventsOptions{Events: followedEvents, Limit: 100, After: cursor}
	if cursor == "" {
		opts.RangeStart = m.now().Add(-MaxSessionLifetime)
	}
	ctx = withWorkOS(ctx, m.obs)
	for range maxEventPagesPerPoll {
		page, err := list(ctx, opts)
		if err != nil {
			info.Err = err
			return info
		}
		last := cursor
		for i := range page.Data {
			ev := &page.Data[i]
			if !validID(ev.ID) {
				info.Err = fmt.Errorf("%w: an event id of the Events API is malformed", ErrInvalidEvent)
				break
			}
			switch err := m.HandleEvent(ctx, ev); {
			case errors.Is(err, ErrInvalidEvent):
				m.log.Warn("ssogate: malformed event skipped", "event", sanitizeForLog(ev.Event), "event_id", ev.ID, "err", err)
				info.Invalid++
			case err != nil:
				info.Err = err
			default:
				info.Applied++
			}
			if info.Err != nil {
				break
			}
			last = ev.ID
		}
		if last != cursor {
			swapped, err := store.SwapCursor(ctx, eventsCursorName, cursor, last)
			switch {
			case err != nil:
				info.Err = fmt.Errorf("storing the events cursor: %w", err)
				return info
			case !swapped:
				// Another replica moved it: the next poll goes on from
				// there.
				return info
			}
			cursor = last
		}
		if info.Err != nil {
			return info
		}
		if page.ListMetadata.After == "" || len(page.Data) == 0 {
			info.CaughtUp = true
			return info
		}
		opts.After, opts.RangeStart = cursor, time.Time{}
	}
	return info
}

// memoryCursors is a CursorStore in memory.
type memoryCursors struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memoryCursors) Cursor(ctx context.Context, name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name], ctx.Err()
}

func (c *memoryCursors) SwapCursor(ctx context.Context, name, prev, next string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[name] != prev {
		return false, nil
	}
	if c.m == nil {
		c.m = make(map[string]string)
	}
	c.m[name] = next
	return true, nil
}

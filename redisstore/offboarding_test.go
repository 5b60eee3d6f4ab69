package redisstore

import (
	"bytes"
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/redisstore/redistest"
	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

var bobDirectoryUser = workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)

// followEvents starts r's FollowEvents on the emulator's Events API, every
// interval, until the test ends.
func (c *cluster) followEvents(r *replica, interval time.Duration) {
	c.t.Helper()
	client, err := workos.NewClient(workos.ClientConfig{APIKey: c.idp.APIKey, ClientID: c.idp.ClientID, BaseURL: c.idp.URL})
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.gate.FollowEvents(ctx, client.ListEvents, interval)
	}()
	c.t.Cleanup(func() { cancel(); <-done })
}

// TestOffboardingOnTwoReplicas: bob removed from Acme's directory loses
// his session on both replicas, by the signed webhook one of them
// receives, and alice keeps hers. The same delivery again, at the other
// replica, changes nothing.
func TestOffboardingOnTwoReplicas(t *testing.T) {
	c := newCluster(t, redistest.Shared(t), Options{})
	a, b := c.start("A"), c.start("B")
	c.takeWebhooks(a)
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, b, workostest.BobEmail)
	for _, r := range []*replica{a, b} {
		if !bob.signedIn(r, workostest.BobEmail) {
			t.Fatalf("%s refuses bob before his removal", r.name)
		}
	}

	if err := c.idp.DeleteDirectoryUser(bobDirectoryUser); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*replica{a, b} {
		eventually(t, "bob signed out on "+r.name, func() bool { return bob.status(r) == http.StatusFound })
	}
	for _, r := range []*replica{a, b} {
		if !alice.signedIn(r, workostest.AliceEmail) {
			t.Errorf("%s signed alice out: only bob left the directory", r.name)
		}
	}
	c.idp.FlushWebhooks()
	deliveries := c.idp.Deliveries()
	last := deliveries[len(deliveries)-1]
	if last.Event != workos.EventDirectoryUserDeleted || last.Status != http.StatusOK {
		t.Fatalf("last delivery: %s answered %d, want %s answered 200", last.Event, last.Status, workos.EventDirectoryUserDeleted)
	}

	// The same delivery, replayed to B within its tolerance (WorkOS's
	// retries, or an attacker), is acknowledged and changes nothing: no
	// revocation more, nothing more published.
	rdb := redis.NewClient(&redis.Options{Addr: c.addr})
	defer rdb.Close()
	logKey := "{" + c.prefix + "}log"
	entries := rdb.XLen(context.Background(), logKey).Val()
	before := b.gate.Stats().Revocations
	for range 2 {
		if got := redeliver(t, b, last); got != http.StatusOK {
			t.Fatalf("the delivery again: %d, want 200", got)
		}
	}
	if got := rdb.XLen(context.Background(), logKey).Val(); got != entries {
		t.Errorf("the replays published %d entries, want none", got-entries)
	}
	if got := b.gate.Stats().Revocations; got != before {
		t.Errorf("B holds %d revocations after the replays, want %d", got, before)
	}
	for _, r := range []*replica{a, b} {
		if !alice.signedIn(r, workostest.AliceEmail) {
			t.Errorf("%s signed alice out on a replayed event", r.name)
		}
	}
}

// redeliver posts a recorded webhook delivery to r again, as WorkOS's
// retries or an attacker replaying it would.
func redeliver(t *testing.T, r *replica, d workostest.Delivery) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.app.URL+"/webhooks/workos", bytes.NewReader(d.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("WorkOS-Signature", d.Signature)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestOffboardingCaughtUpFromEvents: the webhook never arrives (no replica
// takes it), and the Events API, followed by A, ends bob's session on both
// replicas all the same.
func TestOffboardingCaughtUpFromEvents(t *testing.T) {
	c := newCluster(t, redistest.Shared(t), Options{})
	a, b := c.start("A"), c.start("B")
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, b, workostest.BobEmail)
	c.followEvents(a, 50*time.Millisecond)

	if err := c.idp.DeleteDirectoryUser(bobDirectoryUser); err != nil {
		t.Fatal(err)
	}
	c.idp.FlushWebhooks()
	deliveries := c.idp.Deliveries()
	if last := deliveries[len(deliveries)-1]; last.Event != workos.EventDirectoryUserDeleted || last.Status != http.StatusServiceUnavailable {
		t.Fatalf("last delivery: %s answered %d, want %s missed (503)", last.Event, last.Status, workos.EventDirectoryUserDeleted)
	}
	for _, r := range []*replica{a, b} {
		eventually(t, "bob signed out on "+r.name, func() bool { return bob.status(r) == http.StatusFound })
		if !alice.signedIn(r, workostest.AliceEmail) {
			t.Errorf("%s signed alice out", r.name)
		}
	}
	// The cursor is in Redis, where B would go on from it.
	eventually(t, "the cursor names the last event", func() bool {
		cur, err := b.store.Cursor(context.Background(), "workos-events")
		return err == nil && cur == deliveries[len(deliveries)-1].EventID
	})
}

// TestOffboardingThroughRedisOutage: Redis is cut off from both replicas
// while bob leaves the directory and the webhook is missed. A, following
// the Events API, retries until Redis is back, and then bob is signed out
// on both replicas: the event was not lost to the outage.
func TestOffboardingThroughRedisOutage(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv.Addr)
	c := newCluster(t, proxy.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: 500 * time.Millisecond})
	var failed atomic.Int64
	c.observer = &ssogate.Observer{EventsPolled: func(_ context.Context, info ssogate.EventsInfo) {
		if info.Err != nil {
			failed.Add(1)
		}
	}}
	a, b := c.start("A"), c.start("B")
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, b, workostest.BobEmail)
	c.followEvents(a, 50*time.Millisecond)

	proxy.Cut()
	if err := c.idp.DeleteDirectoryUser(bobDirectoryUser); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A's poll failed", func() bool { return failed.Load() > 0 })
	if !bob.signedIn(b, workostest.BobEmail) {
		t.Fatal("B signed bob out while cut off from Redis: this test shows nothing")
	}
	proxy.Heal()
	for _, r := range []*replica{a, b} {
		eventually(t, "bob signed out on "+r.name, func() bool { return bob.status(r) == http.StatusFound })
		if !alice.signedIn(r, workostest.AliceEmail) {
			t.Errorf("%s signed alice out", r.name)
		}
	}
}

// TestCursorStore pins the Store's CursorStore: a compare-and-swap on one
// key beside the store's others, shared by every store with its prefix,
// kept 30 days after its last move.
func TestCursorStore(t *testing.T) {
	addr := redistest.Shared(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	prefix := testPrefix(t)
	s1, err := New(rdb, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s1.Close() })
	s2, err := New(rdb, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	ctx := context.Background()

	if cur, err := s1.Cursor(ctx, "events"); cur != "" || err != nil {
		t.Fatalf("no cursor yet: got %q, %v", cur, err)
	}
	steps := []struct {
		store      *Store
		prev, next string
		want       bool
	}{
		{s1, "", "event_1", true},
		{s2, "", "event_2", false}, // s1 moved it first
		{s2, "event_1", "event_2", true},
		{s1, "event_1", "event_3", false}, // stale
	}
	for _, st := range steps {
		if got, err := st.store.SwapCursor(ctx, "events", st.prev, st.next); got != st.want || err != nil {
			t.Errorf("SwapCursor(%q, %q): got %v, %v, want %v", st.prev, st.next, got, err, st.want)
		}
	}
	if cur, err := s1.Cursor(ctx, "events"); cur != "event_2" || err != nil {
		t.Errorf("Cursor: got %q, %v, want event_2", cur, err)
	}
	key := "{" + prefix + "}cursor:events"
	if ttl := rdb.PTTL(ctx, key).Val(); ttl < cursorTTL-time.Minute || ttl > cursorTTL {
		t.Errorf("the cursor's TTL is %v, want %v", ttl, cursorTTL)
	}
	if cur, _ := s1.Cursor(ctx, "other"); cur != "" {
		t.Errorf("another name's cursor: %q, want none", cur)
	}
	for _, bad := range []struct{ name, next string }{{"", "x"}, {"events", ""}, {"events", string(make([]byte, 300))}} {
		if ok, err := s1.SwapCursor(ctx, bad.name, "event_2", bad.next); ok || err == nil {
			t.Errorf("SwapCursor(%q, %d bytes): got %v, %v, want an error", bad.name, len(bad.next), ok, err)
		}
	}
	if cur, _ := s1.Cursor(ctx, "events"); cur != "event_2" {
		t.Errorf("a refused swap changed the cursor to %q", cur)
	}
}

package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/redisstore/redistest"
	"github.com/ssogate/ssogate/workostest"
)

// The tests in this file are the cases where a sign-out was lost or work
// grew with the revocations in force; each failed on the store that read
// a sorted set on a timer and published on a channel.

// TestReplicaStartedWhileRedisDown starts a replica while Redis is down:
// it must not accept a session that was signed out before, so it refuses
// every session until it has read the revocations, and then serves the
// valid ones.
func TestReplicaStartedWhileRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: 500 * time.Millisecond})
	a := c.start("A")
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, a, workostest.BobEmail)
	// From now on, a replica waits for the running ones to write back, as
	// by default.
	c.opts.WriteBackGrace = DefaultWriteBackGrace
	if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(aliceID)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	d := c.start("D")
	if got := alice.status(d); got != http.StatusServiceUnavailable {
		t.Errorf("D, started while Redis is down, answers signed-out alice %d, want 503", got)
	}
	if got := bob.status(d); got != http.StatusServiceUnavailable {
		t.Errorf("D, started while Redis is down, answers bob %d, want 503 until it knows the revocations", got)
	}
	if err := d.gate.Ready(); err == nil || !strings.Contains(err.Error(), "have not been read from Redis yet") {
		t.Errorf("D's Ready: %v, want the reason", err)
	}
	if logs := c.logs.String(); !strings.Contains(logs, "refusing sessions until the revocations in force are read") {
		t.Errorf("D's log does not say it refuses sessions:\n%s", logs)
	}
	srv.Restart() // empty: A writes back what it holds
	eventually(t, "D serves bob once it has read the revocations", func() bool { return bob.signedIn(d, workostest.BobEmail) })
	if got := alice.status(d); got != http.StatusFound {
		t.Errorf("D answers signed-out alice %d, want 302:\n%s", got, c.logs.String())
	}

	// The opt-out serves at once.
	c.opts.ServeBeforeSync = true
	srv.Stop()
	e := c.start("E")
	if !bob.signedIn(e, workostest.BobEmail) {
		t.Error("E, with ServeBeforeSync, refuses bob while Redis is down")
	}
}

// TestRedisRestartLosesNothing restarts Redis empty under live replicas:
// they write back the revocations they hold, so that a replica started
// afterwards knows them.
func TestRedisRestartLosesNothing(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	a, b := c.start("A"), c.start("B")
	alice, bob, thief := newBrowser(t), newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, b, workostest.BobEmail)
	bob.copyTo(b, thief)
	if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(aliceID)); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.app.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if res, err := bob.c.Do(req); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's sign-out: %v %v", res, err)
	}
	eventually(t, "A refuses bob's copied cookie", func() bool { return thief.status(a) == http.StatusFound })

	srv.Restart() // empty, as a restart without persistence
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	eventually(t, "the replicas write the revocations back", func() bool {
		n, _ := rdb.ZCount(context.Background(), "{"+c.prefix+"}revocations", "(0", "+inf").Result()
		return n >= 2
	})
	d := c.start("D")
	if got := alice.status(d); got != http.StatusFound {
		t.Errorf("D, started after Redis lost its data, answers revoked alice %d, want 302", got)
	}
	if got := thief.status(d); got != http.StatusFound {
		t.Errorf("D answers bob's signed-out cookie %d, want 302", got)
	}
	if !strings.Contains(c.logs.String(), "Redis lost revocations") {
		t.Errorf("the write-back is not logged:\n%s", c.logs.String())
	}
}

// TestLargeRevoke revokes 100,000 sessions in one call, as offboarding a
// large tenant session by session would: every replica applies them all.
// Before, one message of more than 10,000 was dropped by every peer as
// malformed, and applied only at the next full read.
func TestLargeRevoke(t *testing.T) {
	c := newCluster(t, redistest.Shared(t), Options{})
	a, b := c.start("A"), c.start("B")
	const n = 100000
	revs := make([]ssogate.Revocation, n)
	for i := range revs {
		revs[i] = ssogate.RevokeUser(fmt.Sprintf("prof_bulk%06d", i))
	}
	// B's deliveries, as its Middleware gets them.
	var mu sync.Mutex
	seen := map[string]bool{}
	cancel := b.store.Subscribe(ssogate.Subscriber{Apply: func(u ssogate.Update) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range u.Revocations {
			seen[r.ID] = true
		}
	}})
	defer cancel()
	if err := a.gate.Revoke(context.Background(), revs...); err != nil {
		t.Fatalf("Revoke of %d: %v", n, err)
	}
	eventually(t, "B has all of them", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
}

// TestIdleReplicaReadsLittle leaves two replicas with 1,000 revocations in
// force and nothing changing for longer than the old resync interval:
// each reads a few bytes a cycle from Redis, never the set again.
func TestIdleReplicaReadsLittle(t *testing.T) {
	t.Parallel()
	addr := redistest.Shared(t)
	c := newCluster(t, addr, Options{})
	var read atomic.Int64
	c.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{conn, &read}, nil
	}
	a := c.start("A")
	revs := make([]ssogate.Revocation, 1000)
	for i := range revs {
		revs[i] = ssogate.RevokeUser(fmt.Sprintf("prof_idle%04d", i))
	}
	if err := a.gate.Revoke(context.Background(), revs...); err != nil {
		t.Fatal(err)
	}
	c.start("B") // reads the set once
	time.Sleep(time.Second)
	before := read.Load()
	const idle = 35 * time.Second
	time.Sleep(idle)
	perMinute := float64(read.Load()-before) / idle.Minutes()
	t.Logf("two idle replicas read %.0f bytes a minute together", perMinute)
	if perMinute > 2*1024 {
		t.Errorf("two idle replicas read %.0f bytes a minute, want under 1 KB each", perMinute)
	}
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestOutageLoggedOnce stops Redis for a while: the store says so once
// when the outage starts and once when it ends, and go-redis's own lines,
// routed by RouteRedisLog, stay at debug level.
func TestOutageLoggedOnce(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{RetryInterval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond})
	RouteRedisLog(slog.New(slog.NewTextHandler(c.logs, nil))) // Info and above only
	t.Cleanup(func() { redis.SetLogger(quietLogger{}) })
	// Observers are told too, once each.
	var mu sync.Mutex
	var changes []ssogate.BackplaneInfo
	c.observer = &ssogate.Observer{BackplaneChanged: func(_ context.Context, info ssogate.BackplaneInfo) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, info)
	}}
	a := c.start("A")
	alice := newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	srv.Stop()
	eventually(t, "the outage is noticed", func() bool { return strings.Contains(c.logs.String(), "Redis is unreachable") })
	time.Sleep(time.Second) // many failed dials
	srv.Restart()
	eventually(t, "the recovery is noticed", func() bool { return strings.Contains(c.logs.String(), "Redis is reachable again") })
	logs := c.logs.String()
	if n := strings.Count(logs, "Redis is unreachable"); n != 1 {
		t.Errorf("the outage start was logged %d times, want once:\n%s", n, logs)
	}
	mu.Lock()
	if len(changes) != 2 || !changes[0].Down || changes[0].Err == nil || changes[1].Down {
		t.Errorf("the observer was told %+v, want the outage's start and end", changes)
	}
	mu.Unlock()
	if strings.Contains(logs, "go-redis") {
		t.Errorf("go-redis's lines reached the Info log:\n%s", logs)
	}
}

// TestObserverSeesRevocationsReceived checks that a replica's observer is
// told of the revocations another replica made, with the lag.
func TestObserverSeesRevocationsReceived(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{})
	a := c.start("A")
	if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser("prof_first")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []ssogate.RevocationInfo
	c.observer = &ssogate.Observer{Revoked: func(_ context.Context, info ssogate.RevocationInfo) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, info)
	}}
	c.start("B")
	seen := func(id string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return slices.ContainsFunc(got, func(r ssogate.RevocationInfo) bool {
				return slices.ContainsFunc(r.Revocations, func(r ssogate.Revocation) bool { return r.ID == id })
			})
		}
	}
	// B reads the revocations in force when it starts: a resync.
	eventually(t, "B reads what is in force", seen("prof_first"))
	if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser("prof_gone")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B hears of the new revocation", seen("prof_gone"))
	mu.Lock()
	defer mu.Unlock()
	if first := got[0]; !first.Received || !first.Resync || first.Lag != 0 {
		t.Errorf("B's first read: %+v, want a resync", first)
	}
	if last := got[len(got)-1]; !last.Received || last.Resync || len(last.Revocations) != 1 || last.Revocations[0].ID != "prof_gone" || last.Lag < 0 {
		t.Errorf("B's observer was told %+v, want the new revocation as news", last)
	}
}

// TestReplicaReadsTheSetOnce checks that a replica starting reads the
// revocations in force once, not once in Subscribe and again in its
// follower: with a million in force, each read takes seconds.
func TestReplicaReadsTheSetOnce(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{})
	a := c.start("A")
	if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser("prof_first")); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		var mu sync.Mutex
		resyncs := 0
		c.observer = &ssogate.Observer{Revoked: func(_ context.Context, info ssogate.RevocationInfo) {
			mu.Lock()
			defer mu.Unlock()
			if info.Resync {
				resyncs++
			}
		}}
		b := c.start(fmt.Sprintf("B%d", i))
		if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(fmt.Sprintf("prof_%d", i))); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B hears of the revocation", func() bool {
			return b.gate.Stats().Revocations == i+2
		})
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		if resyncs != 1 {
			t.Errorf("replica %d read the set %d times, want once", i, resyncs)
		}
		mu.Unlock()
	}
}

// captureLogger records what go-redis's process-wide logger is given.
type captureLogger struct {
	mu    sync.Mutex
	lines []string
}

func (c *captureLogger) Printf(_ context.Context, format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, fmt.Sprintf(format, args...))
}

// TestStartPrintsNothingOfGoRedis opens a store and starts a replica on
// it: go-redis has nothing to say (before, making the follower's client
// printed "failed to initialize maintnotifications" on every start, which
// reads like an error).
func TestStartPrintsNothingOfGoRedis(t *testing.T) {
	addr := redistest.Shared(t)
	capture := &captureLogger{}
	redis.SetLogger(capture)
	t.Cleanup(func() { redis.SetLogger(quietLogger{}) })
	store, err := Open("redis://"+addr, Options{KeepRedisLogger: true, Prefix: testPrefix(t), WriteBackGrace: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	watch(store) // a Middleware's Subscribe: the first read, and the follower
	time.Sleep(100 * time.Millisecond)
	capture.mu.Lock()
	defer capture.mu.Unlock()
	if len(capture.lines) > 0 {
		t.Errorf("go-redis printed on start:\n%s", strings.Join(capture.lines, "\n"))
	}
}

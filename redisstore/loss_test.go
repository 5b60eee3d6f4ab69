package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/redisstore/redistest"
	"github.com/ssogate/ssogate/workostest"
)

// The tests in this file are the faults under which a replica once stayed
// ready and accepted a session that was revoked or signed out: each
// failed on the store that resumed its stream by comparing ids.

// signOut posts the browser's sign-out to r and returns the status.
func (b *browser) signOut(r *replica) int {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.app.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("sign-out on %s: %v", r.name, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// revoke revokes the users ids on r, one call each.
func revoke(t *testing.T, r *replica, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := r.gate.Revoke(context.Background(), ssogate.RevokeUser(id)); err != nil {
			t.Fatalf("revoking %s on %s: %v", id, r.name, err)
		}
	}
}

// never fails t if bad holds at any poll until done does; it returns how
// long done took. bound keeps a broken store from hanging the test.
func never(t *testing.T, what string, bad func() bool, done func() bool, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if bad() {
			t.Fatalf("%s after %v", what, time.Since(start))
		}
		if done() {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			t.Fatalf("still not settled after %v (checking that never: %s)", bound, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAwayLongerThanLogRetention cuts a replica off while the fleet signs
// a user out and makes 300 more revocations, long enough for the stream to
// be trimmed past where the replica stopped. Back, it must notice the gap
// and read the set again, not resume from what is left. (Redis does not
// update the stream's max-deleted-entry-id when XADD trims, so the check
// the store once relied on saw nothing.)
func TestAwayLongerThanLogRetention(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv.Addr)
	c := newCluster(t, srv.Addr, Options{LogRetention: time.Second, RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	a := c.start("A")
	c.addr = proxy.Addr
	b := c.start("B")
	alice, thief := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	alice.copyTo(a, thief)
	if !thief.signedIn(b, workostest.AliceEmail) {
		t.Fatal("B refuses alice before the partition")
	}

	proxy.Cut()
	if got := alice.signOut(a); got != http.StatusSeeOther {
		t.Fatalf("alice's sign-out on A: %d, want 303", got)
	}
	for i := range 300 {
		revoke(t, a, fmt.Sprintf("prof_away%03d", i))
		time.Sleep(7 * time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond)
	revoke(t, a, "prof_last") // trims what is older than a second
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	n, err := rdb.XLen(context.Background(), "{"+c.prefix+"}log").Result()
	if err != nil || n >= 302 {
		t.Fatalf("the stream holds %d entries (%v): it was not trimmed, so this test shows nothing", n, err)
	}
	t.Logf("the stream was trimmed to %d of 302 entries", n)

	proxy.Heal()
	eventually(t, "B refuses alice's copied cookie", func() bool { return thief.status(b) == http.StatusFound })
	eventually(t, "B holds every revocation", func() bool { return b.gate.Stats().Revocations == 302 })
	if err := b.gate.Ready(); err != nil {
		t.Errorf("B is not ready once back: %v", err)
	}
}

// TestSetEvictedAlone deletes the revocation set and nothing else, as
// allkeys-lru evicts it when memory is short (the followers keep the epoch
// and the stream recent; the set is touched only by writes). A running
// replica must write back what it holds, and one started meanwhile must
// not accept a signed-out cookie or a revoked user, ever.
func TestSetEvictedAlone(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	a := c.start("A")
	alice, bob, thief, bob2 := newBrowser(t), newBrowser(t), newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, a, workostest.BobEmail)
	bob.copyTo(a, thief)
	revoke(t, a, aliceID)
	if got := bob.signOut(a); got != http.StatusSeeOther {
		t.Fatalf("bob's sign-out: %d, want 303", got)
	}
	c.signIn(bob2, a, workostest.BobEmail) // a valid session

	if got := srv.Command("DEL", "{"+c.prefix+"}revocations"); !strings.Contains(got, ":1") {
		t.Fatalf("DEL: %q", got)
	}
	c.opts.WriteBackGrace = DefaultWriteBackGrace
	d := c.start("D")
	took := never(t, "D accepted a revoked session",
		func() bool { return alice.status(d) == http.StatusOK || thief.status(d) == http.StatusOK },
		func() bool { return bob2.signedIn(d, workostest.BobEmail) }, 30*time.Second)
	t.Logf("D serves valid sessions after %v", took.Round(time.Millisecond))
	if alice.status(d) != http.StatusFound || thief.status(d) != http.StatusFound {
		t.Errorf("D answers revoked alice %d and bob's signed-out cookie %d, want 302", alice.status(d), thief.status(d))
	}
	if !strings.Contains(c.logs.String(), "Redis lost revocations") {
		t.Errorf("A's write-back is not logged")
	}
}

// TestEvictionPolicyWarned starts a replica on a Redis that may evict any
// key: the store says at once that this can lose revocations.
func TestEvictionPolicyWarned(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "allkeys-lru")
	c := newCluster(t, srv.Addr, Options{})
	c.start("A")
	if logs := c.logs.String(); !strings.Contains(logs, "maxmemory-policy=allkeys-lru") || !strings.Contains(logs, "loses revocations") {
		t.Errorf("no warning about allkeys-lru:\n%s", logs)
	}
	good := redistest.Start(t, "--maxmemory-policy", "volatile-lru")
	c = newCluster(t, good.Addr, Options{})
	c.start("A")
	if logs := c.logs.String(); strings.Contains(logs, "maxmemory-policy") {
		t.Errorf("a warning about volatile-lru, which leaves the store's keys alone:\n%s", logs)
	}
}

// TestOutOfMemory fills a noeviction Redis: writes are refused, but a
// replica that starts still reads the revocations in force (reads work),
// the refusal is logged as what it is rather than as Redis unreachable,
// and what was refused is stored once Redis has room.
func TestOutOfMemory(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "noeviction")
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	a := c.start("A")
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, a, workostest.BobEmail)
	revoke(t, a, aliceID)

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	used := func() int64 {
		mem, _ := rdb.Info(ctx, "memory").Result()
		for _, line := range strings.Split(mem, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				var n int64
				fmt.Sscan(v, &n)
				return n
			}
		}
		t.Fatalf("no used_memory in INFO memory:\n%s", mem)
		return 0
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", fmt.Sprint(used()+1<<20)).Err(); err != nil {
		t.Fatal(err)
	}
	junk := strings.Repeat("x", 64<<10)
	for i := 0; ; i++ {
		err := rdb.Set(ctx, fmt.Sprintf("junk:%d", i), junk, 0).Err()
		if err != nil && strings.HasPrefix(err.Error(), "OOM") {
			break
		} else if err != nil || i > 1000 {
			t.Fatalf("filling Redis: %v after %d keys", err, i)
		}
	}
	// Redis refuses a write only while its used memory is over the limit,
	// and that memory includes the buffers of the command just refused:
	// once they are freed, a small write may fit again. The limit goes
	// well below what is used, so that every write stays refused.
	if err := rdb.ConfigSet(ctx, "maxmemory", fmt.Sprint(used()-512<<10)).Err(); err != nil {
		t.Fatal(err)
	}

	d := c.start("D")
	eventually(t, "D, started on a full Redis, serves bob", func() bool { return bob.signedIn(d, workostest.BobEmail) })
	if got := alice.status(d); got != http.StatusFound {
		t.Errorf("D answers revoked alice %d, want 302", got)
	}
	err := a.gate.Revoke(ctx, ssogate.RevokeUser("prof_full"))
	if !errors.Is(err, ssogate.ErrNotShared) {
		t.Fatalf("Revoke on a full Redis: %v, want ErrNotShared", err)
	}
	seenD := watch(d.store)
	time.Sleep(200 * time.Millisecond) // a few retries, refused
	logs := c.logs.String()
	if n := strings.Count(logs, "Redis refuses writes"); n != 1 {
		t.Errorf("the refusal was logged %d times, want once:\n%s", n, logs)
	}
	if strings.Contains(logs, "Redis is unreachable") {
		t.Errorf("a full Redis was called unreachable:\n%s", logs)
	}

	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "D hears of what Redis refused before", func() bool { return len(seenD.missing([]string{"prof_full"})) == 0 })
	// A logs the end of the refusal after its write, which D may read first.
	eventually(t, "the end of the refusal is logged", func() bool { return strings.Contains(c.logs.String(), "Redis takes writes again") })
}

// TestSplitBrain runs two Redis primaries for a while, as a failover with
// the old primary still reachable by some replicas does: A keeps writing
// to the old one, B to the promoted one, and then the old primary rejoins
// as a replica of the new, losing what A wrote there. A must write that
// back, and each replica must read what the other wrote; neither may
// compare stream ids across the two histories.
func TestSplitBrain(t *testing.T) {
	primary := redistest.Start(t)
	standby := redistest.StartReplica(t, primary)
	toA, toB := redistest.StartProxy(t, primary.Addr), redistest.StartProxy(t, primary.Addr)
	c := newCluster(t, toA.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	a := c.start("A")
	c.addr = toB.Addr
	b := c.start("B")
	alice, bob, thiefA, thiefB := newBrowser(t), newBrowser(t), newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, b, workostest.BobEmail)
	alice.copyTo(a, thiefA)
	bob.copyTo(b, thiefB)
	revoke(t, a, "prof_before")
	standby.WaitFor(func() bool {
		return strings.Contains(standby.Command("ZCOUNT", "{"+c.prefix+"}revocations", "(0", "+inf"), ":1")
	})

	// The standby is promoted; B moves to it, A stays on the old primary.
	if got := standby.Command("REPLICAOF", "NO", "ONE"); !strings.Contains(got, "OK") {
		t.Fatalf("REPLICAOF NO ONE: %q", got)
	}
	toB.Retarget(standby.Addr)
	if got := bob.signOut(b); got != http.StatusSeeOther { // written to the new primary first
		t.Fatalf("bob's sign-out on B: %d", got)
	}
	if got := alice.signOut(a); got != http.StatusSeeOther { // acknowledged by the old primary
		t.Fatalf("alice's sign-out on A: %d", got)
	}

	// The partition heals: the old primary replicates the new one, and A
	// reaches the new one.
	host, port, _ := strings.Cut(standby.Addr, ":")
	if got := primary.Command("REPLICAOF", host, port); !strings.Contains(got, "OK") {
		t.Fatalf("REPLICAOF: %q", got)
	}
	toA.Retarget(standby.Addr)
	eventually(t, "B refuses alice's copied cookie", func() bool { return thiefA.status(b) == http.StatusFound })
	eventually(t, "A refuses bob's copied cookie", func() bool { return thiefB.status(a) == http.StatusFound })
	c.addr = standby.Addr
	d := c.start("D")
	eventually(t, "D refuses both copies", func() bool {
		return thiefA.status(d) == http.StatusFound && thiefB.status(d) == http.StatusFound
	})
	if !strings.Contains(c.logs.String(), "Redis's history changed") {
		t.Errorf("the change of history is not logged")
	}
}

// TestFailoverThenAnotherWritesFirst promotes a standby that missed the
// last writes, and lets another replica write to it before B notices the
// failover: B must read that write too, though it writes back first.
func TestFailoverThenAnotherWritesFirst(t *testing.T) {
	primary := redistest.Start(t)
	standby := redistest.StartReplica(t, primary)
	proxy := redistest.StartProxy(t, primary.Addr)
	c := newCluster(t, proxy.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	a, b := c.start("A"), c.start("B")
	seenB := watch(b.store)
	revoke(t, a, "prof_before")
	standby.WaitFor(func() bool {
		return strings.Contains(standby.Command("ZCOUNT", "{"+c.prefix+"}revocations", "(0", "+inf"), ":1")
	})
	if got := standby.Command("REPLICAOF", "NO", "ONE"); !strings.Contains(got, "OK") {
		t.Fatalf("REPLICAOF NO ONE: %q", got)
	}
	revoke(t, b, "prof_lost") // acknowledged by the old primary only
	eventually(t, "B has prof_lost", func() bool { return len(seenB.missing([]string{"prof_lost"})) == 0 })

	// A fresh replica writes to the promoted standby first.
	c.addr = standby.Addr
	e := c.start("E")
	revoke(t, e, "prof_after")
	proxy.Retarget(standby.Addr)
	primary.Stop()
	all := []string{"prof_before", "prof_lost", "prof_after"}
	seenA := watch(a.store)
	eventually(t, "A and B hold all three", func() bool {
		return len(seenA.missing(all)) == 0 && len(seenB.missing(all)) == 0
	})
	d := c.start("D")
	if m := watch(d.store).missing(all); len(m) > 0 {
		t.Errorf("a replica started after the failover misses %v", m)
	}
}

// TestSkewedClock runs a replica whose clock is 11 minutes ahead, past
// LogRetention: its writes must not trim the stream by its own clock
// (which once removed every entry, its own included, so that the others
// never heard of what it revoked), and it warns about the skew.
func TestSkewedClock(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{})
	a, b := c.start("A"), c.start("B")
	seenA, seenB := watch(a.store), watch(b.store)
	revoke(t, a, "prof_first")
	c.clock = func() time.Time { return time.Now().Add(11 * time.Minute) }
	s := c.start("S")
	c.clock = nil
	revoke(t, s, "prof_skewed")
	revoke(t, s, "prof_skewed2")
	want := []string{"prof_first", "prof_skewed", "prof_skewed2"}
	eventually(t, "A and B hear of what the skewed replica revoked", func() bool {
		return len(seenA.missing(want)) == 0 && len(seenB.missing(want)) == 0
	})
	if got := srv.Command("XLEN", "{"+c.prefix+"}log"); !strings.HasPrefix(got, ":") || got == ":0\r\n" {
		t.Errorf("the stream holds %q entries after the skewed replica's writes", got)
	}
	if logs := c.logs.String(); !strings.Contains(logs, "replica=S") || !strings.Contains(logs, "clock is off Redis's") {
		t.Errorf("no warning about S's clock:\n%s", logs)
	}
}

// TestBlackhole keeps the connections to Redis open and answers nothing,
// as a partition that drops packets: Revoke, even with a context that
// never ends, returns within the store's Timeout, and FailClosed engages
// within about a second (a revoked user would be served meanwhile).
func TestBlackhole(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv.Addr)
	c := newCluster(t, proxy.Addr, Options{FailClosed: true, RetryInterval: 50 * time.Millisecond, Timeout: 500 * time.Millisecond})
	a := c.start("A")
	alice := newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)

	proxy.Blackhole()
	start := time.Now()
	returned := make(chan error, 1)
	go func() { returned <- a.gate.Revoke(context.Background(), ssogate.RevokeUser("prof_hole")) }()
	for alice.status(a) != http.StatusServiceUnavailable {
		if time.Since(start) > 3*time.Second {
			t.Fatal("FailClosed has not engaged 3 s into the blackhole")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("FailClosed engaged after %v", time.Since(start).Round(time.Millisecond))
	if logs := c.logs.String(); !strings.Contains(logs, "refusing sessions until it answers (FailClosed)") || strings.Contains(logs, "serving with the revocations known") {
		t.Errorf("the outage's line does not say that sessions are refused:\n%s", logs)
	}
	select {
	case err := <-returned:
		if !errors.Is(err, ssogate.ErrNotShared) {
			t.Errorf("Revoke during a blackhole: %v, want ErrNotShared", err)
		}
		t.Logf("Revoke returned after %v (Timeout 500ms)", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("Revoke with context.Background() still waits on a blackholed Redis 5 s later (Timeout 500ms)")
	}

	proxy.Heal()
	eventually(t, "A serves alice again", func() bool { return alice.signedIn(a, workostest.AliceEmail) })
	c.addr = srv.Addr
	d := c.start("D")
	eventually(t, "the revocation made during the blackhole is stored", func() bool {
		return len(watch(d.store).missing([]string{"prof_hole"})) == 0
	})
}

// TestCloseStoresPending revokes while Redis is cut off and closes the
// store soon after Redis is back, before a retry: Close stores what is
// pending; closed while Redis is still cut off, it logs what it drops.
func TestCloseStoresPending(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv.Addr)
	c := newCluster(t, proxy.Addr, Options{RetryInterval: time.Hour, Timeout: 500 * time.Millisecond})
	a := c.start("A")
	proxy.Cut()
	if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser("prof_pending")); !errors.Is(err, ssogate.ErrNotShared) {
		t.Fatalf("Revoke while cut off: %v, want ErrNotShared", err)
	}
	proxy.Heal()
	a.gate.Close()
	a.store.Close()
	c.addr = srv.Addr
	d := c.start("D")
	if m := watch(d.store).missing([]string{"prof_pending"}); len(m) > 0 {
		t.Errorf("the revocation pending when A closed is lost")
	}

	c.addr = proxy.Addr
	b := c.start("B")
	proxy.Cut()
	if err := b.gate.Revoke(context.Background(), ssogate.RevokeUser("prof_dropped")); !errors.Is(err, ssogate.ErrNotShared) {
		t.Fatalf("Revoke while cut off: %v, want ErrNotShared", err)
	}
	b.gate.Close()
	b.store.Close()
	logs := c.logs.String()
	if !strings.Contains(logs, "closing with revocations Redis never took") || !strings.Contains(logs, "user:prof_dropped") {
		t.Errorf("Close does not log what it drops:\n%s", logs)
	}
}

// oldRecord and oldMessage are a revocation and an update as the previous
// storage format wrote them, spelled out here rather than taken from the
// code under test.
type oldRecord struct {
	V       int    `json:"v"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	At      int64  `json:"at"`
	Expires int64  `json:"expires"`
}

type oldMessage struct {
	V           int         `json:"v"`
	Revocations []oldRecord `json:"revocations,omitempty"`
}

// oldReplica stands for a replica of the previous storage format, as it
// used Redis: the JSON sorted set {Prefix}revocations and the channel
// {Prefix}updates, written together in MULTI.
type oldReplica struct {
	t      *testing.T
	rdb    *redis.Client
	prefix string
	sub    *redis.PubSub

	mu  sync.Mutex
	ids map[string]bool // revocations heard on the channel
}

func startOldReplica(t *testing.T, addr, prefix string) *oldReplica {
	o := &oldReplica{t: t, rdb: redis.NewClient(&redis.Options{Addr: addr}), prefix: prefix, ids: map[string]bool{}}
	t.Cleanup(func() { o.rdb.Close() })
	o.sub = o.rdb.Subscribe(context.Background(), prefix+"updates")
	if _, err := o.sub.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() {
		for m := range o.sub.Channel() {
			var msg oldMessage
			if json.Unmarshal([]byte(m.Payload), &msg) != nil {
				continue
			}
			o.mu.Lock()
			for _, r := range msg.Revocations {
				o.ids[r.ID] = true
			}
			o.mu.Unlock()
		}
	}()
	return o
}

func (o *oldReplica) revoke(id string) {
	o.t.Helper()
	now := time.Now()
	rec := oldRecord{V: 1, Kind: "user", ID: id, At: now.UnixMilli(), Expires: now.Add(time.Hour).UnixMilli()}
	member, _ := json.Marshal(rec)
	msg, _ := json.Marshal(oldMessage{V: 1, Revocations: []oldRecord{rec}})
	ctx := context.Background()
	_, err := o.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, o.prefix+"revocations", redis.Z{Score: float64(rec.Expires), Member: string(member)})
		p.Publish(ctx, o.prefix+"updates", msg)
		return nil
	})
	if err != nil {
		o.t.Fatal(err)
	}
}

// knows reports whether the old replica heard of id, and whether its set
// holds it (for old replicas that start later).
func (o *oldReplica) knows(id string) (heard, stored bool) {
	o.mu.Lock()
	heard = o.ids[id]
	o.mu.Unlock()
	members, _ := o.rdb.ZRange(context.Background(), o.prefix+"revocations", 0, -1).Result()
	for _, m := range members {
		if strings.Contains(m, `"id":"`+id+`"`) {
			stored = true
		}
	}
	return heard, stored
}

// TestMixedFleet runs replicas of both storage formats on one Redis, as a
// rolling upgrade does: what each revokes reaches the other, as long as
// the old ones run, and not only once when the new epoch is made.
func TestMixedFleet(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond})
	old := startOldReplica(t, srv.Addr, c.prefix)
	old.revoke("prof_oldfirst")
	a := c.start("A")
	seenA := watch(a.store)
	eventually(t, "A knows what the old replica revoked before it started", func() bool {
		return len(seenA.missing([]string{"prof_oldfirst"})) == 0
	})

	// The two formats run side by side.
	old.revoke("prof_fromold")
	eventually(t, "A hears of what the old replica revoked", func() bool {
		return len(seenA.missing([]string{"prof_fromold"})) == 0
	})
	revoke(t, a, "prof_fromnew")
	eventually(t, "the old replica hears of what A revoked, and its set holds it", func() bool {
		heard, stored := old.knows("prof_fromnew")
		return heard && stored
	})
	d := c.start("D")
	if m := watch(d.store).missing([]string{"prof_oldfirst", "prof_fromold", "prof_fromnew"}); len(m) > 0 {
		t.Errorf("a new replica started in the mixed fleet misses %v", m)
	}
	if got := a.store.OldReplicas(); got != 1 {
		t.Errorf("OldReplicas() = %d, want 1", got)
	}

	old.sub.Close()
	eventually(t, "A sees the last old replica gone", func() bool { return a.store.OldReplicas() == 0 })
	if !strings.Contains(c.logs.String(), "no replica of the previous storage format is left") {
		t.Errorf("the last old replica's departure is not logged")
	}
}

// TestMalformedOldMessagesLoggedByCount publishes junk on the previous
// format's channel: the store skips it and logs a count, not a line per
// message.
func TestMalformedOldMessagesLoggedByCount(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{})
	old := startOldReplica(t, srv.Addr, c.prefix)
	a := c.start("A")
	seenA := watch(a.store)
	eventually(t, "A carries the previous format over", func() bool { return a.store.OldReplicas() == 1 })
	for range 50 {
		old.rdb.Publish(context.Background(), c.prefix+"updates", `{"v":1,"revocations":[{"v":1,"kind":"user","id":""}]}`)
	}
	old.revoke("prof_afterjunk")
	eventually(t, "A still hears the old replica", func() bool { return len(seenA.missing([]string{"prof_afterjunk"})) == 0 })
	if n := strings.Count(c.logs.String(), "malformed updates of the previous format"); n != 1 {
		t.Errorf("50 malformed messages logged %d times, want once:\n%s", n, c.logs.String())
	}
}

// TestClusterSlotMigration moves the store's slot to another Redis Cluster
// node while replicas revoke: the TRYAGAIN answers of the migration are
// not an outage (nothing logs Redis as unreachable, and FailClosed would
// not refuse sessions), and every revocation made meanwhile reaches every
// replica.
func TestClusterSlotMigration(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	c := newCluster(t, "", Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	c.client = func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: time.Second})
	}
	a, b := c.start("A"), c.start("B")
	seenB := watch(b.store)
	revoke(t, a, "prof_before")

	// Which node holds the slot, and its id; and another node's.
	tag := "{" + c.prefix + "}"
	var slot int
	fmt.Sscanf(nodes[0].Command("CLUSTER", "KEYSLOT", tag), ":%d", &slot)
	var from, to *redistest.Server
	var fromID, toID string
	for _, n := range nodes {
		id := strings.TrimSpace(strings.SplitN(n.Command("CLUSTER", "MYID"), "\r\n", 3)[1])
		if strings.HasPrefix(n.Command("CLUSTER", "COUNTKEYSINSLOT", fmt.Sprint(slot)), ":0") && to == nil {
			to, toID = n, id
		} else if !strings.HasPrefix(n.Command("CLUSTER", "COUNTKEYSINSLOT", fmt.Sprint(slot)), ":0") {
			from, fromID = n, id
		}
	}
	if from == nil || to == nil {
		t.Fatal("could not find the slot's node")
	}
	mustOK := func(s *redistest.Server, args ...string) {
		t.Helper()
		if got := s.Command(args...); !strings.HasPrefix(got, "+OK") && !strings.HasPrefix(got, "+NOKEY") {
			t.Fatalf("%v: %q", args, got)
		}
	}
	mustOK(to, "CLUSTER", "SETSLOT", fmt.Sprint(slot), "IMPORTING", fromID)
	mustOK(from, "CLUSTER", "SETSLOT", fmt.Sprint(slot), "MIGRATING", toID)
	host, port, _ := strings.Cut(to.Addr, ":")
	// The stream moves first: until the set and the epoch follow, a call
	// on all three keys is answered TRYAGAIN.
	mustOK(from, "MIGRATE", host, port, "", "0", "5000", "KEYS", tag+"log")

	var ids []string
	refused := 0
	for i := range 20 {
		id := fmt.Sprintf("prof_moving%02d", i)
		ids = append(ids, id)
		if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(id)); err != nil { // retried
			refused++
		}
		time.Sleep(25 * time.Millisecond)
	}
	if refused == 0 {
		t.Fatal("no Revoke was refused during the migration: this test shows nothing")
	}
	t.Logf("%d of 20 revocations refused during the migration, to be retried", refused)
	mustOK(from, "MIGRATE", host, port, "", "0", "5000", "KEYS", tag+"revocations", tag+"epoch")
	for _, n := range nodes {
		mustOK(n, "CLUSTER", "SETSLOT", fmt.Sprint(slot), "NODE", toID)
	}
	want := append(ids, "prof_before")
	eventually(t, "B has every revocation made during the migration", func() bool { return len(seenB.missing(want)) == 0 })
	if d := c.start("D"); len(watch(d.store).missing(want)) > 0 {
		t.Errorf("a replica started after the migration misses revocations")
	}
	if logs := c.logs.String(); strings.Contains(logs, "Redis is unreachable") {
		t.Errorf("the migration was called an outage:\n%s", logs)
	}
}

// TestUnsharedRevocationsCounted: a sign-out Redis cannot take is counted
// in Stats.UnsharedRevocations until the store has retried it into Redis.
func TestUnsharedRevocationsCounted(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv.Addr)
	c := newCluster(t, proxy.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: 300 * time.Millisecond})
	a := c.start("A")
	alice := newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	if n := a.gate.Stats().UnsharedRevocations; n != 0 {
		t.Fatalf("%d unshared revocations before the cut, want 0", n)
	}

	proxy.Cut()
	if got := alice.signOut(a); got != http.StatusAccepted {
		t.Fatalf("sign-out while Redis is cut off: %d, want 202", got)
	}
	if n := a.gate.Stats().UnsharedRevocations; n != 1 {
		t.Errorf("%d unshared revocations after a sign-out Redis did not take, want 1", n)
	}
	proxy.Heal()
	eventually(t, "the sign-out is stored", func() bool { return a.gate.Stats().UnsharedRevocations == 0 })
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
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

// seen records the revocation ids a store delivers, as its Middleware
// gets them.
type seen struct {
	mu  sync.Mutex
	ids map[string]bool
}

func watch(s *Store) *seen {
	w := &seen{ids: map[string]bool{}}
	s.Subscribe(ssogate.Subscriber{Apply: func(u ssogate.Update) {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, r := range u.Revocations {
			w.ids[r.ID] = true
		}
	}})
	return w
}

// missing returns the ids of want that w has not seen.
func (w *seen) missing(want []string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, id := range want {
		if !w.ids[id] {
			out = append(out, id)
		}
	}
	return out
}

// TestMinReplicas checks that Publish with MinReplicas returns once Redis
// replicas have the write, and says so when too few do.
func TestMinReplicas(t *testing.T) {
	primary := redistest.Start(t)
	redistest.StartReplica(t, primary)
	for _, tt := range []struct {
		min    int
		wantOK bool
	}{{1, true}, {2, false}} {
		t.Run(fmt.Sprint(tt.min), func(t *testing.T) {
			c := newCluster(t, primary.Addr, Options{MinReplicas: tt.min, ReplicaTimeout: 300 * time.Millisecond})
			a := c.start("A")
			err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(aliceID))
			switch {
			case tt.wantOK && err != nil:
				t.Errorf("MinReplicas %d with one Redis replica: %v", tt.min, err)
			case !tt.wantOK && (!errors.Is(err, ssogate.ErrNotShared) || !strings.Contains(err.Error(), "1 of 2 Redis replicas acknowledged")):
				t.Errorf("MinReplicas %d with one Redis replica: got %v, want ErrNotShared saying 1 of 2", tt.min, err)
			}
		})
	}
	if _, err := New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{primary.Addr}}), Options{MinReplicas: 1}); err == nil {
		t.Error("MinReplicas with a cluster client: accepted")
	}
}

// TestSentinelFailover signs users out at a steady rate from two app
// replicas, through Redis Sentinel, while the Redis primary is killed:
// after the failover, every sign-out that Revoke acknowledged holds on
// both app replicas, and on one started afterwards.
func TestSentinelFailover(t *testing.T) {
	// Two Redis replicas, so that the one promoted still has one to
	// acknowledge writes (MinReplicas: 1).
	primary := redistest.Start(t)
	redistest.StartReplica(t, primary)
	redistest.StartReplica(t, primary)
	sentinels := redistest.StartSentinels(t, primary, "ssogate", 3)
	var addrs []string
	for _, s := range sentinels {
		addrs = append(addrs, s.Addr)
	}
	c := newCluster(t, "", Options{MinReplicas: 1, ReplicaTimeout: 500 * time.Millisecond, RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	c.client = func() redis.UniversalClient {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "ssogate", SentinelAddrs: addrs, DialTimeout: time.Second})
	}
	a, b := c.start("A"), c.start("B")
	alice := newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	seenA, seenB := watch(a.store), watch(b.store)

	// Sign-outs every 10 ms, alternating replicas; the primary is killed
	// after 50, and the loop goes on until 30 more are acknowledged after
	// the failover (or 30 s, which only a broken failover reaches).
	var acked []string
	ackedAfterKill := -1
	start := time.Now()
	for i := 0; ackedAfterKill < 30 && time.Since(start) < 30*time.Second; i++ {
		id := fmt.Sprintf("prof_failover%05d", i)
		r := a
		if i%2 == 1 {
			r = b
		}
		if r.gate.Revoke(context.Background(), ssogate.RevokeUser(id)) == nil {
			acked = append(acked, id)
			if ackedAfterKill >= 0 {
				ackedAfterKill++
			}
		}
		if i == 50 {
			if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(aliceID)); err != nil {
				t.Fatalf("alice's revocation before the failover: %v", err)
			}
			acked = append(acked, aliceID)
			primary.Stop()
			ackedAfterKill = 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d sign-outs acknowledged, %d after the primary was killed, in %v", len(acked), ackedAfterKill, time.Since(start).Round(time.Millisecond))
	if ackedAfterKill < 30 {
		t.Fatalf("only %d sign-outs acknowledged after the primary was killed: the failover did not complete", ackedAfterKill)
	}
	for name, w := range map[string]*seen{"A": seenA, "B": seenB} {
		eventually(t, name+" holds every acknowledged sign-out", func() bool { return len(w.missing(acked)) == 0 })
	}
	for _, r := range []*replica{a, b} {
		if got := alice.status(r); got != http.StatusFound {
			t.Errorf("%s answers revoked alice %d after the failover, want 302", r.name, got)
		}
	}
	d := c.start("D")
	seenD := watch(d.store)
	if m := seenD.missing(acked); len(m) > 0 {
		t.Errorf("a replica started after the failover misses %d acknowledged sign-outs, such as %s", len(m), m[0])
	}
}

// TestRedisCluster runs two app replicas on a three-node Redis Cluster.
func TestRedisCluster(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	c := newCluster(t, "", Options{})
	c.client = func() redis.UniversalClient {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, DialTimeout: time.Second})
	}
	a, b := c.start("A"), c.start("B")
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, b, workostest.BobEmail)
	if err := b.gate.Revoke(context.Background(), ssogate.RevokeUser(aliceID)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A refuses alice", func() bool { return alice.status(a) == http.StatusFound })
	if !bob.signedIn(a, workostest.BobEmail) {
		t.Error("A refuses bob")
	}
	if d := c.start("D"); alice.status(d) != http.StatusFound || !bob.signedIn(d, workostest.BobEmail) {
		t.Error("a replica started later does not know the revocations")
	}
}

// TestOpenURLs opens a store from each form of URL and stores a
// revocation through it; malformed URLs are refused without repeating a
// password.
func TestOpenURLs(t *testing.T) {
	primary := redistest.Start(t)
	sentinels := redistest.StartSentinels(t, primary, "ssogate", 1)
	nodes := redistest.StartCluster(t, 3)
	for _, tt := range []struct{ name, url string }{
		{"one server", "redis://" + primary.Addr + "/0"},
		{"sentinel", "redis+sentinel://" + sentinels[0].Addr + "?master_name=ssogate"},
		{"cluster", "redis+cluster://" + nodes[0].Addr + "?addr=" + nodes[1].Addr + "&addr=" + nodes[2].Addr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.url, Options{Prefix: testPrefix(t), KeepRedisLogger: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Publish(context.Background(), ssogate.Update{Revocations: []ssogate.Revocation{testRevocationNow()}}); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			n, err := s.rdb.ZCard(context.Background(), s.keys.set).Result()
			if err != nil || n != 1 {
				t.Errorf("the set holds %d (%v), want 1", n, err)
			}
		})
	}
	for _, u := range []string{"", "http://x", "redis://:sekrit@host:notaport", "redis+sentinel://:sekrit@host:1", "redis+cluster://:sekrit@host:1?bogus=1"} {
		if _, err := Open(u, Options{KeepRedisLogger: true}); err == nil || strings.Contains(err.Error(), "sekrit") {
			t.Errorf("Open(%q): got %v, want an error that does not repeat the password", u, err)
		}
	}
}

func testRevocationNow() ssogate.Revocation {
	now := time.Now()
	return ssogate.Revocation{Kind: ssogate.UserRevocation, ID: "prof_open", At: now, Expires: now.Add(time.Hour)}
}

// TestFailoverThatLostWrites moves the app replicas to a Redis replica that
// stopped replicating before the last sign-outs, as an asynchronous
// failover can: its stream ends before what the app replicas read, so they
// write back what it lacks, and a replica started afterwards knows it all.
func TestFailoverThatLostWrites(t *testing.T) {
	primary := redistest.Start(t)
	standby := redistest.StartReplica(t, primary)
	var target atomic.Value
	target.Store(primary.Addr)
	c := newCluster(t, "", Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	c.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, target.Load().(string))
	}
	c.addr = primary.Addr
	a, b := c.start("A"), c.start("B")
	seenB := watch(b.store)
	revoke(t, a, "prof_before1", "prof_before2")
	standby.WaitFor(func() bool {
		return strings.Contains(standby.Command("ZCOUNT", "{"+c.prefix+"}revocations", "(0", "+inf"), ":2")
	})
	// The standby stops replicating: what follows is lost to it.
	if got := standby.Command("REPLICAOF", "NO", "ONE"); !strings.Contains(got, "OK") {
		t.Fatalf("REPLICAOF NO ONE: %q", got)
	}
	revoke(t, a, "prof_lost1")
	revoke(t, b, "prof_lost2")
	all := []string{"prof_before1", "prof_before2", "prof_lost1", "prof_lost2"}
	eventually(t, "B has all four", func() bool { return len(seenB.missing(all)) == 0 })

	// The failover: the app replicas now reach the standby.
	target.Store(standby.Addr)
	primary.Stop()
	eventually(t, "the standby gets the lost sign-outs back", func() bool {
		return strings.Contains(standby.Command("ZCOUNT", "{"+c.prefix+"}revocations", "(0", "+inf"), ":4")
	})
	d := c.start("D")
	if m := watch(d.store).missing(all); len(m) > 0 {
		t.Errorf("a replica started after the failover misses %v", m)
	}
	// Why, and what was written back: the two sign-outs the standby lost
	// are missing there, and the line says so.
	logs := c.logs.String()
	if !strings.Contains(logs, "Redis's history changed") {
		t.Errorf("the write-back is not logged:\n%s", logs)
	}
	if !regexp.MustCompile(`msg="redisstore: revocations written back" replica=[AB] held=4 missing=2`).MatchString(logs) {
		t.Errorf("no replica logged writing back the two lost revocations:\n%s", logs)
	}
}

package redisstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/redisstore/redistest"
	"github.com/ssogate/ssogate/workostest"
)

// benchSize reads a size from the environment: the figures of the README
// come from the sizes it names, CI runs the benchmarks small.
func benchSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkReplicaStart fills Redis with REDISSTORE_BENCH_REVOCATIONS
// sign-outs in force (default 20,000; the docs' figures are for 500,000
// and 1,000,000) and starts a replica on it: a Middleware made with the
// store, which returns once it has read them all, then serves a request
// of a session signed in elsewhere. It reports the time from the start
// until that request is served, the replica's heap per revocation held,
// and the bytes Redis holds per revocation.
func BenchmarkReplicaStart(b *testing.B) {
	n := benchSize("REDISSTORE_BENCH_REVOCATIONS", 20000)
	addr := redistest.Shared(b)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	prefix := testPrefix(b)
	key := "{" + prefix + "}revocations"
	now := time.Now()
	for i := 0; i < n; i += 10000 {
		var zs []redis.Z
		for j := i; j < min(i+10000, n); j++ {
			r := ssogate.Revocation{Kind: ssogate.SessionRevocation, ID: sessionID(j), At: now, Expires: now.Add(8 * time.Hour)}
			zs = append(zs, redis.Z{Score: float64(r.Expires.UnixMilli()), Member: memberOf(r)})
		}
		if err := rdb.ZAdd(ctx, key, zs...).Err(); err != nil {
			b.Fatal(err)
		}
	}
	defer rdb.Del(ctx, key, "{"+prefix+"}log", "{"+prefix+"}epoch")
	redisBytes, _ := rdb.MemoryUsage(ctx, key, 0).Result()

	// A session signed in on another replica (one without the store: the
	// cookie is the same), for the new one to serve.
	idp := workostest.NewServer()
	defer idp.Close()
	cfg := ssogate.Config{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL, RedirectURI: "http://app.example/callback",
		CookieSecrets: [][]byte{cookieSecret}, Logger: slog.New(slog.DiscardHandler)}
	other, err := ssogate.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	app := func(g *ssogate.Middleware) http.Handler {
		mux := http.NewServeMux()
		g.Mount(mux)
		mux.Handle("/app", g.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := ssogate.ProfileFromContext(r.Context())
			io.WriteString(w, p.Email)
		})))
		return mux
	}
	signedIn, err := idp.SignedInRequest(app(other), "http://app.example/login?organization="+workostest.AcmeOrganizationID, workostest.AliceEmail, http.MethodGet, "/app")
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		start := time.Now()
		store, err := New(rdb, Options{Prefix: prefix, Timeout: time.Minute, WriteBackGrace: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		replica := cfg // not cfg itself, which would keep this replica past its iteration
		replica.Backplane = store
		gate, err := ssogate.New(replica)
		if err != nil {
			b.Fatal(err)
		}
		// New returns once the replica has read the revocations in force.
		if err := gate.Ready(); err != nil {
			b.Fatalf("the replica is not ready when New returns: %v", err)
		}
		rec := httptest.NewRecorder()
		app(gate).ServeHTTP(rec, signedIn)
		ready := time.Since(start)
		b.StopTimer()
		if rec.Code != http.StatusOK || rec.Body.String() != workostest.AliceEmail {
			b.Fatalf("the new replica answered the session with %d %q, want 200 and Alice", rec.Code, rec.Body)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(ready.Seconds(), "s-to-serve")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/revocation")
		b.ReportMetric(float64(redisBytes)/float64(n), "redis-B/revocation")
		gate.Close()
		store.Close()
		runtime.KeepAlive(gate)
		b.StartTimer()
	}
}

// sessionID returns a session id of the form of ssogate's, made from i.
func sessionID(i int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	id := []byte("AAAAAAAAAAAAAAAAAAAAAAAAAA")
	for k := len(id) - 1; i > 0 && k >= 0; k-- {
		id[k] = alphabet[i%32]
		i /= 32
	}
	return string(id)
}

// benchProvider is a WorkOS Provider that the benchmarks never call.
type benchProvider struct{ ssogate.Provider }

// BenchmarkFanout runs REDISSTORE_BENCH_REPLICAS replicas (default 20) on
// one Redis while revocations are made at REDISSTORE_BENCH_RATE a second
// (default 1,000) for REDISSTORE_BENCH_SECONDS (default 3; the README's
// figure is for 60), each Revoke one revocation, spread over the replicas.
// It checks that every replica applies every one, and reports the
// publish-to-apply latency over all of them: p50, p99 and max.
func BenchmarkFanout(b *testing.B) {
	replicas := benchSize("REDISSTORE_BENCH_REPLICAS", 20)
	rate := benchSize("REDISSTORE_BENCH_RATE", 1000)
	seconds := benchSize("REDISSTORE_BENCH_SECONDS", 3)
	addr := redistest.Shared(b)
	prefix := testPrefix(b)
	total := rate * seconds

	type replica struct {
		gate  *ssogate.Middleware
		store *Store
	}
	var rs []replica
	var mu sync.Mutex
	published := make(map[string]time.Time, total)
	var latencies []time.Duration
	applied := make([]map[string]bool, replicas)
	for i := range replicas {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		store, err := New(rdb, Options{Prefix: prefix, WriteBackGrace: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		gate, err := ssogate.New(ssogate.Config{Provider: benchProvider{}, ClientID: "client_bench", RedirectURI: "http://localhost/callback",
			CookieSecrets: [][]byte{cookieSecret}, Backplane: store, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		defer gate.Close()
		applied[i] = make(map[string]bool, total)
		// After the Middleware's own subscriber: the time is when the
		// replica's Middleware has applied the revocation.
		store.Subscribe(ssogate.Subscriber{Apply: func(u ssogate.Update) {
			at := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, r := range u.Revocations {
				if t0, ok := published[r.ID]; ok && !applied[i][r.ID] {
					applied[i][r.ID] = true
					latencies = append(latencies, at.Sub(t0))
				}
			}
		}})
		rs = append(rs, replica{gate, store})
	}

	b.ResetTimer()
	for b.Loop() {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		for i := range total {
			<-tick.C
			id := fmt.Sprintf("prof_fanout%08d", i)
			mu.Lock()
			published[id] = time.Now()
			mu.Unlock()
			go func() {
				if err := rs[i%replicas].gate.Revoke(context.Background(), ssogate.RevokeUser(id)); err != nil {
					b.Error(err)
				}
			}()
		}
		tick.Stop()
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			done := len(latencies) == total*replicas
			mu.Unlock()
			if done || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	if got, want := len(latencies), total*replicas; got != want {
		b.Fatalf("%d of %d (revocation, replica) pairs applied: lost ones", got, want)
	}
	slices.Sort(latencies)
	q := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

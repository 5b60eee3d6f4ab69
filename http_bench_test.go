package ssogate

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHTTP measures whole requests over real HTTP: a net/http server
// on loopback and a Go client on keep-alive connections, eight requests at
// a time. The same handler is served public, and behind RequireSSO (with
// the idle timeout on) with one session and with 20,000 distinct sessions
// in rotation: with the default verified-session cache, warmed by one pass,
// and with a cache of 4,096 entries, which leaves most requests to verify
// their cookie. Every request carries a session cookie, as a signed-in
// browser's do on public routes too, so that the ratios measure the
// middleware and not the bytes of a Cookie header.
//
// The routes take turns in blocks of 500 requests, so that a shared
// machine's changing load weighs on all of them alike; each route's req/s
// is reported, and its ratio to public's:
//
//	go test -run '^$' -bench 'BenchmarkHTTP$' -benchtime 200000x -count 5 .
//
// b.N is the number of requests per route.
func BenchmarkHTTP(b *testing.B) {
	gate := func(cacheSize int) *Middleware {
		g, err := New(Config{
			Provider:         stubProvider{},
			RedirectURI:      "https://app.example/callback",
			CookieSecrets:    [][]byte{testSecret(1)},
			IdleTimeout:      30 * time.Minute,
			SessionCacheSize: cacheSize,
			Logger:           slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
		return g
	}
	g, small := gate(0), gate(4096)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	})
	mux := http.NewServeMux()
	mux.Handle("/public", handler)
	mux.Handle("/gated", g.RequireSSO(handler))
	mux.Handle("/gated-small-cache", small.RequireSSO(handler))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cookies := benchCookies(b, g, 20000)
	const workers = 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	get := func(path, cookie string) error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Cookie", cookie)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Errorf("%s: got status %d, want 200", path, res.StatusCode)
		}
		return nil
	}
	for _, c := range cookies { // warm the default cache
		if err := get("/gated", c); err != nil {
			b.Fatal(err)
		}
	}

	routes := []struct {
		name, path string
		cookies    []string
		elapsed    time.Duration
		next       atomic.Uint64
	}{
		{name: "public", path: "/public", cookies: cookies},
		{name: "gated-1-session", path: "/gated", cookies: cookies[:1]},
		{name: "gated-20000-sessions", path: "/gated", cookies: cookies},
		{name: "gated-20000-sessions-cache-4096", path: "/gated-small-cache", cookies: cookies},
	}
	const block = 500
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		for i := range routes {
			rt := &routes[i]
			var left atomic.Int64
			left.Store(int64(n))
			var wg sync.WaitGroup
			start := time.Now()
			for range workers {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						if err := get(rt.path, rt.cookies[rt.next.Add(1)%uint64(len(rt.cookies))]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			rt.elapsed += time.Since(start)
		}
	}
	b.StopTimer()
	public := float64(b.N) / routes[0].elapsed.Seconds()
	for i := range routes {
		rps := float64(b.N) / routes[i].elapsed.Seconds()
		b.ReportMetric(rps, routes[i].name+"-req/s")
		if i > 0 {
			b.ReportMetric(rps/public, routes[i].name+"/public")
		}
	}
}

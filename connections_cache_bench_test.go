package ssogate

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// BenchmarkConnectionCacheHit measures parallel cache hits against the
// floor of a plain sync.Map lookup of the same keys. Compare the ratios:
//
//	go test -run '^$' -bench 'BenchmarkConnectionCacheHit$' -count 5 .
func BenchmarkConnectionCacheHit(b *testing.B) {
	orgs := []string{"org_acme", "org_globex", "org_initech", "org_hooli"}
	domains := []string{"acme.com", "globex.com", "initech.com", "hooli.xyz"}
	d := &fakeDirectory{}
	var conns []Connection
	for i, org := range orgs {
		conns = append(conns, Connection{ID: "conn_" + org[4:], OrganizationID: org, State: workos.ConnectionActive,
			Domains: []workos.ConnectionDomain{{Domain: domains[i]}}})
	}
	d.set(conns...)
	c, err := NewConnectionCache(d, CacheConfig{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := range orgs {
		c.Organization(ctx, orgs[i])
		c.Domain(ctx, domains[i])
	}

	// hits runs lookup in parallel over the four keys.
	hits := func(b *testing.B, lookup func(i int) (*ConnectionSet, error)) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				set, err := lookup(i & 3)
				if err != nil || len(set.Active()) != 1 {
					b.Error("miss")
					return
				}
				i++
			}
		})
	}
	b.Run("sync.Map", func(b *testing.B) {
		var m sync.Map
		for i, org := range orgs {
			m.Store(org, newConnectionSet(org, conns[i:i+1]))
		}
		hits(b, func(i int) (*ConnectionSet, error) {
			v, ok := m.Load(orgs[i])
			if !ok {
				return nil, ErrNoConnection
			}
			return v.(*ConnectionSet), nil
		})
	})
	b.Run("organization", func(b *testing.B) {
		hits(b, func(i int) (*ConnectionSet, error) { return c.Organization(ctx, orgs[i]) })
	})
	b.Run("domain", func(b *testing.B) {
		hits(b, func(i int) (*ConnectionSet, error) { return c.Domain(ctx, domains[i]) })
	})
	if n := d.calls.Load(); n != int64(2*len(orgs)) {
		b.Errorf("the hits made %d WorkOS calls, want %d (the warm-up's)", n, 2*len(orgs))
	}
}

// BenchmarkLoginRouting measures a /login routed by organization with a
// warm cache, against the same with the cache purged before every request,
// so that each asks the emulator (over loopback HTTP) for the
// organization's connections:
//
//	go test -run '^$' -bench 'BenchmarkLoginRouting$' -count 5 .
func BenchmarkLoginRouting(b *testing.B) {
	idp := workostest.NewServer()
	defer idp.Close()
	client, err := workos.NewClient(workos.ClientConfig{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL})
	if err != nil {
		b.Fatal(err)
	}
	// No limit on WorkOS calls: the cold case must make one per login.
	cache, err := NewConnectionCache(client, CacheConfig{MaxFetchesPerMinute: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(Config{
		Provider:      client,
		Connections:   cache,
		RedirectURI:   "http://localhost:8080/callback",
		CookieSecrets: [][]byte{flowSecret},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	login := func(b *testing.B, before func()) {
		b.ReportAllocs()
		req := httptest.NewRequest(http.MethodGet, "/login?organization="+workostest.AcmeOrganizationID, nil)
		for b.Loop() {
			before()
			rec := httptest.NewRecorder()
			g.Login(rec, req)
			if rec.Code != http.StatusFound {
				b.Fatalf("got %d, want 302", rec.Code)
			}
		}
	}
	b.Run("warm", func(b *testing.B) {
		calls := idp.Count("GET /connections")
		login(b, func() {})
		if n := idp.Count("GET /connections") - calls; n > 1 {
			b.Errorf("warm logins made %d lookups, want at most 1", n)
		}
	})
	b.Run("cold", func(b *testing.B) {
		calls := idp.Count("GET /connections")
		login(b, cache.Purge)
		if n := idp.Count("GET /connections") - calls; n != b.N {
			b.Errorf("%d cold logins made %d lookups, want one each", b.N, n)
		}
	})
}

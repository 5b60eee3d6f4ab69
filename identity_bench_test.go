package ssogate

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkIdentityRevocationMemory measures what 100,000 identity
// revocations in force cost a replica's revocation set: the heap per
// revocation, which the issue of offboarding bounds at 120 bytes.
//
//	go test -run '^$' -bench 'BenchmarkIdentityRevocationMemory$' -benchtime 3x .
func BenchmarkIdentityRevocationMemory(b *testing.B) {
	const n = 100000
	now := time.Now()
	revs := make([]Revocation, 0, n)
	for i := range n / 2 {
		for _, r := range RevokeIdentity("org_acme", fmt.Sprintf("idp-removed-%d", i), fmt.Sprintf("removed%d@acme.com", i)) {
			r.At, r.Expires = now, now.Add(MaxSessionLifetime)
			revs = append(revs, r)
		}
	}
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		s := newRevocationSet()
		s.add(revs, now)
		b.StopTimer()
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if got := s.nIdentities.Load(); got != n {
			b.Fatalf("%d identity revocations held, want %d", got, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/identity")
		runtime.KeepAlive(s)
		b.StartTimer()
	}
}

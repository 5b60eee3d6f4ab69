package ssogate

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkRevocationGC measures what 1,000,000 user revocations, or as
// many session revocations, in force add to a full garbage collection,
// against the same collection with none held (the baseline, run in the
// same benchmark), and the heap each holds. Organization and connection
// revocations are held as user revocations are.
//
//	go test -run '^$' -bench 'BenchmarkRevocationGC$' -benchtime 5x .
func BenchmarkRevocationGC(b *testing.B) {
	const n = 1000000
	now := time.Now()
	b.Run("none", func(b *testing.B) {
		reportGC(b)
	})
	for _, kind := range []RevocationKind{UserRevocation, SessionRevocation} {
		b.Run("1M-"+kind.String()+"s", func(b *testing.B) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			s := newRevocationSet()
			revs := make([]Revocation, 10000)
			for i := 0; i < n; i += len(revs) {
				for j := range revs {
					id := fmt.Sprintf("prof_01HZ%022d", i+j)
					if kind == SessionRevocation {
						id = fmt.Sprintf("SESSION%019d", i+j)
						id = strings.Map(func(r rune) rune { return 'A' + (r-'0')%26 }, id)
					}
					revs[j] = Revocation{Kind: kind, ID: id, At: now, Expires: now.Add(MaxSessionLifetime)}
				}
				s.add(revs, now)
			}
			if s.len() != n {
				b.Fatalf("%d revocations in force, want %d", s.len(), n)
			}
			revs = nil
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			reportGC(b)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/revocation")
			runtime.KeepAlive(s)
		})
	}
}

// reportGC reports the shortest full garbage collection of b.N, each the
// shortest of three: the machine's other load only ever adds to it.
func reportGC(b *testing.B) {
	var best time.Duration
	for b.Loop() {
		if d := fullGC(); best == 0 || d < best {
			best = d
		}
	}
	b.ReportMetric(float64(best.Microseconds())/1000, "ms/gc")
}

// fullGC returns the shortest of three full garbage collections.
func fullGC() time.Duration {
	var best time.Duration
	for i := range 3 {
		start := time.Now()
		runtime.GC()
		if d := time.Since(start); i == 0 || d < best {
			best = d
		}
	}
	return best
}

package ssogate

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkRevocationGC measures what 1,000,000 user revocations in force
// add to a full garbage collection, against the same collection with none
// held (the baseline, run in the same benchmark), and the heap each holds.
//
//	go test -run '^$' -bench 'BenchmarkRevocationGC$' -benchtime 5x .
func BenchmarkRevocationGC(b *testing.B) {
	const n = 1000000
	now := time.Now()
	gc := func(b *testing.B) time.Duration {
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
	b.Run("none", func(b *testing.B) {
		for b.Loop() {
			b.ReportMetric(float64(gc(b).Microseconds())/1000, "ms/gc")
		}
	})
	b.Run("1M-users", func(b *testing.B) {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s := newRevocationSet()
		revs := make([]Revocation, 10000)
		for i := 0; i < n; i += len(revs) {
			for j := range revs {
				revs[j] = Revocation{Kind: UserRevocation, ID: fmt.Sprintf("prof_01HZ%022d", i+j), At: now, Expires: now.Add(MaxSessionLifetime)}
			}
			s.add(revs, now)
		}
		revs = nil
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		for b.Loop() {
			b.ReportMetric(float64(gc(b).Microseconds())/1000, "ms/gc")
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/revocation")
		runtime.KeepAlive(s)
	})
}

// TestRevocationsOfEveryIDLength: an id held inline (up to 31 bytes) and a
// longer one each revoke the sessions they name and come back whole from
// the set, as a write-back reads them.
func TestRevocationsOfEveryIDLength(t *testing.T) {
	now := time.Now()
	s := newRevocationSet()
	ids := []string{"prof_1", "prof_01HZ0000000000000000000031", "prof_01HZ00000000000000000000032", "org_" + strings.Repeat("x", 100)}
	var revs []Revocation
	for _, id := range ids {
		kind := UserRevocation
		if strings.HasPrefix(id, "org_") {
			kind = OrganizationRevocation
		}
		revs = append(revs, Revocation{Kind: kind, ID: id, At: now, Expires: now.Add(time.Hour)})
	}
	s.add(revs, now)
	if s.len() != len(ids) {
		t.Fatalf("the set holds %d, want %d", s.len(), len(ids))
	}
	for _, r := range revs {
		p := &Profile{ID: "prof_other", OrganizationID: "org_other"}
		if r.Kind == UserRevocation {
			p.ID = r.ID
		} else {
			p.OrganizationID = r.ID
		}
		if err := s.match("", p, now.Add(-time.Minute)); !errors.Is(err, ErrSessionRevoked) {
			t.Errorf("a session of %s (%d bytes): %v, want it revoked", r.ID, len(r.ID), err)
		}
	}
	var back []string
	s.all(func(r Revocation) bool { back = append(back, r.ID); return true })
	slices.Sort(back)
	want := slices.Clone(ids)
	slices.Sort(want)
	if !slices.Equal(back, want) {
		t.Errorf("all: %q, want %q", back, want)
	}
	if err := s.match("", &Profile{ID: "prof_01HZ000000000000000000003"}, now.Add(-time.Minute)); err != nil {
		t.Errorf("a prefix of a revoked id: %v, want nothing revoked", err)
	}
}

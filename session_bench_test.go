package ssogate

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/gorilla/sessions"
)

// BenchmarkSessionLoad compares, on the same profile, the per-request cost
// of reading a session: ssogate with and without its verified-session cache,
// gorilla/sessions' CookieStore with its default gob encoding, and a floor
// made of the standard library's AES-256-GCM and encoding/json.
func BenchmarkSessionLoad(b *testing.B) {
	alice := aliceProfile()

	b.Run("ssogate", func(b *testing.B) {
		m := newTestManager(b, benchConfig())
		r, n := benchSessionRequest(b, m, alice)
		if _, err := m.Load(r); err != nil { // fill the cache
			b.Fatal(err)
		}
		benchLoad(b, m, r, n)
	})

	b.Run("ssogate-nocache", func(b *testing.B) {
		m := newTestManager(b, benchConfig())
		m.cache = nil
		r, n := benchSessionRequest(b, m, alice)
		benchLoad(b, m, r, n)
	})

	b.Run("gorilla-cookiestore-gob", func(b *testing.B) {
		gob.Register(Profile{})
		store := sessions.NewCookieStore(testSecret(1), testSecret(2))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		s, _ := store.New(r, "session")
		s.Values["profile"] = *alice
		rec := httptest.NewRecorder()
		if err := store.Save(r, rec, s); err != nil {
			b.Fatal(err)
		}
		c := rec.Result().Cookies()[0]
		r = requestWith("/", c)
		b.ReportAllocs()
		for b.Loop() {
			s, err := store.New(r, "session")
			if err != nil {
				b.Fatal(err)
			}
			if p := s.Values["profile"].(Profile); p.ID != alice.ID {
				b.Fatalf("got profile %q, want %q", p.ID, alice.ID)
			}
		}
		// After the loop: b.Loop resets user metrics when it starts.
		b.ReportMetric(float64(len(c.Value)), "cookie-bytes")
	})

	b.Run("stdlib-floor", func(b *testing.B) {
		block, err := aes.NewCipher(testSecret(3))
		if err != nil {
			b.Fatal(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			b.Fatal(err)
		}
		plain, err := json.Marshal(alice)
		if err != nil {
			b.Fatal(err)
		}
		nonce := make([]byte, gcm.NonceSize())
		sealed := gcm.Seal(nil, nonce, plain, nil)
		buf := make([]byte, 0, len(plain))
		b.ReportAllocs()
		for b.Loop() {
			pt, err := gcm.Open(buf[:0], nonce, sealed, nil)
			if err != nil {
				b.Fatal(err)
			}
			var p Profile
			if err := json.Unmarshal(pt, &p); err != nil {
				b.Fatal(err)
			}
			if p.ID != alice.ID {
				b.Fatalf("got profile %q, want %q", p.ID, alice.ID)
			}
		}
		b.ReportMetric(float64(base64.RawURLEncoding.EncodedLen(len(nonce)+len(sealed))), "cookie-bytes")
	})
}

// BenchmarkSessionLoadParallel measures cache hits from parallel requests of
// a few users.
func BenchmarkSessionLoadParallel(b *testing.B) {
	m := newTestManager(b, benchConfig())
	var reqs []*http.Request
	for _, id := range []string{"prof_1", "prof_2", "prof_3", "prof_4"} {
		p := aliceProfile()
		p.ID = id
		r, _ := benchSessionRequest(b, m, p)
		reqs = append(reqs, r)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Load(reqs[i%len(reqs)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkSessionSave measures sealing a new session.
func BenchmarkSessionSave(b *testing.B) {
	m := newTestManager(b, benchConfig())
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	alice := aliceProfile()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Save(discardWriter{}, r, alice, false); err != nil {
			b.Fatal(err)
		}
	}
}

// discardWriter is a ResponseWriter whose headers are thrown away.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

func benchConfig() sessionConfig {
	cfg := testConfig(newTestClock())
	cfg.Now = nil // the real clock, as in production
	return cfg
}

// benchSessionRequest returns a request carrying a session cookie for p
// among a few other cookies, and the cookie value's length.
func benchSessionRequest(b testing.TB, m *sessionManager, p *Profile) (*http.Request, int) {
	b.Helper()
	rec := httptest.NewRecorder()
	if _, err := m.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), p, false); err != nil {
		b.Fatal(err)
	}
	c := rec.Result().Cookies()[0]
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "theme=dark; "+c.Name+"="+c.Value+"; lang=en")
	return r, len(c.Value)
}

func benchLoad(b *testing.B, m *sessionManager, r *http.Request, cookieBytes int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		s, err := m.Load(r)
		if err != nil {
			b.Fatal(err)
		}
		if s.Profile.ID != "prof_alice" {
			b.Fatalf("got profile %q, want prof_alice", s.Profile.ID)
		}
	}
	b.ReportMetric(float64(cookieBytes), "cookie-bytes")
}

// BenchmarkSessionLoadRotation reads 20,000 distinct sessions in turn, more
// than the verified-session cache holds: nearly every read verifies the
// cookie and replaces a cache entry. ssogate-nocache is the same without a
// cache.
func BenchmarkSessionLoadRotation(b *testing.B) {
	for _, cached := range []bool{true, false} {
		name := "ssogate"
		if !cached {
			name = "ssogate-nocache"
		}
		b.Run(name, func(b *testing.B) {
			m := newTestManager(b, benchConfig())
			if !cached {
				m.cache = nil
			}
			reqs := make([]*http.Request, 20000)
			for i := range reqs {
				reqs[i], _ = benchSessionRequest(b, m, aliceProfile())
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := m.Load(reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkSessionCacheMemory fills the verified-session cache with 10,000
// sessions (the benchmark's profile, each its own cookie) and reports the
// heap each one holds: the cost of SessionCacheSize. It reports too the
// heap of an empty cache of the default size, whose index is made at once.
func BenchmarkSessionCacheMemory(b *testing.B) {
	const n = 10000
	alice := aliceProfile()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	empty := newSessionCache(DefaultSessionCacheSize)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(empty)
	emptyMB := float64(after.HeapAlloc-before.HeapAlloc) / 1e6
	for b.Loop() {
		m := newTestManager(b, benchConfig())
		reqs := make([]*http.Request, n)
		for i := range reqs {
			reqs[i], _ = benchSessionRequest(b, m, alice)
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, r := range reqs {
			if _, err := m.Load(r); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/session")
		runtime.KeepAlive(m)
		runtime.KeepAlive(reqs)
	}
	b.ReportMetric(emptyMB, "empty-default-MB")
}

// BenchmarkSessionCacheGC measures what 100,000 sessions in the
// verified-session cache add to a full garbage collection, against the
// same collection with the cache empty (the baseline, run in the same
// benchmark):
//
//	go test -run '^$' -bench 'BenchmarkSessionCacheGC$' -benchtime 5x .
func BenchmarkSessionCacheGC(b *testing.B) {
	const n = 100000
	for _, cached := range []int{0, n} {
		b.Run(fmt.Sprintf("%d-sessions", cached), func(b *testing.B) {
			cfg := benchConfig()
			cfg.CacheSize = 2 * n // room for all: each shard holds its share
			m := newTestManager(b, cfg)
			p := aliceProfile()
			for range cached {
				r, _ := benchSessionRequest(b, m, p)
				if _, err := m.Load(r); err != nil {
					b.Fatal(err)
				}
			}
			if got := m.cache.len(); got != cached {
				b.Fatalf("%d sessions cached, want %d", got, cached)
			}
			reportGC(b)
			runtime.KeepAlive(m)
		})
	}
}

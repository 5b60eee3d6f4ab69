package ssogate

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSessionCache(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	c := saveSession(t, m, aliceProfile())
	first, err := m.Load(requestWith("/", c))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if n := m.cache.len(); n != 1 {
		t.Fatalf("got %d cached sessions, want 1", n)
	}
	// Another Cookie header carrying the same value, among other cookies.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "theme=dark; ssogate_session="+c.Value+"; lang=en")
	second, err := m.Load(r)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if second != first {
		t.Errorf("got a new *Session, want the cached one")
	}
	if !reflect.DeepEqual(second.Profile, *aliceProfile()) {
		t.Errorf("got profile %+v, want %+v", second.Profile, *aliceProfile())
	}

	if err := m.Clear(httptest.NewRecorder(), requestWith("/", c)); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if n := m.cache.len(); n != 0 {
		t.Errorf("got %d cached sessions after Clear, want 0", n)
	}

	if _, err := m.Load(requestWith("/", c)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	clock.Advance(8 * time.Hour)
	if s, err := m.Load(requestWith("/", c)); !errors.Is(err, ErrNoSession) {
		t.Errorf("cached but expired: got %v, %v; want ErrNoSession", s, err)
	}
}

func TestSessionCacheBounded(t *testing.T) {
	const sessionCacheSize = 4096
	c := newSessionCache(sessionCacheSize)
	s := &Session{}
	const now = 1000
	for i := range 3 * sessionCacheSize {
		deadline := int64(now + 10)
		if i%2 == 0 {
			deadline = now - 1 // already expired: evicted first
		}
		v := fmt.Sprintf("value-%d", i)
		c.put(&cacheEntry{value: v, sess: s}, c.hash(v), deadline, now, 0)
	}
	if n := c.len(); n > sessionCacheSize {
		t.Errorf("got %d cached sessions, want at most %d", n, sessionCacheSize)
	}
	last := fmt.Sprintf("value-%d", 3*sessionCacheSize-1)
	if got, _, res := c.get(last, now); res != cacheHit || got.sess != s {
		t.Errorf("got %v, %v for the newest entry, want a hit", got, res)
	}
	if _, _, res := c.get("value-unknown", now); res != cacheMiss {
		t.Errorf("got %v for an unknown value, want a miss", res)
	}
}

// TestSessionCacheCollision plants, under the hash of Bob's cookie, a
// cache entry for Alice's, as a 64-bit hash collision would: Bob must
// still get his own session, and removing his cookie must not drop hers.
func TestSessionCacheCollision(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	alice := saveSession(t, m, aliceProfile())
	bobProfile := aliceProfile()
	bobProfile.ID, bobProfile.Email = "prof_bob", "bob@example.test"
	bob := saveSession(t, m, bobProfile)
	aliceSession, err := m.Load(requestWith("/", alice))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	h := m.cache.hash(bob.Value)
	sh := m.cache.shard(h)
	sh.mu.Lock()
	sh.m[h] = &cacheEntry{value: alice.Value, sess: aliceSession, deadline: clock.Now().Unix() + 3600}
	sh.mu.Unlock()

	got, err := m.Load(requestWith("/", bob))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got.Profile.ID != "prof_bob" {
		t.Errorf("got the session of %s for Bob's cookie, want prof_bob", got.Profile.ID)
	}

	sh.mu.Lock()
	sh.m[h] = &cacheEntry{value: alice.Value, sess: aliceSession, deadline: clock.Now().Unix() + 3600}
	sh.mu.Unlock()
	m.cache.remove(bob.Value)
	sh.mu.RLock()
	e, ok := sh.m[h]
	sh.mu.RUnlock()
	if !ok || e.sess != aliceSession {
		t.Error("removing Bob's cookie dropped the entry of another value")
	}
}

// TestSessionCacheSameMAC presents, while Alice's session is cached, her
// cookie with one byte changed ahead of its MAC: it has her entry's key, and
// must be refused, since a hit takes the whole value.
func TestSessionCacheSameMAC(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	alice := saveSession(t, m, aliceProfile())
	want, err := m.Load(requestWith("/", alice))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(alice.Value) <= keyBytes {
		t.Fatalf("cookie of %d bytes: no bytes ahead of the %d the cache hashes", len(alice.Value), keyBytes)
	}
	for _, i := range []int{0, len(alice.Value) / 2, len(alice.Value) - keyBytes - 1} {
		b := []byte(alice.Value)
		b[i] = map[bool]byte{true: 'A', false: 'B'}[b[i] != 'A']
		forged := &http.Cookie{Name: alice.Name, Value: string(b)}
		if m.cache.hash(forged.Value) != m.cache.hash(alice.Value) {
			t.Fatalf("byte %d: the forged value has another key; the test needs the same", i)
		}
		if s, err := m.Load(requestWith("/", forged)); err == nil {
			t.Errorf("byte %d changed: got the session of %s, want a refusal", i, s.Profile.ID)
		}
		if got, err := m.Load(requestWith("/", alice)); err != nil || got != want {
			t.Errorf("byte %d: Alice's own cookie then got %v, %v; want her cached session", i, got, err)
		}
	}
}

func TestSessionCacheConcurrent(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	var cookies []*http.Cookie
	for i := range 8 {
		p := aliceProfile()
		p.ID = fmt.Sprintf("prof_%d", i)
		cookies = append(cookies, saveSession(t, m, p))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				c := cookies[(g+i)%len(cookies)]
				s, err := m.Load(requestWith("/", c))
				if err != nil {
					t.Errorf("Load: %v", err)
					return
				}
				if want := fmt.Sprintf("prof_%d", (g+i)%len(cookies)); s.Profile.ID != want {
					t.Errorf("got profile %q, want %q", s.Profile.ID, want)
					return
				}
				if i%50 == 0 {
					m.cache.remove(c.Value)
				}
			}
		})
	}
	wg.Wait()
}

func TestConstantTimeEqual(t *testing.T) {
	base := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 3) // past two 32-byte blocks
	for n := 0; n <= len(base); n++ {
		a := base[:n]
		if !constantTimeEqual(a, strings.Clone(a)) {
			t.Errorf("got %q != itself", a)
		}
		for i := range n {
			b := []byte(a)
			b[i] ^= 0x20
			if constantTimeEqual(a, string(b)) {
				t.Errorf("got %q == %q", a, b)
			}
		}
		if n > 0 && constantTimeEqual(a, a[:n-1]) {
			t.Errorf("got %q == %q", a, a[:n-1])
		}
	}
}

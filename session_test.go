package ssogate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"
)

// testClock is an injectable clock that tests move by hand.
type testClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testSecret(b byte) []byte { return []byte(strings.Repeat(string(rune('a'+b%26)), 32)) }

// aliceProfile is a typical profile from an Okta SAML connection.
func aliceProfile() *Profile {
	return &Profile{
		ID:             "prof_alice",
		IdPID:          "00u1a2b3c4d5e6f7g8h9",
		OrganizationID: "org_acme",
		ConnectionID:   "conn_acme_okta",
		ConnectionType: OktaSAML,
		Email:          "alice@acme.com",
		FirstName:      "Alice",
		LastName:       "Anderson",
		Name:           "Alice Anderson",
		Role:           &Role{Slug: "admin"},
		Roles:          []Role{{Slug: "admin"}},
		Groups:         []string{"engineering", "admins"},
	}
}

func testConfig(clock *testClock) sessionConfig {
	return sessionConfig{
		Secrets:       [][]byte{testSecret(0)},
		CookieName:    "ssogate_session",
		StatePrefix:   "ssogate_state_",
		Path:          "/",
		StatePath:     "/auth/callback",
		Secure:        true,
		Lifetime:      8 * time.Hour,
		StateLifetime: 10 * time.Minute,
		Now:           clock.Now,
	}
}

func newTestManager(t testing.TB, cfg sessionConfig) *sessionManager {
	t.Helper()
	m, err := newSessionManager(cfg)
	if err != nil {
		t.Fatalf("newSessionManager: %v", err)
	}
	return m
}

// requestWith returns a request to path carrying cookies.
func requestWith(path string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// setCookies returns the cookies set on rec, less the index of login flows,
// which has tests of its own.
func setCookies(rec *httptest.ResponseRecorder) []*http.Cookie {
	var cs []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if !strings.HasSuffix(c.Name, "_state_flows") {
			cs = append(cs, c)
		}
	}
	return cs
}

// onlyCookie returns the single cookie set on rec.
func onlyCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := setCookies(rec)
	if len(cs) != 1 {
		t.Fatalf("got %d cookies set, want 1: %q", len(cs), rec.Header().Values("Set-Cookie"))
	}
	return cs[0]
}

// saveSession saves p with m and returns the cookie written.
func saveSession(t *testing.T, m *sessionManager, p *Profile) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if _, err := m.Save(rec, requestWith("/auth/callback"), p); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return onlyCookie(t, rec)
}

func TestSessionRoundTrip(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	rec := httptest.NewRecorder()
	saved, err := m.Save(rec, requestWith("/"), aliceProfile())
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	c := onlyCookie(t, rec)
	got, err := m.Load(requestWith("/", c))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got.Profile, *aliceProfile()) {
		t.Errorf("got profile %+v, want %+v", got.Profile, *aliceProfile())
	}
	if want := clock.Now(); !got.IssuedAt.Equal(want) {
		t.Errorf("got IssuedAt %v, want %v", got.IssuedAt, want)
	}
	if want := clock.Now().Add(8 * time.Hour); !got.ExpiresAt.Equal(want) {
		t.Errorf("got ExpiresAt %v, want %v", got.ExpiresAt, want)
	}
	if !reflect.DeepEqual(saved, got) {
		t.Errorf("Save returned %+v, Load %+v", saved, got)
	}
	if n := len(c.Value); n >= 1024 {
		t.Errorf("got a %d-byte cookie value for a typical profile, want under 1024", n)
	}
	t.Logf("session cookie value: %d bytes; Set-Cookie: %d bytes", len(c.Value), len(rec.Header().Get("Set-Cookie")))
}

func TestSessionRoundTripEmptyProfile(t *testing.T) {
	m := newTestManager(t, testConfig(newTestClock()))
	got, err := m.Load(requestWith("/", saveSession(t, m, &Profile{})))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got.Profile, Profile{}) {
		t.Errorf("got profile %+v, want the zero Profile", got.Profile)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		name   string
		secure bool
		domain string
		path   string
	}{
		{name: "secure host-only", secure: true, path: "/"},
		{name: "insecure with domain", secure: false, domain: "example.com", path: "/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			cfg := testConfig(clock)
			cfg.Secure, cfg.Domain, cfg.Path = tt.secure, tt.domain, tt.path
			m := newTestManager(t, cfg)

			rec := httptest.NewRecorder()
			if _, err := m.Save(rec, requestWith("/"), aliceProfile()); err != nil {
				t.Fatalf("Save: %v", err)
			}
			c := onlyCookie(t, rec)
			want := http.Cookie{
				Name: "ssogate_session", Value: c.Value, Path: tt.path, Domain: tt.domain,
				MaxAge: 8 * 3600, Expires: clock.Now().Add(8 * time.Hour),
				Secure: tt.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
			}
			checkCookie(t, c, &want)

			rec = httptest.NewRecorder()
			if err := m.Clear(rec, requestWith("/", c)); err != nil {
				t.Fatalf("Clear: %v", err)
			}
			want = http.Cookie{
				Name: "ssogate_session", Path: tt.path, Domain: tt.domain,
				MaxAge: -1, Expires: time.Unix(0, 0),
				Secure: tt.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
			}
			checkCookie(t, onlyCookie(t, rec), &want)
		})
	}
}

// checkCookie compares the attributes of a cookie parsed from Set-Cookie.
func checkCookie(t *testing.T, got, want *http.Cookie) {
	t.Helper()
	if got.Name != want.Name {
		t.Errorf("got Name %q, want %q", got.Name, want.Name)
	}
	if got.Value != want.Value {
		t.Errorf("got Value %q, want %q", got.Value, want.Value)
	}
	if got.Path != want.Path {
		t.Errorf("got Path %q, want %q", got.Path, want.Path)
	}
	if got.Domain != want.Domain {
		t.Errorf("got Domain %q, want %q", got.Domain, want.Domain)
	}
	if got.MaxAge != want.MaxAge {
		t.Errorf("got MaxAge %d, want %d", got.MaxAge, want.MaxAge)
	}
	if !got.Expires.Equal(want.Expires) {
		t.Errorf("got Expires %v, want %v", got.Expires, want.Expires)
	}
	if got.Secure != want.Secure {
		t.Errorf("got Secure %v, want %v", got.Secure, want.Secure)
	}
	if got.HttpOnly != want.HttpOnly {
		t.Errorf("got HttpOnly %v, want %v", got.HttpOnly, want.HttpOnly)
	}
	if got.SameSite != want.SameSite {
		t.Errorf("got SameSite %v, want %v", got.SameSite, want.SameSite)
	}
	if got.Partitioned {
		t.Errorf("got Partitioned, want not")
	}
}

func TestSessionLoadRefuses(t *testing.T) {
	clock := newTestClock()
	cfg := testConfig(clock)
	m := newTestManager(t, cfg)
	good := saveSession(t, m, aliceProfile())

	other := cfg
	other.CookieName = "other_session"
	mOther := newTestManager(t, other)
	fromOther := saveSession(t, mOther, aliceProfile())

	rotated := cfg
	rotated.Secrets = [][]byte{testSecret(1)}
	fromRotated := saveSession(t, newTestManager(t, rotated), aliceProfile())

	// A session payload sealed with the state keys under the session name.
	payload, err := appendSession(nil, &Session{Profile: *aliceProfile(), IssuedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	withStateKeys, err := m.stateCodecs[0].Encode(cfg.CookieName, payload)
	if err != nil {
		t.Fatal(err)
	}

	tampered := []byte(good.Value)
	tampered[len(tampered)/2] ^= 0x01
	if tampered[len(tampered)/2] == '=' || tampered[len(tampered)/2] > 'z' {
		tampered[len(tampered)/2] = 'A'
	}

	tests := []struct {
		name    string
		cookies []*http.Cookie
	}{
		{name: "no cookie"},
		{name: "empty value", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: ""}}},
		{name: "tampered", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: string(tampered)}}},
		{name: "truncated", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: good.Value[:len(good.Value)-4]}}},
		{name: "sealed for another cookie name", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: fromOther.Value}}},
		{name: "sealed with a key not in the list", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: fromRotated.Value}}},
		{name: "sealed with the state keys", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: withStateKeys}}},
		{name: "garbage base64", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: "!!!not-base64!!!"}}},
		{name: "valid base64 of garbage", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: base64.URLEncoding.EncodeToString([]byte("1700000000|abc|def"))}}},
		{name: "overlong", cookies: []*http.Cookie{{Name: cfg.CookieName, Value: strings.Repeat("A", 5000)}}},
		{name: "right value under another name", cookies: []*http.Cookie{{Name: "other_session", Value: good.Value}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := m.Load(requestWith("/", tt.cookies...))
			if !errors.Is(err, ErrNoSession) || s != nil {
				t.Errorf("got %v, %v; want nil, ErrNoSession", s, err)
			}
		})
	}
	if n := m.cache.len(); n != 0 {
		t.Errorf("got %d cached sessions after refusals only, want 0", n)
	}
}

func TestSessionExpiry(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			clock := newTestClock()
			m := newTestManager(t, testConfig(clock))
			if !cached {
				m.cache = nil
			}
			c := saveSession(t, m, aliceProfile())
			clock.Advance(8*time.Hour - time.Second)
			if _, err := m.Load(requestWith("/", c)); err != nil {
				t.Fatalf("one second before expiry: got %v, want a session", err)
			}
			clock.Advance(time.Second)
			if s, err := m.Load(requestWith("/", c)); !errors.Is(err, ErrNoSession) {
				t.Fatalf("at expiry: got %v, %v; want ErrNoSession", s, err)
			}
			if cached {
				if n := m.cache.len(); n != 0 {
					t.Errorf("got %d cached sessions after expiry, want 0", n)
				}
			}
		})
	}
}

func TestSessionShortenedLifetime(t *testing.T) {
	clock := newTestClock()
	cfg := testConfig(clock)
	c := saveSession(t, newTestManager(t, cfg), aliceProfile())
	cfg.Lifetime = time.Hour
	m := newTestManager(t, cfg)
	clock.Advance(time.Hour)
	if s, err := m.Load(requestWith("/", c)); !errors.Is(err, ErrNoSession) {
		t.Errorf("got %v, %v after the lifetime was shortened to an hour; want ErrNoSession", s, err)
	}
}

func TestSessionKeyRotation(t *testing.T) {
	clock := newTestClock()
	k1, k2 := testSecret(1), testSecret(2)
	withKeys := func(keys ...[]byte) *sessionManager {
		cfg := testConfig(clock)
		cfg.Secrets = keys
		return newTestManager(t, cfg)
	}
	old := saveSession(t, withKeys(k1), aliceProfile())

	rotating := withKeys(k2, k1)
	if _, err := rotating.Load(requestWith("/", old)); err != nil {
		t.Fatalf("old key still in the list: got %v, want the session", err)
	}
	fresh := saveSession(t, rotating, aliceProfile())
	if _, err := withKeys(k2).Load(requestWith("/", fresh)); err != nil {
		t.Fatalf("new cookie sealed with the newest key: got %v, want the session", err)
	}
	if _, err := withKeys(k2).Load(requestWith("/", old)); !errors.Is(err, ErrNoSession) {
		t.Fatalf("old key rotated out: got %v, want ErrNoSession", err)
	}
}

func TestSessionTooLarge(t *testing.T) {
	m := newTestManager(t, testConfig(newTestClock()))
	tests := []struct {
		name   string
		groups int
	}{
		{name: "value over securecookie's limit", groups: 400},
		{name: "Set-Cookie just over 4096 bytes", groups: 0}, // sized below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := aliceProfile()
			if tt.groups > 0 {
				for i := range tt.groups {
					p.Groups = append(p.Groups, fmt.Sprintf("group-%04d", i))
				}
			} else {
				p.Groups = largestFittingGroups(t, m)
				p.Groups[0] += "x"
			}
			rec := httptest.NewRecorder()
			s, err := m.Save(rec, requestWith("/"), p)
			if !errors.Is(err, ErrSessionTooLarge) || s != nil {
				t.Fatalf("got %v, %v; want nil, ErrSessionTooLarge", s, err)
			}
			if h := rec.Header().Values("Set-Cookie"); len(h) != 0 {
				t.Errorf("got Set-Cookie %q, want none", h)
			}
		})
	}
}

// largestFittingGroups returns groups whose session cookie is as long as one
// can be, so that one more byte (up to securecookie's rounding) no longer fits.
func largestFittingGroups(t *testing.T, m *sessionManager) []string {
	t.Helper()
	fits := func(g string) bool {
		p := aliceProfile()
		p.Groups = []string{g}
		_, err := m.Save(httptest.NewRecorder(), requestWith("/"), p)
		return err == nil
	}
	lo, hi := 0, 4096 // fits(lo), !fits(hi)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fits(strings.Repeat("g", mid)) {
			lo = mid
		} else {
			hi = mid
		}
	}
	p := aliceProfile()
	p.Groups = []string{strings.Repeat("g", lo)}
	rec := httptest.NewRecorder()
	if _, err := m.Save(rec, requestWith("/"), p); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if n := len(rec.Header().Get("Set-Cookie")); n > 4096 || n < 4096-8 {
		t.Fatalf("got a %d-byte Set-Cookie for the largest session, want just under 4096", n)
	}
	return p.Groups
}

func TestSessionCustomAttributes(t *testing.T) {
	custom := map[string]any{"department": "R&D", "level": 7.0, "tags": []any{"a", "b"}}
	tests := []struct {
		name string
		keep bool
		want map[string]any
	}{
		{name: "left out by default", keep: false, want: nil},
		{name: "kept on request", keep: true, want: custom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(newTestClock())
			cfg.KeepCustomAttributes = tt.keep
			m := newTestManager(t, cfg)
			p := aliceProfile()
			p.CustomAttributes = custom
			p.RawAttributes = map[string]any{"raw": "secret-ish"}
			s, err := m.Load(requestWith("/", saveSession(t, m, p)))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !reflect.DeepEqual(s.Profile.CustomAttributes, tt.want) {
				t.Errorf("got CustomAttributes %v, want %v", s.Profile.CustomAttributes, tt.want)
			}
			if s.Profile.RawAttributes != nil {
				t.Errorf("got RawAttributes %v, want nil", s.Profile.RawAttributes)
			}
			if p.RawAttributes == nil || p.CustomAttributes == nil {
				t.Errorf("Save modified the caller's profile")
			}
		})
	}
}

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
		c.put(v, c.hash(v), s, deadline, now, 0)
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

	h := maphash.String(m.cache.seed, bob.Value)
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

func TestSessionStore(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	cfg := testConfig(clock)
	cfg.Store = sessions.NewFilesystemStore(dir, testSecret(5))
	m := newTestManager(t, cfg)
	if m.cache != nil {
		t.Errorf("got a cache with a server-side store, want none")
	}

	rec := httptest.NewRecorder()
	saved, err := m.Save(rec, requestWith("/"), aliceProfile())
	if err != nil {
		t.Fatalf("Save: %v", err)
	}
	first := onlyCookie(t, rec)
	checkCookie(t, first, &http.Cookie{
		Name: "ssogate_session", Value: first.Value, Path: "/",
		MaxAge: 8 * 3600, Expires: first.Expires, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	files := sessionFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("got session files %q, want one", files)
	}
	got, err := m.Load(requestWith("/", first))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(got, saved) {
		t.Errorf("got %+v, want %+v", got, saved)
	}

	// Signing in again, over an existing session (planted by an attacker,
	// say), must start a new one under a new id and destroy the old.
	rec = httptest.NewRecorder()
	if _, err := m.Save(rec, requestWith("/", first), aliceProfile()); err != nil {
		t.Fatalf("Save: %v", err)
	}
	second := onlyCookie(t, rec)
	if second.Value == first.Value {
		t.Fatalf("got the same session cookie, want a new id")
	}
	newFiles := sessionFiles(t, dir)
	if len(newFiles) != 1 || newFiles[0] == files[0] {
		t.Fatalf("got session files %q after the second Save, want one other than %q", newFiles, files[0])
	}
	if s, err := m.Load(requestWith("/", first)); !errors.Is(err, ErrNoSession) {
		t.Errorf("old session: got %v, %v; want ErrNoSession", s, err)
	}
	if _, err := m.Load(requestWith("/", second)); err != nil {
		t.Errorf("new session: got %v, want the session", err)
	}

	clock.Advance(8 * time.Hour)
	if s, err := m.Load(requestWith("/", second)); !errors.Is(err, ErrNoSession) {
		t.Errorf("expired session: got %v, %v; want ErrNoSession", s, err)
	}

	rec = httptest.NewRecorder()
	if err := m.Clear(rec, requestWith("/", second)); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if c := onlyCookie(t, rec); c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("got %v after Clear, want a deletion cookie", c)
	}
	if files := sessionFiles(t, dir); len(files) != 0 {
		t.Errorf("got session files %q after Clear, want none", files)
	}
}

func sessionFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestSessionStoreGarbage(t *testing.T) {
	cfg := testConfig(newTestClock())
	cfg.Store = sessions.NewFilesystemStore(t.TempDir(), testSecret(5))
	m := newTestManager(t, cfg)
	for _, v := range []string{"", "garbage", strings.Repeat("A", 5000)} {
		if s, err := m.Load(requestWith("/", &http.Cookie{Name: "ssogate_session", Value: v})); !errors.Is(err, ErrNoSession) {
			t.Errorf("got %v, %v for %.10q; want ErrNoSession", s, err, v)
		}
	}
}

func TestNewSessionManagerValidates(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*sessionConfig)
		field string
	}{
		{name: "no secrets", mod: func(c *sessionConfig) { c.Secrets = nil }, field: "Secrets"},
		{name: "short secret", mod: func(c *sessionConfig) { c.Secrets = append(c.Secrets, make([]byte, 31)) }, field: "Secrets"},
		{name: "no lifetime", mod: func(c *sessionConfig) { c.Lifetime = 0 }, field: "Lifetime"},
		{name: "negative state lifetime", mod: func(c *sessionConfig) { c.StateLifetime = -time.Minute }, field: "StateLifetime"},
		{name: "no cookie name", mod: func(c *sessionConfig) { c.CookieName = "" }, field: "CookieName"},
		{name: "bad cookie name", mod: func(c *sessionConfig) { c.CookieName = "a b" }, field: "CookieName"},
		{name: "bad path", mod: func(c *sessionConfig) { c.Path = "/a;b" }, field: "CookieName"},
		{name: "no state prefix", mod: func(c *sessionConfig) { c.StatePrefix = "" }, field: "StatePrefix"},
		{name: "bad state prefix", mod: func(c *sessionConfig) { c.StatePrefix = "st@te" }, field: "StatePrefix"},
		{name: "state prefix matching the session cookie", mod: func(c *sessionConfig) {
			c.StatePrefix = "s_"
			c.CookieName = "s_0123456789ab"
		}, field: "StatePrefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(newTestClock())
			tt.mod(&cfg)
			_, err := newSessionManager(cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.field {
				t.Errorf("got %v, want a ConfigError for %s", err, tt.field)
			}
		})
	}
}

func TestSessionManagerDefaults(t *testing.T) {
	m, err := newSessionManager(sessionConfig{
		Secrets: [][]byte{testSecret(0)}, CookieName: "s", StatePrefix: "st_", Lifetime: time.Hour,
	})
	if err != nil {
		t.Fatalf("newSessionManager: %v", err)
	}
	if m.path != "/" || m.statePath != "/" || m.stateLifetime != 10*time.Minute || m.now == nil || m.store != nil || m.cache == nil {
		t.Errorf("got path %q, statePath %q, stateLifetime %v, cache %v; want /, /, 10m0s and a cache",
			m.path, m.statePath, m.stateLifetime, m.cache != nil)
	}
}

func TestCookieValue(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
	}{
		{name: "none"},
		{name: "alone", headers: []string{"s=abc"}},
		{name: "among others", headers: []string{"a=1; s=abc; b=2"}},
		{name: "first of two", headers: []string{"s=one; s=two"}},
		{name: "second line", headers: []string{"a=1", "s=abc"}},
		{name: "quoted", headers: []string{`s="abc"`}},
		{name: "invalid value skipped", headers: []string{"s=a\\b; s=ok"}},
		{name: "spaces", headers: []string{"  a=1 ;  s=abc  ; "}},
		{name: "space inside", headers: []string{"s=a b"}},
		{name: "no equals", headers: []string{"s"}},
		{name: "prefix name", headers: []string{"ss=abc; s_=x"}},
		{name: "empty value", headers: []string{"s="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Cookie", h)
			}
			checkCookieValue(t, r, "s")
		})
	}
}

// checkCookieValue checks that cookieValue agrees with r.Cookie.
func checkCookieValue(t *testing.T, r *http.Request, name string) {
	t.Helper()
	got, ok := cookieValue(r, name)
	var want string
	c, err := r.Cookie(name)
	if err == nil {
		want = c.Value
	}
	if ok != (err == nil) || got != want {
		t.Errorf("got %q, %v; want %q, %v (headers %q)", got, ok, want, err == nil, r.Header["Cookie"])
	}
}

func TestCookieValueAllocs(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "theme=dark; ssogate_session=abcdef; lang=en")
	if n := testing.AllocsPerRun(100, func() { cookieValue(r, "ssogate_session") }); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

func TestSessionPayloadRefuses(t *testing.T) {
	good, err := appendSession(nil, &Session{ID: testSessionID, Profile: *aliceProfile(), IssuedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeSession(good); err != nil {
		t.Fatalf("decodeSession(good): %v", err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "empty", b: nil},
		{name: "version only", b: []byte{sessionVersion}},
		{name: "version 1", b: append([]byte{1}, good[1:]...)},
		{name: "unknown version", b: append([]byte{3}, good[1:]...)},
		{name: "short session id", b: append([]byte{sessionVersion, 0}, appendString(nil, testSessionID[1:])...)},
		{name: "unknown flag", b: append([]byte{sessionVersion, 0x80}, good[2:]...)},
		{name: "truncated", b: good[:len(good)-1]},
		{name: "trailing byte", b: append(slices.Clone(good), 0)},
		{name: "overlong string", b: []byte{sessionVersion, 0, 0x7f, 'a'}},
		{name: "varint overflow", b: []byte{sessionVersion, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{name: "huge group count", b: hugeGroupCount()},
		{name: "custom flag with bad json", b: withCustom(good, "{")},
		{name: "custom flag with json null", b: withCustom(good, "null")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := decodeSession(tt.b); err == nil {
				t.Errorf("got %+v, want an error", s)
			}
		})
	}
}

// testSessionID is a well-formed session id.
const testSessionID = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// hugeGroupCount returns a payload claiming more groups than it could hold.
func hugeGroupCount() []byte {
	b := appendString([]byte{sessionVersion, 0}, testSessionID)
	for range 9 {
		b = appendString(b, "")
	}
	b = appendUvarint(b, 0)      // roles
	b = appendUvarint(b, 1<<40)  // groups
	return append(b, 0, 0, 0, 0) // a few bytes that could be groups
}

// withCustom returns good with the custom attributes flag and blob set.
func withCustom(good []byte, blob string) []byte {
	b := slices.Clone(good)
	b[1] |= flagCustom
	return appendString(b, blob)
}

func TestSessionPayloadTooManyGroups(t *testing.T) {
	p := aliceProfile()
	p.Groups = make([]string, maxListLen+1)
	if _, err := appendSession(nil, &Session{Profile: *p}); !errors.Is(err, ErrSessionTooLarge) {
		t.Errorf("got %v, want ErrSessionTooLarge", err)
	}
}

// Login state ----------------------------------------------------------------

func testState(i int) string { return fmt.Sprintf("state-%02d-0123456789abcdef0123456789", i) }

// saveState runs SaveState for st on a request carrying cookies and returns
// the recorder.
func saveState(t *testing.T, m *sessionManager, st *loginState, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := m.SaveState(rec, requestWith("/login", cookies...), st); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	return rec
}

// setCookieByName returns the cookies set on rec, by name.
func setCookieByName(rec *httptest.ResponseRecorder) map[string]*http.Cookie {
	m := make(map[string]*http.Cookie)
	for _, c := range setCookies(rec) {
		m[c.Name] = c
	}
	return m
}

func TestStateRoundTripAndAttributes(t *testing.T) {
	clock := newTestClock()
	cfg := testConfig(clock)
	cfg.Domain = "example.com"
	m := newTestManager(t, cfg)
	st := &loginState{
		State: testState(1), Verifier: NewPKCEVerifier(), ReturnTo: "/reports?q=1",
		OrganizationID: "org_acme", ConnectionID: "conn_acme_okta", Provider: GoogleOAuth,
		LoginHint: "alice@acme.com", CreatedAt: clock.Now(),
	}
	rec := saveState(t, m, st)
	c := onlyCookie(t, rec)
	checkCookie(t, c, &http.Cookie{
		Name: "ssogate_state_" + flowID(st.State), Value: c.Value, Path: "/auth/callback", Domain: "example.com",
		MaxAge: 600, Expires: clock.Now().Add(10 * time.Minute), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	if len(flowID(st.State)) != 12 {
		t.Errorf("got flow id %q, want 12 hex digits", flowID(st.State))
	}
	outer, _ := base64.URLEncoding.DecodeString(c.Value)
	if strings.Contains(c.Value, st.State) || strings.Contains(string(outer), st.State) ||
		strings.Contains(string(outer), st.Verifier) {
		t.Errorf("state cookie shows the state or verifier in clear")
	}

	clock.Advance(time.Minute)
	rec = httptest.NewRecorder()
	got, err := m.TakeState(rec, requestWith("/auth/callback", c), st.State)
	if err != nil {
		t.Fatalf("TakeState: %v", err)
	}
	if !got.CreatedAt.Equal(st.CreatedAt) {
		t.Errorf("got CreatedAt %v, want %v", got.CreatedAt, st.CreatedAt)
	}
	got.CreatedAt = st.CreatedAt
	if !reflect.DeepEqual(got, st) {
		t.Errorf("got %+v, want %+v", got, st)
	}
	checkCookie(t, onlyCookie(t, rec), &http.Cookie{
		Name: c.Name, Path: "/auth/callback", Domain: "example.com",
		MaxAge: -1, Expires: time.Unix(0, 0), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func TestStateCreatedAtDefaultsToNow(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	st := &loginState{State: testState(1)}
	c := onlyCookie(t, saveState(t, m, st))
	got, err := m.TakeState(httptest.NewRecorder(), requestWith("/", c), st.State)
	if err != nil {
		t.Fatalf("TakeState: %v", err)
	}
	if !got.CreatedAt.Equal(clock.Now()) || !st.CreatedAt.IsZero() {
		t.Errorf("got CreatedAt %v (caller's %v), want %v (caller's zero)", got.CreatedAt, st.CreatedAt, clock.Now())
	}
}

func TestStateTwoFlows(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	a := &loginState{State: testState(1), Verifier: "va", CreatedAt: clock.Now()}
	b := &loginState{State: testState(2), Verifier: "vb", CreatedAt: clock.Now()}
	ca := onlyCookie(t, saveState(t, m, a))
	cb := onlyCookie(t, saveState(t, m, b, ca))
	if ca.Name == cb.Name {
		t.Fatalf("both flows got cookie %q, want one each", ca.Name)
	}
	for _, st := range []*loginState{b, a} {
		got, err := m.TakeState(httptest.NewRecorder(), requestWith("/auth/callback", ca, cb), st.State)
		if err != nil {
			t.Fatalf("TakeState(%s): %v", st.State, err)
		}
		if got.Verifier != st.Verifier {
			t.Errorf("got verifier %q, want %q", got.Verifier, st.Verifier)
		}
	}
}

func TestTakeStateOutcomes(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	st := &loginState{State: testState(1), CreatedAt: clock.Now()}
	good := onlyCookie(t, saveState(t, m, st))
	name := good.Name

	mismatch, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &loginState{State: testState(2), CreatedAt: clock.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	old, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &loginState{State: st.State, CreatedAt: clock.Now().Add(-11 * time.Minute)}))
	if err != nil {
		t.Fatal(err)
	}
	future, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &loginState{State: st.State, CreatedAt: clock.Now().Add(time.Hour)}))
	if err != nil {
		t.Fatal(err)
	}
	sessionValue := saveSession(t, m, aliceProfile()).Value
	otherFlow := onlyCookie(t, saveState(t, m, &loginState{State: testState(3), CreatedAt: clock.Now()}))

	tests := []struct {
		name    string
		state   string
		cookies []*http.Cookie
		want    error
	}{
		{name: "ok", state: st.State, cookies: []*http.Cookie{good}},
		{name: "empty state", state: "", cookies: []*http.Cookie{good}, want: ErrNoState},
		{name: "no cookie", state: st.State, want: ErrNoState},
		{name: "only another flow's cookie", state: st.State, cookies: []*http.Cookie{otherFlow}, want: ErrNoState},
		{name: "another flow's value under this name", state: st.State, cookies: []*http.Cookie{{Name: name, Value: otherFlow.Value}}, want: ErrNoState},
		{name: "mismatch", state: st.State, cookies: []*http.Cookie{{Name: name, Value: mismatch}}, want: ErrStateMismatch},
		{name: "expired", state: st.State, cookies: []*http.Cookie{{Name: name, Value: old}}, want: ErrNoState},
		{name: "from the future", state: st.State, cookies: []*http.Cookie{{Name: name, Value: future}}, want: ErrNoState},
		{name: "tampered", state: st.State, cookies: []*http.Cookie{{Name: name, Value: "x" + good.Value[1:]}}, want: ErrNoState},
		{name: "garbage", state: st.State, cookies: []*http.Cookie{{Name: name, Value: "garbage"}}, want: ErrNoState},
		{name: "session cookie value", state: st.State, cookies: []*http.Cookie{{Name: name, Value: sessionValue}}, want: ErrNoState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			got, err := m.TakeState(rec, requestWith("/auth/callback", tt.cookies...), tt.state)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if (err == nil) != (got != nil) {
				t.Errorf("got state %v with error %v", got, err)
			}
			set := setCookieByName(rec)
			if tt.state == "" {
				if len(set) != 0 {
					t.Errorf("got cookies %v set, want none", set)
				}
				return
			}
			if c := set[name]; c == nil || c.MaxAge >= 0 || c.Path != "/auth/callback" {
				t.Errorf("got %v set, want %s deleted at /auth/callback", rec.Header().Values("Set-Cookie"), name)
			}
			if len(set) != 1 {
				t.Errorf("got %d cookies set, want only the deletion of %s", len(set), name)
			}
		})
	}

	clock.Advance(10*time.Minute + time.Second)
	if _, err := m.TakeState(httptest.NewRecorder(), requestWith("/auth/callback", good), st.State); !errors.Is(err, ErrNoState) {
		t.Errorf("after StateLifetime: got %v, want ErrNoState", err)
	}
}

func TestSaveStateCap(t *testing.T) {
	tests := []struct {
		name        string
		present     int  // valid state cookies already in the browser
		undecodable bool // plus one that cannot be opened
		wantExpired []int
	}{
		{name: "room left", present: 4},
		{name: "full", present: 5, wantExpired: []int{0}},
		{name: "full with an undecodable one", present: 4, undecodable: true, wantExpired: []int{-1}},
		{name: "over full", present: 6, undecodable: true, wantExpired: []int{-1, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newTestClock()
			m := newTestManager(t, testConfig(clock))
			var cookies []*http.Cookie
			names := map[int]string{}
			// Saved newest first, so that cookie order does not decide.
			for i := tt.present - 1; i >= 0; i-- {
				st := &loginState{State: testState(i), CreatedAt: clock.Now().Add(time.Duration(i) * time.Second)}
				c := onlyCookie(t, saveState(t, m, st))
				cookies = append(cookies, c)
				names[i] = c.Name
			}
			if tt.undecodable {
				names[-1] = "ssogate_state_" + flowID("lost")
				cookies = append(cookies, &http.Cookie{Name: names[-1], Value: "garbage"})
			}
			cookies = append(cookies,
				&http.Cookie{Name: "ssogate_session", Value: "v"},
				&http.Cookie{Name: "ssogate_state_other", Value: "v"})

			st := &loginState{State: testState(99), CreatedAt: clock.Now().Add(time.Minute)}
			rec := saveState(t, m, st, cookies...)
			var gotExpired []string
			for _, c := range setCookies(rec) {
				if c.MaxAge < 0 {
					gotExpired = append(gotExpired, c.Name)
				} else if c.Name != "ssogate_state_"+flowID(st.State) {
					t.Errorf("got %s set, want only the new flow's cookie", c.Name)
				}
			}
			var wantExpired []string
			for _, i := range tt.wantExpired {
				wantExpired = append(wantExpired, names[i])
			}
			slices.Sort(gotExpired)
			slices.Sort(wantExpired)
			if !slices.Equal(gotExpired, wantExpired) {
				t.Errorf("got expired %q, want %q", gotExpired, wantExpired)
			}
			if left := tt.present + btoi(tt.undecodable) - len(gotExpired) + 1; left > maxStateCookies {
				t.Errorf("got %d state cookies left, want at most %d", left, maxStateCookies)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSaveStateSameFlowAgain(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	var cookies []*http.Cookie
	for i := range 5 {
		cookies = append(cookies, onlyCookie(t, saveState(t, m, &loginState{State: testState(i), CreatedAt: clock.Now()})))
	}
	// Saving a flow that is already present replaces its cookie and evicts nothing.
	rec := saveState(t, m, &loginState{State: testState(4), CreatedAt: clock.Now()}, cookies...)
	if c := onlyCookie(t, rec); c.MaxAge <= 0 {
		t.Errorf("got %v, want only the flow's new cookie", c)
	}
}

func TestSaveStateRefuses(t *testing.T) {
	m := newTestManager(t, testConfig(newTestClock()))
	tests := []struct {
		name string
		st   *loginState
	}{
		{name: "nil", st: nil},
		{name: "empty state", st: &loginState{Verifier: "v"}},
		{name: "too large", st: &loginState{State: testState(1), ReturnTo: "/" + strings.Repeat("a", 4000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := m.SaveState(rec, requestWith("/login"), tt.st); err == nil {
				t.Errorf("got no error, want one")
			}
			if h := rec.Header().Values("Set-Cookie"); len(h) != 0 {
				t.Errorf("got Set-Cookie %q, want none", h)
			}
		})
	}
}

func TestClearStates(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	a := onlyCookie(t, saveState(t, m, &loginState{State: testState(1)}))
	b := onlyCookie(t, saveState(t, m, &loginState{State: testState(2)}))
	rec := httptest.NewRecorder()
	m.ClearStates(rec, requestWith("/auth/callback", a, b, a,
		&http.Cookie{Name: "ssogate_session", Value: "v"},
		&http.Cookie{Name: "ssogate_state_x", Value: "v"},
		&http.Cookie{Name: "unrelated", Value: "v"}))
	var got []string
	for _, c := range setCookies(rec) {
		if c.MaxAge >= 0 || c.Path != "/auth/callback" {
			t.Errorf("got %v, want a deletion at /auth/callback", c)
		}
		got = append(got, c.Name)
	}
	want := []string{a.Name, b.Name}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %q expired, want %q", got, want)
	}
}

func TestLoginStatePayloadRefuses(t *testing.T) {
	good := appendLoginState(nil, &loginState{State: "s", CreatedAt: time.Unix(5, 0)})
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "empty"},
		{name: "unknown version", b: append([]byte{9}, good[1:]...)},
		{name: "truncated", b: good[:len(good)-1]},
		{name: "trailing byte", b: append(slices.Clone(good), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, err := decodeLoginState(tt.b); err == nil {
				t.Errorf("got %+v, want an error", st)
			}
		})
	}
}

func TestConstantTimeEqual(t *testing.T) {
	base := "0123456789abcdefghijklmnopqrstuvwxyz"
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

func TestSessionLoadSkipsInvalidFirstCookie(t *testing.T) {
	m := newTestManager(t, testConfig(newTestClock()))
	c := saveSession(t, m, aliceProfile())
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", `ssogate_session=in\valid; ssogate_session=`+c.Value)
	checkCookieValue(t, r, "ssogate_session")
	for i := range 2 { // verified, then from the cache
		if _, err := m.Load(r); err != nil {
			t.Fatalf("Load %d: got %v, want the session", i, err)
		}
	}
}

// TestFlowIndex checks the index cookie that lets /login cap, and /logout
// clear, state cookies it cannot see because they are scoped to the callback.
func TestFlowIndex(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	var index *http.Cookie
	var names []string
	for i := range 7 {
		var carried []*http.Cookie
		if index != nil {
			carried = append(carried, index)
		}
		rec := saveState(t, m, &loginState{State: testState(i)}, carried...)
		set := map[string]*http.Cookie{}
		for _, c := range rec.Result().Cookies() {
			set[c.Name] = c
		}
		index = set["ssogate_state_flows"]
		if index == nil || index.Path != "/" || !index.HttpOnly || index.MaxAge != 600 {
			t.Fatalf("login %d: index cookie %v, want HttpOnly at / for 10 minutes", i, index)
		}
		names = append(names, "ssogate_state_"+flowID(testState(i)))
		if i >= maxStateCookies {
			evicted := set[names[i-maxStateCookies]]
			if evicted == nil || evicted.MaxAge >= 0 || evicted.Path != "/auth/callback" {
				t.Errorf("login %d: oldest flow %s not expired: %v", i, names[i-maxStateCookies], evicted)
			}
		}
		if n := strings.Count(index.Value, ".") + 1; n > maxStateCookies {
			t.Errorf("login %d: index lists %d flows, want at most %d", i, n, maxStateCookies)
		}
		clock.Advance(time.Second)
	}

	// The callback of one flow takes it out of the index.
	rec := httptest.NewRecorder()
	req := requestWith("/auth/callback", &http.Cookie{Name: index.Name, Value: index.Value})
	m.TakeState(rec, req, testState(6))
	for _, c := range rec.Result().Cookies() {
		if c.Name == index.Name && strings.Contains(c.Value, flowID(testState(6))) {
			t.Errorf("index still lists the finished flow: %q", c.Value)
		}
	}

	// Logout, which sees only the index, expires every listed flow.
	rec = httptest.NewRecorder()
	m.ClearStates(rec, requestWith("/logout", &http.Cookie{Name: index.Name, Value: index.Value}))
	expired := 0
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 {
			t.Errorf("ClearStates set %v, want only deletions", c)
		}
		if c.Name != index.Name {
			expired++
		}
	}
	if expired != maxStateCookies {
		t.Errorf("ClearStates expired %d state cookies, want %d", expired, maxStateCookies)
	}

	// A forged or garbled index is ignored entry by entry, never trusted
	// to name other cookies.
	for _, v := range []string{"", "x", "zzzzzzzzzzzz-1", "aaaaaaaaaaaa", "aaaaaaaaaaaa-x", strings.Repeat("aaaaaaaaaaaa-1.", 100), "../../session-1"} {
		rec := httptest.NewRecorder()
		m.ClearStates(rec, requestWith("/logout", &http.Cookie{Name: "ssogate_state_flows", Value: v}))
		for _, c := range rec.Result().Cookies() {
			if c.Name != "ssogate_state_flows" && !isStateCookieName(c.Name, "ssogate_state_") {
				t.Errorf("index %q made ClearStates touch %s", v, c.Name)
			}
		}
	}
}

// TestLoadPicksCookieAsNetHTTP checks that Load reads the session cookie
// that r.Cookie would return when the name appears more than once: the
// first whose value has only bytes a cookie may hold.
func TestLoadPicksCookieAsNetHTTP(t *testing.T) {
	m := newTestManager(t, testConfig(newTestClock()))
	good := saveSession(t, m, aliceProfile())
	tests := []struct {
		name   string
		header string
		want   bool
	}{
		{name: "malformed first, valid second", header: good.Name + `=a\b; ` + good.Name + "=" + good.Value, want: true},
		{name: "quote inside first", header: good.Name + `=a"b; ` + good.Name + "=" + good.Value, want: true},
		{name: "forged first, valid second", header: good.Name + "=forged; " + good.Name + "=" + good.Value, want: false},
		{name: "valid first, forged second", header: good.Name + "=" + good.Value + "; " + good.Name + "=forged", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // a miss, then a hit when it is cached
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Cookie", tt.header)
				s, err := m.Load(r)
				if got := err == nil; got != tt.want || got && s.Profile.ID != aliceProfile().ID {
					t.Fatalf("Load: got %v, %v; want signed in: %v", s, err, tt.want)
				}
			}
		})
	}
}

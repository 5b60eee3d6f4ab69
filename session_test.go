package ssogate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/ssogate/ssogate/workos"
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
		ConnectionType: workos.OktaSAML,
		Email:          "alice@acme.com",
		FirstName:      "Alice",
		LastName:       "Anderson",
		Name:           "Alice Anderson",
		Role:           &workos.Role{Slug: "admin"},
		Roles:          []workos.Role{{Slug: "admin"}},
		Groups:         []string{"engineering", "admins"},
	}
}

func testConfig(clock *testClock) sessionConfig {
	return sessionConfig{
		Secrets:       [][]byte{testSecret(0)},
		CookieName:    "ssogate_session",
		StatePrefix:   "ssogate_state_",
		Path:          "/",
		Binding:       "client_test",
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

// setCookies returns the cookies set on rec.
func setCookies(rec *httptest.ResponseRecorder) []*http.Cookie {
	return rec.Result().Cookies()
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
	if _, err := m.Save(rec, requestWith("/auth/callback"), p, false); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return onlyCookie(t, rec)
}

func TestSessionRoundTrip(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	rec := httptest.NewRecorder()
	saved, err := m.Save(rec, requestWith("/"), aliceProfile(), false)
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
			if _, err := m.Save(rec, requestWith("/"), aliceProfile(), false); err != nil {
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
			s, err := m.Save(rec, requestWith("/"), p, false)
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
		_, err := m.Save(httptest.NewRecorder(), requestWith("/"), p, false)
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
	if _, err := m.Save(rec, requestWith("/"), p, false); err != nil {
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
	saved, err := m.Save(rec, requestWith("/"), aliceProfile(), false)
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
	if _, err := m.Save(rec, requestWith("/", first), aliceProfile(), false); err != nil {
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
			c.CookieName = "s_3"
		}, field: "StatePrefix"},
		{name: "state prefix matching the session cookie, as state cookies were named", mod: func(c *sessionConfig) {
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
	if m.path != "/" || m.stateLifetime != 10*time.Minute || m.now == nil || m.store != nil || m.cache == nil {
		t.Errorf("got path %q, stateLifetime %v, cache %v; want /, 10m0s and a cache",
			m.path, m.stateLifetime, m.cache != nil)
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

// TestSessionStoreRenewAndRevoke checks idle renewal and revocation for
// sessions kept in a server-side store: the renewal rewrites the stored
// session under the same id, and a revocation refuses it.
func TestSessionStoreRenewAndRevoke(t *testing.T) {
	clock := newTestClock()
	dir := t.TempDir()
	cfg := testConfig(clock)
	cfg.Store = sessions.NewFilesystemStore(dir, testSecret(5))
	cfg.IdleTimeout = 10 * time.Minute
	m := newTestManager(t, cfg)
	c := saveSession(t, m, aliceProfile())
	files := sessionFiles(t, dir)

	clock.Advance(9 * time.Minute)
	s, err := m.Load(requestWith("/", c))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	rec := httptest.NewRecorder()
	renewed := m.Renew(rec, requestWith("/", c), s, clock.Now())
	if !renewed.LastSeen.Equal(clock.Now().Truncate(time.Second)) || renewed.ID != s.ID {
		t.Fatalf("renewed: got %+v, want the same session seen now", renewed)
	}
	if got := sessionFiles(t, dir); !reflect.DeepEqual(got, files) {
		t.Errorf("got session files %q after renewal, want the same %q", got, files)
	}
	// Past the first idle window, the renewed session lives on.
	clock.Advance(9 * time.Minute)
	if _, err := m.Load(requestWith("/", c)); err != nil {
		t.Fatalf("after renewal: %v", err)
	}
	m.revocations.add([]Revocation{{Kind: SessionRevocation, ID: s.ID, At: clock.Now(), Expires: clock.Now().Add(time.Hour)}}, clock.Now())
	if _, err := m.Load(requestWith("/", c)); !errors.Is(err, ErrSessionRevoked) {
		t.Errorf("revoked: got %v, want ErrSessionRevoked", err)
	}
}

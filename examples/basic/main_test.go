package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// startApp runs the example on a free port with the given environment and
// returns its base URL.
func startApp(t *testing.T, env map[string]string) string {
	t.Helper()
	return startAppOutput(t, env, io.Discard)
}

// startAppOutput is startApp with the app's output going to out.
func startAppOutput(t *testing.T, env map[string]string, out io.Writer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	getenv := func(k string) string {
		if k == "ADDR" {
			return "127.0.0.1:0"
		}
		return env[k]
	}
	go func() { done <- run(ctx, getenv, out, ready) }()
	select {
	case u := <-ready:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
		return u
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	}
	return ""
}

// syncBuffer collects the output of the app's goroutines.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEmulatorModeOutput checks what the example prints with no
// WORKOS_API_KEY: the URL to open, the test users and the warning about
// the random cookie password.
func TestEmulatorModeOutput(t *testing.T) {
	var out syncBuffer
	base := startAppOutput(t, nil, &out)
	got := out.String()
	for _, want := range []string{
		"WorkOS emulator at http://127.0.0.1:",
		"Open " + base,
		"alice@acme.com", "bob@acme.com", "hank@globex.com", "carol@gmail.com",
		"WORKOS_COOKIE_PASSWORD is not set",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t, &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request as a browser navigation and returns status, Location
// and body.
func (b *browser) do(method, u string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	loc := res.Header.Get("Location")
	if loc != "" {
		l, err := req.URL.Parse(loc)
		if err != nil {
			b.t.Fatal(err)
		}
		loc = l.String()
	}
	return res.StatusCode, loc, string(data)
}

func TestPublicAndGatedRoutes(t *testing.T) {
	base := startApp(t, nil)
	b := newBrowser(t)

	if code, _, body := b.do("GET", base+"/", nil); code != http.StatusOK || !strings.Contains(body, "/login?organization=org_acme") {
		t.Errorf("/: got %d, want 200 with sign-in links", code)
	}
	if code, loc, _ := b.do("GET", base+"/app", nil); code != http.StatusFound || loc != base+"/login?return_to=%2Fapp" {
		t.Errorf("/app signed out: got %d to %q, want 302 to /login", code, loc)
	}
	req, _ := http.NewRequest("GET", base+"/api/me", nil)
	req.Header.Set("Accept", "application/json")
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/me signed out: got %d, want 401", res.StatusCode)
	}
}

// TestSignInThroughTheEmulatorPage signs in as a user would: through the
// emulator's sign-in page, choosing alice@acme.com.
func TestSignInThroughTheEmulatorPage(t *testing.T) {
	base := startApp(t, nil)
	b := newBrowser(t)

	code, authURL, _ := b.do("GET", base+"/login?organization=org_acme&return_to=/app", nil)
	if code != http.StatusFound || !strings.Contains(authURL, "/sso/authorize?") {
		t.Fatalf("/login: got %d to %q, want 302 to WorkOS", code, authURL)
	}
	code, _, page := b.do("GET", authURL, nil)
	if code != http.StatusOK || !strings.Contains(page, "alice@acme.com") || !strings.Contains(page, "bob@acme.com") {
		t.Fatalf("sign-in page: got %d, want 200 listing alice and bob", code)
	}
	m := regexp.MustCompile(`name="request" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("sign-in page has no request id")
	}
	au, _ := url.Parse(authURL)
	code, callback, _ := b.do("POST", au.Scheme+"://"+au.Host+"/sso/authorize/complete", url.Values{"request": {m[1]}, "email": {"alice@acme.com"}})
	if code != http.StatusFound || !strings.HasPrefix(callback, base+"/callback?") {
		t.Fatalf("choosing alice: got %d to %q, want 302 to the callback", code, callback)
	}
	code, landing, _ := b.do("GET", callback, nil)
	if code != http.StatusSeeOther || landing != base+"/app" {
		t.Fatalf("callback: got %d to %q, want 303 to /app", code, landing)
	}
	code, _, body := b.do("GET", base+"/app", nil)
	if code != http.StatusOK || !strings.Contains(body, "Signed in as alice@acme.com") || !strings.Contains(body, "org_acme") {
		t.Fatalf("/app: got %d %q, want alice's profile", code, body)
	}

	code, _, body = b.do("GET", base+"/api/me", nil)
	var me map[string]any
	if err := json.Unmarshal([]byte(body), &me); err != nil || code != http.StatusOK {
		t.Fatalf("/api/me: got %d %q (%v)", code, body, err)
	}
	for k, want := range map[string]string{
		"email": "alice@acme.com", "organization_id": "org_acme", "connection_id": "conn_acme_okta",
		"connection_type": "OktaSAML", "first_name": "Alice", "last_name": "Anderson",
	} {
		if me[k] != want {
			t.Errorf("/api/me %s = %v, want %q", k, me[k], want)
		}
	}

	if code, loc, _ := b.do("POST", base+"/logout", url.Values{}); code != http.StatusSeeOther || loc != base+"/" {
		t.Errorf("logout: got %d to %q, want 303 to /", code, loc)
	}
	if code, _, _ := b.do("GET", base+"/app", nil); code != http.StatusFound {
		t.Errorf("/app after logout: got %d, want 302", code)
	}
}

func TestRealKeyNeedsCookiePassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
	}{
		{"missing", ""},
		{"too short", "short"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{
				"ADDR": "127.0.0.1:0", "WORKOS_API_KEY": "sk_test_x", "WORKOS_CLIENT_ID": "client_x",
				"WORKOS_COOKIE_PASSWORD": tc.password,
			}
			err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), "WORKOS_COOKIE_PASSWORD") {
				t.Errorf("got %v, want a refusal naming WORKOS_COOKIE_PASSWORD", err)
			}
		})
	}
}

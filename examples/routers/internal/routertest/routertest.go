// Package routertest checks the router examples over real HTTP against the
// WorkOS emulator, the same way for each router.
package routertest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workostest"
)

// Log collects what a router's request logger writes.
type Log struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Check serves the app that routes builds and checks it as a user would:
// the home page is public; /app sends a browser to sign in and answers an
// API client 401; after a sign-in through the emulator /app greets the
// user; after signing out it sends the browser to sign in again. With log
// set, the router's request log must show the callback with its code and
// state redacted.
func Check(t *testing.T, routes func(*ssogate.Middleware) http.Handler, log *Log) {
	t.Helper()
	idp := workostest.NewServer()
	t.Cleanup(idp.Close)
	app := httptest.NewServer(nil)
	t.Cleanup(app.Close)
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        idp.APIKey,
		ClientID:      idp.ClientID,
		BaseURL:       idp.URL,
		RedirectURI:   app.URL + "/callback",
		CookieSecrets: [][]byte{[]byte("0123456789abcdef0123456789abcdef-routers")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gate.Close() })
	app.Config.Handler = routes(gate)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, navigate bool) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, app.URL+path, nil)
		if navigate {
			req.Header.Set("Sec-Fetch-Mode", "navigate")
			req.Header.Set("Accept", "text/html")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(body)
	}

	if status, _, body := get("/", true); status != http.StatusOK || !strings.Contains(body, `href="/app"`) {
		t.Errorf("/: got %d %q, want the public home page", status, body)
	}
	if status, loc, _ := get("/app", true); status != http.StatusFound || loc != "/login?return_to=%2Fapp" {
		t.Errorf("/app signed out: got %d to %q, want 302 to /login?return_to=%%2Fapp", status, loc)
	}
	if status, _, _ := get("/app", false); status != http.StatusUnauthorized {
		t.Errorf("/app signed out, from a script: got %d, want 401", status)
	}
	if err := idp.SignIn(c, app.URL+"/login?organization="+workostest.AcmeOrganizationID, workostest.AliceEmail); err != nil {
		t.Fatal(err)
	}
	if status, _, body := get("/app", true); status != http.StatusOK || body != "Hello alice@acme.com of org_acme\n" {
		t.Errorf("/app signed in: got %d %q, want 200 greeting alice", status, body)
	}

	req, _ := http.NewRequest(http.MethodPost, app.URL+"/logout", strings.NewReader(url.Values{}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", app.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("POST /logout: got %d, want 303", res.StatusCode)
	}
	if status, _, _ := get("/app", true); status != http.StatusFound {
		t.Errorf("/app after signing out: got %d, want 302 to sign in", status)
	}

	if log == nil {
		return
	}
	logged := log.String()
	if !strings.Contains(logged, "/callback?code=REDACTED&state=REDACTED") {
		t.Errorf("the request log shows no redacted callback:\n%s", logged)
	}
	for _, m := range regexp.MustCompile(`[?&](code|state)=([^&\s"]*)`).FindAllStringSubmatch(logged, -1) {
		if m[2] != "REDACTED" {
			t.Errorf("the request log holds a %s: %s", m[1], m[0])
		}
	}
}

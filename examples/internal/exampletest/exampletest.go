// Package exampletest runs an example app on a free port against its
// embedded WorkOS emulator and checks, over real HTTP, the routes every
// example serves: the public home page, /login, /callback, /logout, the
// gated /app page and the gated /api/me endpoint.
package exampletest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

// RunFunc is an example's run function: it serves the app until ctx ends,
// reading its environment through getenv, and sends its base URL to ready
// once it is listening.
type RunFunc func(ctx context.Context, getenv func(string) string, out io.Writer, ready chan<- string) error

// Start runs the app on a free loopback port with the given environment and
// returns its base URL. The app stops when the test ends.
func Start(t testing.TB, run RunFunc, env map[string]string) string {
	t.Helper()
	return StartOutput(t, run, env, io.Discard)
}

// StartOutput is [Start] with the app's output going to out, which must be
// safe for concurrent use.
func StartOutput(t testing.TB, run RunFunc, env map[string]string, out io.Writer) string {
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
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("the app did not start")
	}
	return ""
}

// Response is what a [Browser] request got back.
type Response struct {
	Status int
	// Location is the redirect target resolved against the request URL;
	// empty when there is none.
	Location string
	Header   http.Header
	Body     string
}

// Browser is an HTTP client with a cookie jar that follows no redirect, so
// that every hop is checked.
type Browser struct {
	t      testing.TB
	Client *http.Client
}

// NewBrowser returns a Browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t, &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Navigate sends a request as a same-origin browser navigation: a link
// followed (GET) or a form submitted (POST, when form is not nil).
func (b *Browser) Navigate(method, u string, form url.Values) Response {
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
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.Do(req)
}

// Fetch sends a GET as a page's script would: fetch() asking for JSON.
func (b *Browser) Fetch(u string) Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.Do(req)
}

// Do sends req with the Browser's cookies and reads the whole response.
func (b *Browser) Do(req *http.Request) Response {
	b.t.Helper()
	res, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	r := Response{Status: res.StatusCode, Header: res.Header, Body: string(data)}
	if loc := res.Header.Get("Location"); loc != "" {
		l, err := req.URL.Parse(loc)
		if err != nil {
			b.t.Fatalf("Location %q: %v", loc, err)
		}
		r.Location = l.String()
	}
	return r
}

var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

// SignIn follows loginURL (the app's /login with its query) through the
// emulator's sign-in page, chooses email there, and returns where the app's
// callback sends the browser. It checks every hop on the way.
func (b *Browser) SignIn(base, loginURL, email string) string {
	b.t.Helper()
	res := b.Navigate(http.MethodGet, loginURL, nil)
	if res.Status != http.StatusFound || !strings.Contains(res.Location, "/sso/authorize?") {
		b.t.Fatalf("%s: got %d to %q, want 302 to WorkOS's /sso/authorize", loginURL, res.Status, res.Location)
	}
	authURL := res.Location
	res = b.Navigate(http.MethodGet, authURL, nil)
	if res.Status != http.StatusOK || !strings.Contains(res.Body, email) {
		b.t.Fatalf("sign-in page: got %d, want 200 listing %s", res.Status, email)
	}
	m := requestField.FindStringSubmatch(res.Body)
	if m == nil {
		b.t.Fatal("sign-in page: got no request field, want one")
	}
	au, err := url.Parse(authURL)
	if err != nil {
		b.t.Fatal(err)
	}
	res = b.Navigate(http.MethodPost, au.Scheme+"://"+au.Host+"/sso/authorize/complete", url.Values{"request": {m[1]}, "email": {email}})
	if res.Status != http.StatusFound || !strings.HasPrefix(res.Location, base+"/callback?") {
		b.t.Fatalf("choosing %s: got %d to %q, want 302 to %s/callback", email, res.Status, res.Location, base)
	}
	res = b.Navigate(http.MethodGet, res.Location, nil)
	if res.Status != http.StatusSeeOther {
		b.t.Fatalf("callback: got %d to %q, want 303", res.Status, res.Location)
	}
	return res.Location
}

// TestRoutes checks the routes every example serves against the app that
// run starts: what a signed-out visitor gets, a whole sign-in from a deep
// link to /app, the profile on /app and /api/me, and sign-out.
func TestRoutes(t *testing.T, run RunFunc) {
	t.Run("signed out", func(t *testing.T) {
		base := Start(t, run, nil)
		b := NewBrowser(t)

		home := b.Navigate(http.MethodGet, base+"/", nil)
		if home.Status != http.StatusOK || !strings.Contains(home.Body, `href="/login?organization=org_acme&amp;return_to=/app"`) {
			t.Errorf("/: got %d, want 200 with the sign-in links", home.Status)
		}

		app := b.Navigate(http.MethodGet, base+"/app", nil)
		if want := base + "/login?return_to=%2Fapp"; app.Status != http.StatusFound || app.Location != want {
			t.Errorf("/app: got %d to %q, want 302 to %q", app.Status, app.Location, want)
		}
		checkPrivate(t, "/app", app)

		me := b.Fetch(base + "/api/me")
		if me.Status != http.StatusUnauthorized {
			t.Errorf("/api/me: got %d, want 401", me.Status)
		}
		if ct := me.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("/api/me Content-Type: got %q, want application/json", ct)
		}
		if !strings.HasPrefix(me.Header.Get("WWW-Authenticate"), "SSO ") {
			t.Errorf("/api/me WWW-Authenticate: got %q, want an SSO challenge", me.Header.Get("WWW-Authenticate"))
		}
		var body struct {
			Error    string `json:"error"`
			LoginURL string `json:"login_url"`
		}
		if err := json.Unmarshal([]byte(me.Body), &body); err != nil {
			t.Errorf("/api/me body %q: %v", me.Body, err)
		}
		if body.Error != "unauthorized" || body.LoginURL != "/login?return_to=%2Fapi%2Fme" {
			t.Errorf("/api/me body: got %+v, want error unauthorized and login_url /login?return_to=%%2Fapi%%2Fme", body)
		}
		checkPrivate(t, "/api/me", me)

		if res := b.Navigate(http.MethodGet, base+"/nowhere", nil); res.Status != http.StatusNotFound {
			t.Errorf("/nowhere: got %d, want 404", res.Status)
		}
	})

	t.Run("sign in, use the app, sign out", func(t *testing.T) {
		base := Start(t, run, nil)
		b := NewBrowser(t)

		deepLink := b.Navigate(http.MethodGet, base+"/app", nil)
		if deepLink.Status != http.StatusFound {
			t.Fatalf("/app: got %d, want 302 to the login", deepLink.Status)
		}
		// The app's links name the organization; the deep link's return_to
		// comes along.
		loginURL := deepLink.Location + "&organization=org_acme"
		if landing := b.SignIn(base, loginURL, "alice@acme.com"); landing != base+"/app" {
			t.Fatalf("after sign-in: got sent to %q, want %s/app", landing, base)
		}

		app := b.Navigate(http.MethodGet, base+"/app", nil)
		if app.Status != http.StatusOK || !strings.Contains(app.Body, "Signed in as alice@acme.com") || !strings.Contains(app.Body, "org_acme") {
			t.Fatalf("/app: got %d %q, want 200 with alice's profile", app.Status, app.Body)
		}
		checkPrivate(t, "/app", app)

		me := b.Fetch(base + "/api/me")
		if me.Status != http.StatusOK || !strings.HasPrefix(me.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("/api/me: got %d (%s) %q, want 200 JSON", me.Status, me.Header.Get("Content-Type"), me.Body)
		}
		checkPrivate(t, "/api/me", me)
		var profile map[string]any
		if err := json.Unmarshal([]byte(me.Body), &profile); err != nil {
			t.Fatalf("/api/me body %q: %v", me.Body, err)
		}
		for k, want := range map[string]string{
			"email": "alice@acme.com", "organization_id": "org_acme", "connection_id": "conn_acme_okta",
			"connection_type": "OktaSAML", "first_name": "Alice", "last_name": "Anderson",
		} {
			if profile[k] != want {
				t.Errorf("/api/me %s: got %v, want %q", k, profile[k], want)
			}
		}
		if id, _ := profile["id"].(string); !strings.HasPrefix(id, "prof_") {
			t.Errorf("/api/me id: got %v, want a prof_ id", profile["id"])
		}

		// Another site cannot sign the user out: it gets the confirmation
		// page, whose button is a step of this site's.
		req, err := http.NewRequest(http.MethodPost, base+"/logout", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if res := b.Do(req); res.Status != http.StatusOK || !strings.Contains(res.Body, "Sign out?") {
			t.Errorf("cross-site logout: got %d, want 200 and the confirmation page", res.Status)
		}
		if res := b.Fetch(base + "/api/me"); res.Status != http.StatusOK {
			t.Errorf("/api/me after a cross-site logout: got %d, want 200", res.Status)
		}

		if res := b.Navigate(http.MethodPost, base+"/logout", url.Values{}); res.Status != http.StatusSeeOther || res.Location != base+"/" {
			t.Errorf("logout: got %d to %q, want 303 to %s/", res.Status, res.Location, base)
		}
		if res := b.Navigate(http.MethodGet, base+"/app", nil); res.Status != http.StatusFound {
			t.Errorf("/app after logout: got %d, want 302", res.Status)
		}
		if res := b.Fetch(base + "/api/me"); res.Status != http.StatusUnauthorized {
			t.Errorf("/api/me after logout: got %d, want 401", res.Status)
		}
	})

	t.Run("email routing and webhooks", func(t *testing.T) {
		const secret = "whsec_example_test"
		base := Start(t, run, map[string]string{"WORKOS_WEBHOOK_SECRET": secret})
		b := NewBrowser(t)

		// The home page's email form: a GET to /login?email=...
		res := b.Navigate(http.MethodGet, base+"/login?return_to=%2Fapp&email=alice%40acme.com", nil)
		auth, _ := url.Parse(res.Location)
		if res.Status != http.StatusFound || auth == nil || auth.Query().Get("connection") != "conn_acme_okta" || auth.Query().Get("login_hint") != "alice@acme.com" {
			t.Errorf("/login?email=alice@acme.com: got %d to %q, want 302 to Acme's connection with the login hint", res.Status, res.Location)
		}
		for _, tc := range []struct {
			query  string
			status int
			text   string
		}{
			{"email=peter%40initech.com", http.StatusNotFound, "not set up"},
			{"email=jane%40unknown.example", http.StatusNotFound, "not set up"},
			{"email=not-an-email", http.StatusBadRequest, "valid work email"},
			{"", http.StatusOK, `name="email"`},
		} {
			res := b.Navigate(http.MethodGet, base+"/login?"+tc.query, nil)
			if res.Status != tc.status || !strings.Contains(res.Body, tc.text) {
				t.Errorf("/login?%s: got %d, want %d with %q", tc.query, res.Status, tc.status, tc.text)
			}
		}

		post := func(sig, body string) int {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, base+"/webhooks/workos", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if sig != "" {
				req.Header.Set("WorkOS-Signature", sig)
			}
			return b.Do(req).Status
		}
		deleted := `{"object":"event","id":"event_test","event":"connection.deleted","data":{"object":"connection",` +
			`"id":"conn_acme_okta","organization_id":"org_acme","connection_type":"OktaSAML","state":"deleting"},"created_at":"` +
			time.Now().UTC().Format(time.RFC3339Nano) + `"}`
		if got := post("", deleted); got != http.StatusBadRequest {
			t.Errorf("unsigned webhook: got %d, want 400", got)
		}
		if got := post(workostest.SignWebhook("whsec_wrong", time.Now(), []byte(deleted)), deleted); got != http.StatusUnauthorized {
			t.Errorf("webhook signed with another secret: got %d, want 401", got)
		}
		if got := post(workostest.SignWebhook(secret, time.Now(), []byte(deleted)), deleted); got != http.StatusOK {
			t.Errorf("signed connection.deleted: got %d, want 200", got)
		}
		// The deletion takes Acme's connection out of routing at once.
		res = b.Navigate(http.MethodGet, base+"/login?organization=org_acme", nil)
		if res.Status != http.StatusNotFound || !strings.Contains(res.Body, "not set up") {
			t.Errorf("/login?organization=org_acme after its connection's deletion: got %d, want 404 not set up", res.Status)
		}
	})

	t.Run("emulator mode output", func(t *testing.T) {
		var out SyncBuffer
		base := StartOutput(t, run, nil, &out)
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
	})

	t.Run("readiness probe", func(t *testing.T) {
		base := Start(t, run, nil)
		if res := NewBrowser(t).Fetch(base + "/readyz"); res.Status != http.StatusOK {
			t.Errorf("/readyz: got %d, want 200", res.Status)
		}
	})

	t.Run("admin area for the admin role only", func(t *testing.T) {
		base := Start(t, run, nil)
		alice, bob := NewBrowser(t), NewBrowser(t)
		alice.SignIn(base, base+"/login?organization=org_acme", "alice@acme.com")
		bob.SignIn(base, base+"/login?organization=org_acme", "bob@acme.com")

		if res := alice.Navigate(http.MethodGet, base+"/admin", nil); res.Status != http.StatusOK || !strings.Contains(res.Body, "Admin area") {
			t.Errorf("alice (admin) /admin: got %d, want 200 with the admin area", res.Status)
		}
		res := bob.Navigate(http.MethodGet, base+"/admin", nil)
		if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "bob@acme.com") || !strings.Contains(res.Body, `action="/logout"`) {
			t.Errorf("bob (member) /admin: got %d %q, want 403 naming bob with a sign-out button", res.Status, res.Body)
		}
		checkPrivate(t, "/admin", res)
		if res := bob.Fetch(base + "/admin"); res.Status != http.StatusForbidden || !strings.Contains(res.Body, `"error":"forbidden"`) {
			t.Errorf("bob's fetch of /admin: got %d %q, want 403 JSON", res.Status, res.Body)
		}
		if res := NewBrowser(t).Navigate(http.MethodGet, base+"/admin", nil); res.Status != http.StatusFound {
			t.Errorf("signed out /admin: got %d, want 302 to sign in", res.Status)
		}

		// The sign-in health page: Acme's two sign-ins, and Initech's
		// inactive connection that someone tried.
		NewBrowser(t).Navigate(http.MethodGet, base+"/login?email=peter@initech.com", nil)
		health := alice.Navigate(http.MethodGet, base+"/admin/sso", nil)
		if health.Status != http.StatusOK || !strings.Contains(health.Body, "conn_acme_okta") ||
			!strings.Contains(health.Body, "inactive_connection") || !strings.Contains(health.Body, "This replica") {
			t.Errorf("alice /admin/sso: got %d %q, want the health of Acme's and Initech's connections", health.Status, health.Body)
		}
		checkPrivate(t, "/admin/sso", health)
		req, _ := http.NewRequest(http.MethodGet, base+"/admin/sso?format=json", nil)
		type row struct {
			ConnectionID string `json:"connection_id"`
			SignIns      int    `json:"sign_ins_last_hour"`
		}
		var report struct {
			Scope       string `json:"scope"`
			Connections []row  `json:"connections"`
		}
		if res := alice.Do(req); res.Status != http.StatusOK || json.Unmarshal([]byte(res.Body), &report) != nil || report.Scope != "replica" {
			t.Errorf("alice /admin/sso?format=json: got %d %q", res.Status, res.Body)
		}
		if !slices.Contains(report.Connections, row{"conn_acme_okta", 2}) {
			t.Errorf("the JSON health has no row of Acme's two sign-ins: %+v", report)
		}
		if res := bob.Navigate(http.MethodGet, base+"/admin/sso", nil); res.Status != http.StatusForbidden {
			t.Errorf("bob (member) /admin/sso: got %d, want 403", res.Status)
		}

		// Setting up SSO: alice reaches the Admin Portal of Acme (the
		// embedded emulator's); bob does not, nor a page of another site.
		setup := alice.Navigate(http.MethodGet, base+"/admin/sso/setup", nil)
		if setup.Status != http.StatusFound || !strings.Contains(setup.Header.Get("Location"), "/portal?token=") || setup.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("alice /admin/sso/setup: got %d to %q, want 302 to the Admin Portal, no-store", setup.Status, setup.Header.Get("Location"))
		} else if portal := alice.Navigate(http.MethodGet, setup.Header.Get("Location"), nil); portal.Status != http.StatusOK || !strings.Contains(portal.Body, "Acme") {
			t.Errorf("the Admin Portal: got %d %q, want Acme's", portal.Status, portal.Body)
		}
		if res := bob.Navigate(http.MethodGet, base+"/admin/sso/setup", nil); res.Status != http.StatusForbidden {
			t.Errorf("bob (member) /admin/sso/setup: got %d, want 403", res.Status)
		}
		req, _ = http.NewRequest(http.MethodGet, base+"/admin/sso/setup", nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		if res := alice.Do(req); res.Status != http.StatusForbidden {
			t.Errorf("alice /admin/sso/setup from another site: got %d, want 403", res.Status)
		}
	})

	t.Run("step-up for the security settings", func(t *testing.T) {
		base := Start(t, run, nil)
		alice := NewBrowser(t)
		alice.SignIn(base, base+"/login?organization=org_acme&return_to=%2Fapp", "alice@acme.com")
		if res := alice.Navigate(http.MethodGet, base+"/app", nil); !strings.Contains(res.Body, `href="/account/security"`) {
			t.Errorf("/app does not link to /account/security:\n%s", res.Body)
		}
		// A sign-in that did not ask the identity provider to
		// authenticate anew does not open it.
		res := alice.Navigate(http.MethodGet, base+"/account/security", nil)
		want := base + "/login?connection=conn_acme_okta&prompt=login&return_to=%2Faccount%2Fsecurity"
		if res.Status != http.StatusFound || res.Location != want {
			t.Fatalf("/account/security after a plain sign-in: got %d to %q, want 302 to %s", res.Status, res.Location, want)
		}
		if res := alice.Fetch(base + "/account/security"); res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, `"error":"recent_login_required"`) {
			t.Errorf("fetch of /account/security: got %d %q, want 401 recent_login_required", res.Status, res.Body)
		}
		if got := alice.SignIn(base, want, "alice@acme.com"); got != base+"/account/security" {
			t.Fatalf("step-up sign-in returned to %q, want /account/security", got)
		}
		res = alice.Navigate(http.MethodGet, base+"/account/security", nil)
		if res.Status != http.StatusOK || !strings.Contains(res.Body, "Security settings") || !strings.Contains(res.Body, `id="authenticated-at"`) {
			t.Errorf("/account/security after prompt=login: got %d %q, want 200", res.Status, res.Body)
		}
		checkPrivate(t, "/account/security", res)
	})

	t.Run("a real API key needs a cookie password", func(t *testing.T) {
		for _, password := range []string{"", "short"} {
			env := map[string]string{
				"ADDR": "127.0.0.1:0", "WORKOS_API_KEY": "sk_test_x", "WORKOS_CLIENT_ID": "client_x", "ADMIN_ORGANIZATION": "org_x",
				"WORKOS_COOKIE_PASSWORD": password,
			}
			err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), "WORKOS_COOKIE_PASSWORD") {
				t.Errorf("password %q: got %v, want a refusal naming WORKOS_COOKIE_PASSWORD", password, err)
			}
		}
	})
}

// SyncBuffer collects the output of an app's goroutines, for
// [StartOutput].
type SyncBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkPrivate checks that a gated route's response, whatever it is, keeps
// caches from storing it or serving it to another user.
func checkPrivate(t *testing.T, route string, res Response) {
	t.Helper()
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s Cache-Control: got %q, want no-store", route, got)
	}
	if got := res.Header.Values("Vary"); !slices.Contains(got, "Cookie") {
		t.Errorf("%s Vary: got %q, want Cookie among them", route, got)
	}
}

// TestReplicas runs the app twice, as two replicas with one cookie password
// and one Redis at redisURL, and checks that they act as one app: a session
// made on one is accepted on the other, and signing out on one ends a copy
// of the cookie on the other.
func TestReplicas(t *testing.T, run RunFunc, redisURL string) {
	env := map[string]string{
		"WORKOS_COOKIE_PASSWORD": "replicas-share-this-password-of-32-bytes",
		"REDIS_URL":              redisURL,
	}
	out := &SyncBuffer{}
	one := StartOutput(t, run, env, out)
	two := StartOutput(t, run, env, out)
	// A replica serves sessions once it has read the revocations in force
	// (on a Redis it finds empty, after a few seconds' grace for others to
	// write back): wait as a load balancer would.
	for _, base := range []string{one, two} {
		start := time.Now()
		for NewBrowser(t).Fetch(base+"/readyz").Status != http.StatusOK {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("%s/readyz: not ready after 30 s", base)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if n := strings.Count(out.String(), "Sharing sign-outs, revocations and connection events through REDIS_URL"); n != 2 {
		t.Errorf("got %d replicas saying they share through Redis, want 2", n)
	}

	// Cookies go by host, not port: both replicas get the browser's, as
	// behind a load balancer.
	b := NewBrowser(t)
	b.SignIn(one, one+"/login?organization=org_acme", "alice@acme.com")
	thief := NewBrowser(t)
	u, _ := url.Parse(one)
	thief.Client.Jar.SetCookies(u, b.Client.Jar.Cookies(u))
	for _, base := range []string{one, two} {
		if me := thief.Fetch(base + "/api/me"); me.Status != http.StatusOK || !strings.Contains(me.Body, "alice@acme.com") {
			t.Fatalf("%s/api/me with the copied cookie: got %d, want 200 for alice", base, me.Status)
		}
	}

	if res := b.Navigate(http.MethodPost, one+"/logout", url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("sign-out: got %d, want 303", res.Status)
	}
	// Wait for the sign-out to reach the other replica; the bound only
	// keeps a broken test from hanging.
	start := time.Now()
	for thief.Fetch(two+"/api/me").Status != http.StatusUnauthorized {
		if time.Since(start) > 10*time.Second {
			t.Fatal("the other replica still accepts the copied cookie after the sign-out")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("the other replica refused the copied cookie %v after the sign-out", time.Since(start).Round(time.Millisecond))
	if strings.Contains(out.String(), redisURL) {
		t.Error("the Redis URL reached the output")
	}

	// Offboarding, as the README shows it: bob, deactivated in the first
	// replica's emulator by the command it printed, is signed out on both
	// replicas; alice is not.
	alice, bob := NewBrowser(t), NewBrowser(t)
	alice.SignIn(one, one+"/login?organization=org_acme", "alice@acme.com")
	bob.SignIn(one, one+"/login?organization=org_acme", "bob@acme.com")
	for _, base := range []string{one, two} {
		if me := bob.Fetch(base + "/api/me"); me.Status != http.StatusOK {
			t.Fatalf("%s/api/me for bob before his offboarding: got %d, want 200", base, me.Status)
		}
	}
	offboard(t, out.String())
	start = time.Now()
	for _, base := range []string{one, two} {
		for bob.Fetch(base+"/api/me").Status != http.StatusUnauthorized {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s still accepts bob after his offboarding", base)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if me := alice.Fetch(base + "/api/me"); me.Status != http.StatusOK {
			t.Errorf("%s/api/me for alice after bob's offboarding: got %d, want 200", base, me.Status)
		}
	}
	t.Logf("both replicas refused bob %v after his offboarding", time.Since(start).Round(time.Millisecond))

	t.Run("REDIS_URL needs a shared cookie password", func(t *testing.T) {
		env := map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": redisURL}
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "WORKOS_COOKIE_PASSWORD") {
			t.Errorf("got %v, want a refusal naming WORKOS_COOKIE_PASSWORD", err)
		}
	})
	t.Run("a malformed REDIS_URL", func(t *testing.T) {
		env := map[string]string{"ADDR": "127.0.0.1:0", "REDIS_URL": "http://user:hunter2@x", "WORKOS_COOKIE_PASSWORD": env["WORKOS_COOKIE_PASSWORD"]}
		err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "REDIS_URL") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("got %v, want a refusal naming REDIS_URL without the password", err)
		}
	})
}

// offboard runs the first offboarding command in an app's output, as the
// README tells a reader to: curl -X PATCH -H 'Authorization: Bearer KEY'
// -d 'BODY' URL.
func offboard(t *testing.T, output string) {
	t.Helper()
	var line string
	for l := range strings.Lines(output) {
		if strings.Contains(l, "curl -X PATCH") {
			line = strings.TrimSpace(l)
			break
		}
	}
	parts := strings.Split(line, "'")
	if len(parts) != 5 || !strings.HasPrefix(parts[1], "Authorization: Bearer ") {
		t.Fatalf("no offboarding command in the output:\n%s", output)
	}
	req, err := http.NewRequest(http.MethodPatch, strings.TrimSpace(parts[4]), strings.NewReader(parts[3]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", strings.TrimPrefix(parts[1], "Authorization: "))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("%s: got %d, want 204", line, res.StatusCode)
	}
}

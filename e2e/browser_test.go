package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// TestBrowser signs in to examples/basic in real headless Chromium (Debian's
// chromium package), driven over the DevTools protocol: it does what a user
// does and checks what the browser makes of the cookies, redirects and forms.

const (
	// stepTimeout bounds each wait on the browser: a page to load, an
	// element to appear, a script to answer. A slow shared machine takes
	// seconds; a hung browser fails the step rather than stalling the run.
	stepTimeout = 30 * time.Second
	// browserTimeout bounds the browser's whole life, including opening
	// tabs, which cannot have a shorter deadline of their own: the first
	// action in a tab binds the tab to its context.
	browserTimeout = 3 * time.Minute

	// The cookies of examples/basic, served over http: the default names
	// without the __Host- and __Secure- prefixes, which need https.
	sessionCookie     = "ssogate"
	stateCookiePrefix = "ssogate_state_"

	// The home page's link to sign in through Acme's Okta SAML connection.
	acmeSignIn = `a[href="/login?organization=org_acme&return_to=/app"]`
	// Any user's button on the emulator's hosted sign-in page.
	emulatorUser = `form[action="/sso/authorize/complete"] button.user`
)

// startBrowser starts headless Chromium and returns the context of its
// first tab; chromedp.NewContext on it opens more tabs. The browser stops
// when the test ends. Without Chromium the test skips, or fails under
// CI=true (see unavailable).
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		unavailable(t, "chromium not found: install Debian's chromium package (apt-get install chromium)")
	}
	out := &lockedBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Chromium reaches out to Google at start-up (component updates,
		// sync, field trials, QUIC probes). On a machine without outbound
		// network those connections are refused or hang and the browser
		// stalls, so none are made.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(out),
		// No UserDataDir: chromedp gives every browser a fresh, empty
		// profile directory and removes it once the browser has exited.
	)
	deadline, cancelDeadline := context.WithTimeout(t.Context(), browserTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelDeadline()
		if t.Failed() {
			t.Logf("output of chromium (the end):\n%s", tail(out.String(), 8<<10))
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v\n%s", path, err, tail(out.String(), 8<<10))
	}
	return ctx
}

// tail returns the last n bytes of s, from a line start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// tab is one browser tab on examples/basic.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the app's base URL
}

// newTab opens a tab on parent's browser. With chromedp.WithNewBrowserContext
// it gets a cookie jar of its own, like a fresh private window; without, it
// shares parent's, like a second tab of one window.
func newTab(t *testing.T, parent context.Context, base string, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return &tab{t: t, ctx: ctx, base: base}
}

// do runs actions in the tab, all within stepTimeout.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (the tab shows %s)", what, err, b.where())
	}
}

// get runs an action that returns a value in the tab, within stepTimeout.
func get[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v (the tab shows %s)", what, err, b.where())
	}
	return v
}

// where describes the page the tab shows, for a failure message.
func (b *tab) where() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "an unknown page (" + err.Error() + ")"
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "an unparsable location"
	}
	return redacted(u)
}

// redacted returns u with the values of its code and state parameters
// replaced, so that no authorization code or state reaches a test log.
func redacted(u *url.URL) string {
	q := u.Query()
	for _, k := range []string{"code", "state"} {
		if q.Has(k) {
			q.Set(k, "REDACTED")
		}
	}
	r := *u
	r.RawQuery = q.Encode()
	return r.String()
}

// location returns the URL of the page the tab shows.
func (b *tab) location() *url.URL {
	b.t.Helper()
	loc := get(b, "reading the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal("the tab's location is not a URL")
	}
	return u
}

// wantLocation checks that the tab shows the app's path (with its query).
func (b *tab) wantLocation(path string) {
	b.t.Helper()
	if got, want := b.location(), b.base+path; got.String() != want {
		b.t.Fatalf("location: got %s, want %s", redacted(got), want)
	}
}

// startAcmeSignIn opens the home page and follows its Acme sign-in link to
// the emulator's hosted sign-in page.
func (b *tab) startAcmeSignIn() {
	b.t.Helper()
	b.do("opening the home page", chromedp.Navigate(b.base+"/"), chromedp.WaitVisible(chromedp.CSS(acmeSignIn)))
	if got := get(b, "reading the sign-in link", chromedp.Text(chromedp.CSS(acmeSignIn))); got != "Sign in with Acme (Okta SAML)" {
		b.t.Fatalf("Acme sign-in link: got %q, want %q", got, "Sign in with Acme (Okta SAML)")
	}
	b.do("following the Acme sign-in link", chromedp.Click(chromedp.CSS(acmeSignIn)), chromedp.WaitVisible(chromedp.CSS(emulatorUser)))
	loc := b.location()
	app, _ := url.Parse(b.base)
	if loc.Host == app.Host || loc.Path != "/sso/authorize" {
		b.t.Fatalf("sign-in page: got %s, want the emulator's /sso/authorize", redacted(loc))
	}
}

// chooseUser picks email on the emulator's sign-in page the tab shows, and
// checks that the browser lands on the app's path showing that user.
func (b *tab) chooseUser(email, path string) {
	b.t.Helper()
	button := chromedp.CSS(emulatorUser + `[value="` + email + `"]`)
	b.do("waiting for "+email+" on the sign-in page", chromedp.WaitVisible(button))
	if got := get(b, "reading the button of "+email, chromedp.Text(button)); !strings.Contains(got, email) {
		b.t.Fatalf("sign-in button: got %q, want text with %s", got, email)
	}
	b.do("signing in as "+email, chromedp.Click(button), chromedp.WaitVisible(chromedp.ID("email")))
	b.wantLocation(path)
	if got := get(b, "reading the profile's email", chromedp.Text(chromedp.ID("email"))); got != email {
		b.t.Fatalf("signed-in email: got %q, want %q", got, email)
	}
}

// profile returns the rows of the profile that /app shows, by heading.
func (b *tab) profile() map[string]string {
	b.t.Helper()
	return get(b, "reading the profile", chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll("dt")].map(dt => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]))`))
}

// fetched is what fetch() in the page got.
type fetched struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// fetch requests path with fetch() from the page the tab shows, as the
// page's own scripts would: with its cookies, not as a navigation.
func (b *tab) fetch(path string) fetched {
	b.t.Helper()
	lit, _ := json.Marshal(path)
	return get(b, "fetch "+path, chromedp.Evaluate[fetched](
		`fetch(`+string(lit)+`).then(async r => ({status: r.status, body: await r.text()}))`,
		chromedp.EvalAwaitPromise))
}

// cookies returns the cookies the browser holds for the app's paths, as
// the DevTools protocol sees them: HttpOnly ones too.
func (b *tab) cookies(paths ...string) []*network.Cookie {
	b.t.Helper()
	var urls []string
	for _, p := range paths {
		urls = append(urls, b.base+p)
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: urls})
	if err != nil {
		b.t.Fatalf("reading cookies: %v", err)
	}
	return res.Cookies
}

func findCookie(cookies []*network.Cookie, name string) *network.Cookie {
	for _, c := range cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// stateCookies returns the per-flow login state cookies among cookies.
func stateCookies(cookies []*network.Cookie) []*network.Cookie {
	var states []*network.Cookie
	for _, c := range cookies {
		if strings.HasPrefix(c.Name, stateCookiePrefix) {
			states = append(states, c)
		}
	}
	return states
}

// cookieFlags describes a cookie without its value, which never reaches
// a log.
func cookieFlags(c *network.Cookie) string {
	return "name=" + c.Name + " path=" + c.Path + " httpOnly=" + strconv.FormatBool(c.HTTPOnly) +
		" secure=" + strconv.FormatBool(c.Secure) + " sameSite=" + string(c.SameSite)
}

// documentCookieNames returns the names of the cookies that the page's
// scripts can read from document.cookie.
func (b *tab) documentCookieNames() []string {
	b.t.Helper()
	return get(b, "reading document.cookie", chromedp.Evaluate[[]string](
		`document.cookie === "" ? [] : document.cookie.split("; ").map(c => c.split("=")[0])`))
}

// saveScreenshot writes a PNG of the tab's viewport to artifacts/name and
// checks that it is one.
func (b *tab) saveScreenshot(name string) {
	b.t.Helper()
	img := get(b, "taking a screenshot", chromedp.CaptureScreenshot())
	if err := os.MkdirAll("artifacts", 0o755); err != nil {
		b.t.Fatal(err)
	}
	file := filepath.Join("artifacts", name)
	if err := os.WriteFile(file, img, 0o644); err != nil {
		b.t.Fatal(err)
	}
	saved, err := os.ReadFile(file)
	if err != nil {
		b.t.Fatal(err)
	}
	if !bytes.HasPrefix(saved, []byte("\x89PNG\r\n\x1a\n")) {
		b.t.Fatalf("%s: got %d bytes without the PNG signature, want a PNG", file, len(saved))
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(saved))
	if err != nil {
		b.t.Fatalf("%s: %v", file, err)
	}
	if cfg.Width == 0 || cfg.Height == 0 {
		b.t.Fatalf("%s: got a %dx%d image, want a non-empty one", file, cfg.Width, cfg.Height)
	}
	abs, _ := filepath.Abs(file)
	b.t.Logf("screenshot of the signed-in page: %s (%dx%d)", abs, cfg.Width, cfg.Height)
}

func TestBrowser(t *testing.T) {
	// The browser first, so that a machine without one skips at once.
	browser := startBrowser(t)
	base, emulator := startBasic(t)

	t.Run("sign in, reload and sign out", func(t *testing.T) { testSignInAndOut(t, browser, base) })
	t.Run("two tabs sign in at once", func(t *testing.T) { testTwoTabs(t, browser, base) })
	t.Run("deep link returns after sign-in", func(t *testing.T) { testDeepLink(t, browser, base) })
	t.Run("pages lead somewhere", func(t *testing.T) { testPagesLeadSomewhere(t, browser, base) })
	t.Run("step-up for the security settings", func(t *testing.T) { testStepUp(t, browser, base) })
	t.Run("sign-in health for the support desk", func(t *testing.T) { testSignInHealth(t, browser, base) })
	t.Run("onboarding a customer", func(t *testing.T) { testOnboarding(t, browser, base, emulator) })
}

func testSignInAndOut(t *testing.T, browser context.Context, base string) {
	b := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	b.startAcmeSignIn()
	b.chooseUser(workostest.AliceEmail, "/app")

	got := b.profile()
	for _, row := range []struct{ name, want string }{
		{"Name", "Alice Anderson"},
		{"Email", workostest.AliceEmail},
		{"Organization", workostest.AcmeOrganizationID},
		{"Connection", workostest.AcmeConnectionID + " (OktaSAML)"},
		{"Role", "admin"},
	} {
		if got[row.name] != row.want {
			t.Errorf("profile %s: got %q, want %q", row.name, got[row.name], row.want)
		}
	}
	b.saveScreenshot("signed-in.png")

	// The session cookie is in the browser, HttpOnly and SameSite=Lax,
	// and no login state outlives the sign-in.
	cookies := b.cookies("/", "/callback")
	c := findCookie(cookies, sessionCookie)
	if c == nil {
		t.Fatalf("after sign-in the browser holds no %s cookie", sessionCookie)
	}
	if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Value == "" {
		t.Errorf("session cookie: got %s (value empty: %v), want httpOnly=true sameSite=Lax path=/ and a value", cookieFlags(c), c.Value == "")
	}
	for _, c := range cookies {
		if strings.HasPrefix(c.Name, stateCookiePrefix) {
			t.Errorf("after sign-in the browser still holds %s", cookieFlags(c))
		}
	}
	// The page's scripts cannot read it. A cookie the page sets itself
	// shows that document.cookie works here.
	b.do("setting a script cookie", chromedp.Evaluate[chromedp.Void](`document.cookie = "script_probe=1; path=/; SameSite=Lax"`))
	names := b.documentCookieNames()
	if !slices.Contains(names, "script_probe") {
		t.Errorf("document.cookie names: got %q, want script_probe among them", names)
	}
	if slices.Contains(names, sessionCookie) {
		t.Errorf("document.cookie names: got %q, want no %s (it must be HttpOnly)", names, sessionCookie)
	}
	b.do("removing the script cookie", chromedp.Evaluate[chromedp.Void](`document.cookie = "script_probe=; path=/; max-age=0"`))

	// The page's own scripts are signed in too.
	if r := b.fetch("/api/me"); r.Status != 200 || !strings.Contains(r.Body, `"email":"`+workostest.AliceEmail+`"`) {
		t.Errorf("fetch /api/me signed in: got %d %s, want 200 with Alice's profile", r.Status, r.Body)
	}

	// A reload is a new document on the same session.
	b.do("marking the document", chromedp.Evaluate[chromedp.Void](`window.beforeReload = true`))
	b.do("reloading /app", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("email")))
	b.wantLocation("/app")
	if get(b, "reading the mark", chromedp.Evaluate[bool](`window.beforeReload === true`)) {
		t.Fatal("the page was not reloaded")
	}
	if got := get(b, "reading the email", chromedp.Text(chromedp.ID("email"))); got != workostest.AliceEmail {
		t.Errorf("email after reload: got %q, want %q", got, workostest.AliceEmail)
	}

	// Sign out with the button: back home, and the cookie is gone.
	b.do("signing out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.CSS(acmeSignIn)))
	b.wantLocation("/")
	if c := findCookie(b.cookies("/"), sessionCookie); c != nil {
		t.Errorf("after sign-out the browser still holds %s", cookieFlags(c))
	}
	r := b.fetch("/api/me")
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); r.Status != 401 || err != nil || body.Error != "unauthorized" {
		t.Errorf("fetch /api/me signed out: got %d %s, want 401 with error unauthorized", r.Status, r.Body)
	}
	b.do("opening /app signed out", chromedp.Navigate(base+"/app"))
	if loc := b.location(); loc.Path != "/login" || loc.Query().Get("return_to") != "/app" {
		t.Errorf("/app signed out: got %s, want /login with return_to=/app", redacted(loc))
	}
}

func testTwoTabs(t *testing.T, browser context.Context, base string) {
	a := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	b := newTab(t, a.ctx, base) // a second tab on a's cookies

	// Both logins are started before either finishes.
	a.startAcmeSignIn()
	b.startAcmeSignIn()
	states := stateCookies(a.cookies("/callback"))
	if len(states) != 2 || states[0].Name == states[1].Name {
		var got []string
		for _, c := range states {
			got = append(got, cookieFlags(c))
		}
		t.Fatalf("state cookies with two logins started: got %q, want two of their own", got)
	}
	for _, c := range states {
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
			t.Errorf("state cookie: got %s, want httpOnly=true sameSite=Lax path=/", cookieFlags(c))
		}
	}

	// The login started first finishes first: with a single state cookie
	// the second login would have overwritten it.
	a.chooseUser(workostest.AliceEmail, "/app")
	b.chooseUser(workostest.BobEmail, "/app")

	cookies := a.cookies("/", "/callback")
	if findCookie(cookies, sessionCookie) == nil {
		t.Errorf("after both sign-ins the browser holds no %s cookie", sessionCookie)
	}
	for _, c := range cookies {
		if strings.HasPrefix(c.Name, stateCookiePrefix) {
			t.Errorf("after both sign-ins the browser still holds %s", cookieFlags(c))
		}
	}
}

func testDeepLink(t *testing.T, browser context.Context, base string) {
	const deep = "/app?x=1&y=two"
	b := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	b.do("opening "+deep+" signed out", chromedp.Navigate(base+deep))
	loc := b.location()
	if loc.Path != "/login" || loc.Query().Get("return_to") != deep {
		t.Fatalf("%s signed out: got %s, want /login with return_to=%s", deep, redacted(loc), deep)
	}

	// /login, told nothing else, asks for the work email and routes by its
	// domain; return_to comes along in the form.
	b.do("entering the work email",
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), workostest.AliceEmail),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(emulatorUser)))
	b.chooseUser(workostest.AliceEmail, deep)
}

// testPagesLeadSomewhere follows the next steps that ssogate's own pages
// offer: another email when a domain has no SSO, home from the email form,
// from a 403 and from the sign-out confirmation.
func testPagesLeadSomewhere(t *testing.T, browser context.Context, base string) {
	b := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	b.do("opening a login for a domain without SSO",
		chromedp.Navigate(base+"/login?email=pat@unknown.example&return_to=%2Fapp"),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if got := get(b, "reading the page", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(got, "Single sign-on is not set up") {
		t.Fatalf("got %q, want the not-set-up page", got)
	}
	b.do("trying another email", chromedp.Click(chromedp.CSS(`main a:not(.secondary)`)), chromedp.WaitVisible(chromedp.ID("email")))
	b.wantLocation("/login?return_to=%2Fapp")
	// The field has its label and the focus, so typing goes straight in.
	if got := get(b, "reading the focus and the label", chromedp.Evaluate[string](
		`document.activeElement.id + "|" + document.querySelector('label[for="email"]').textContent`)); got != "email|Work email" {
		t.Errorf("focus and label: got %q, want the email field focused and labelled Work email", got)
	}
	b.do("going back home", chromedp.Click(chromedp.CSS(`main a.secondary`)), chromedp.WaitVisible(chromedp.CSS(acmeSignIn)))
	b.wantLocation("/")

	b.startAcmeSignIn()
	b.chooseUser(workostest.BobEmail, "/app")
	b.do("opening the admin area as a member", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if got := get(b, "reading the 403 page", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(got, "signed in as "+workostest.BobEmail) {
		t.Fatalf("got %q, want the no-access page naming bob", got)
	}
	b.do("going back home from the 403", chromedp.Click(chromedp.CSS(`main a.secondary`)), chromedp.WaitVisible(chromedp.CSS(acmeSignIn)))
	b.wantLocation("/")

	// Typed in the address bar, /logout is not a same-origin navigation:
	// it asks first, and staying signed in leads home.
	b.do("opening /logout from the address bar", chromedp.Navigate(base+"/logout"), chromedp.WaitVisible(chromedp.CSS(`main button`)))
	b.do("staying signed in", chromedp.Click(chromedp.CSS(`main a.secondary`)), chromedp.WaitVisible(chromedp.CSS(acmeSignIn)))
	b.wantLocation("/")
	b.do("opening the app", chromedp.Navigate(base+"/app"), chromedp.WaitVisible(chromedp.ID("email")))
}

// testStepUp follows /app's link to the security settings, which need a
// sign-in that asked the identity provider to authenticate anew: the
// plain sign-in does not count, so the browser goes through the emulator
// again, with prompt=login, and lands on the page.
func testStepUp(t *testing.T, browser context.Context, base string) {
	b := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	b.startAcmeSignIn()
	b.chooseUser(workostest.AliceEmail, "/app")
	b.do("following the security settings link",
		chromedp.Click(chromedp.CSS(`a[href="/account/security"]`)), chromedp.WaitVisible(chromedp.CSS(emulatorUser)))
	loc := b.location()
	if loc.Path != "/sso/authorize" || loc.Query().Get("prompt") != "login" || loc.Query().Get("connection") != workostest.AcmeConnectionID {
		t.Fatalf("step-up: got %s, want the emulator's /sso/authorize with prompt=login for Acme's connection", redacted(loc))
	}
	button := chromedp.CSS(emulatorUser + `[value="` + workostest.AliceEmail + `"]`)
	b.do("signing in again as alice", chromedp.Click(button), chromedp.WaitVisible(chromedp.ID("authenticated-at")))
	b.wantLocation("/account/security")
	if got := get(b, "reading the heading", chromedp.Text(chromedp.CSS("h1"))); got != "Security settings" {
		t.Errorf("heading: got %q, want Security settings", got)
	}
}

// testSignInHealth follows the admin area's link to the sign-in health
// page, which lists Acme's connection with the sign-in just made, styled
// under the page's Content-Security-Policy.
func testSignInHealth(t *testing.T, browser context.Context, base string) {
	b := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	b.startAcmeSignIn()
	b.chooseUser(workostest.AliceEmail, "/app")
	b.do("opening the admin area", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/sso"]`)))
	b.do("following the sign-in health link", chromedp.Click(chromedp.CSS(`a[href="/admin/sso"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
	b.wantLocation("/admin/sso")
	row := get(b, "reading Acme's row", chromedp.Text(chromedp.CSS("tbody tr")))
	if !strings.Contains(row, workostest.AcmeConnectionID) || !strings.Contains(row, "OktaSAML") {
		t.Errorf("first row: got %q, want Acme's connection", row)
	}
	if got := get(b, "reading the table's style", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("table")).borderCollapse`)); got != "collapse" {
		t.Errorf("table border-collapse: got %q, want collapse (the page's style applied)", got)
	}
}

// testOnboarding runs the README's onboarding of a new customer on the
// app's embedded emulator: the organization is made through the API and a
// portal link generated for it (as "ssogate organizations create" and
// "ssogate portal-link" do); its IT admin activates a connection in the
// portal; a user of the new domain signs in through it; and Acme's admin
// sees it on the sign-in health page, and reaches Acme's own portal from
// the admin area.
func testOnboarding(t *testing.T, browser context.Context, base, emulator string) {
	if emulator == "" {
		t.Fatal("examples/basic did not say where its emulator is")
	}
	client, err := workos.NewClient(workos.ClientConfig{APIKey: workostest.DefaultAPIKey, ClientID: workostest.DefaultClientID, BaseURL: emulator})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
	defer cancel()
	org, err := client.CreateOrganization(ctx, workos.OrganizationOptions{Name: "Hooli", DomainData: []workos.DomainData{{Domain: "hooli.example", State: workos.DomainPending}}})
	if err != nil {
		t.Fatal(err)
	}
	link, err := client.GeneratePortalLink(ctx, workos.PortalLinkOptions{Organization: org.ID, Intent: workos.PortalSSO})
	if err != nil {
		t.Fatal(err)
	}

	// The IT admin, in a browser of their own.
	admin := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	admin.do("opening the portal link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`select[name="provider"]`)))
	if got := get(admin, "reading the portal's heading", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(got, "Set up single sign-on") || !strings.Contains(got, "Hooli") {
		t.Fatalf("the portal: got %q", got)
	}
	admin.do("activating an Okta connection for hooli.example",
		chromedp.SetValue(chromedp.CSS(`select[name="provider"]`), "OktaSAML"),
		chromedp.SendKeys(chromedp.CSS(`input[name="domain"]`), "hooli.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "gavin@hooli.example"),
		chromedp.SendKeys(chromedp.CSS(`input[name="first_name"]`), "Gavin"),
		chromedp.SendKeys(chromedp.CSS(`input[name="last_name"]`), "Belson"),
		chromedp.Submit(chromedp.CSS(`input[name="domain"]`)),
		chromedp.WaitVisible(chromedp.ID("portal-done")))
	if got := get(admin, "reading the portal's answer", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(got, "Hooli is set up") {
		t.Fatalf("after activating: got %q", got)
	}
	// The link is spent.
	admin.do("opening the link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if got := get(admin, "reading the page", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(got, "already used") {
		t.Errorf("the link opened twice: got %q", got)
	}

	// Gavin signs in from the home page's email form, routed by his domain
	// to the new connection.
	gavin := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	gavin.do("entering Gavin's work email",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "gavin@hooli.example"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(emulatorUser)))
	gavin.chooseUser("gavin@hooli.example", "/app")
	if p := gavin.profile(); p["Organization"] != org.ID {
		t.Errorf("Gavin's profile: %v, want organization %s", p, org.ID)
	}

	// Acme's admin sees the new connection on the sign-in health page, and
	// reaches Acme's own portal from the admin area.
	alice := newTab(t, browser, base, chromedp.WithNewBrowserContext())
	alice.startAcmeSignIn()
	alice.chooseUser(workostest.AliceEmail, "/app")
	alice.do("opening the sign-in health page", chromedp.Navigate(base+"/admin/sso"), chromedp.WaitVisible(chromedp.CSS("table")))
	if got := get(alice, "reading the table", chromedp.Text(chromedp.CSS("tbody"))); !strings.Contains(got, org.ID) {
		t.Errorf("the health page: got %q, want the new connection", got)
	}
	alice.do("opening the admin area", chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/sso/setup"]`)))
	alice.do("following Set up SSO", chromedp.Click(chromedp.CSS(`a[href="/admin/sso/setup"]`)), chromedp.WaitVisible(chromedp.CSS(`select[name="provider"]`)))
	if got := get(alice, "reading the portal", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(got, "Acme") {
		t.Errorf("Acme's admin reached another portal: %q", got)
	}
}

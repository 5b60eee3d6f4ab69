package ssogate

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
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

var (
	flowSecret        = []byte("0123456789abcdef0123456789abcdef-test-secret")
	flowRotatedSecret = []byte("fedcba9876543210fedcba9876543210-new-secret")
)

// flow is an app served over real HTTP, gated by ssogate and signing in
// through a workostest emulator, with a browser-like client: a cookie jar
// and no automatic redirects, so that each hop is checked.
type flow struct {
	t     *testing.T
	idp   *workostest.Server
	app   *httptest.Server
	gate  *Middleware
	clock *testClock
	jar   *cookiejar.Jar
	c     *http.Client
	logs  *syncBuffer
}

type flowOption func(*Config)

func newFlow(t *testing.T, idpOpts []workostest.Option, opts ...flowOption) *flow {
	t.Helper()
	if idpOpts == nil {
		idpOpts = []workostest.Option{workostest.WithAutoSignIn(workostest.AliceEmail)}
	}
	idp := workostest.NewServer(idpOpts...)
	t.Cleanup(idp.Close)

	app := httptest.NewUnstartedServer(nil)
	app.Start()
	t.Cleanup(app.Close)
	f := &flow{t: t, idp: idp, app: app, clock: newTestClock(), logs: &syncBuffer{}}
	f.gate = f.newGate(opts...)
	app.Config.Handler = f.handler(f.gate)

	f.jar, _ = cookiejar.New(nil)
	f.c = &http.Client{
		Jar:           f.jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	return f
}

// newGate makes a Middleware for the flow's app and emulator.
func (f *flow) newGate(opts ...flowOption) *Middleware {
	f.t.Helper()
	client, err := workos.NewClient(workos.ClientConfig{
		APIKey:   f.idp.APIKey,
		ClientID: f.idp.ClientID,
		BaseURL:  f.idp.URL,
		Retry:    workos.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	cfg := Config{
		Provider:      client,
		RedirectURI:   f.app.URL + "/callback",
		CookieSecrets: [][]byte{flowSecret},
		Logger:        slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	g, err := newMiddleware(cfg, f.clock.Now)
	if err != nil {
		f.t.Fatal(err)
	}
	return g
}

// handler is the app under test: a public page, a gated page and a gated
// JSON endpoint.
func (f *flow) handler(g *Middleware) http.Handler {
	mux := http.NewServeMux()
	g.Mount(mux)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "public") })
	gated := g.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := ProfileFromContext(r.Context())
		if !ok {
			http.Error(w, "no profile", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "hello "+p.Email+" of "+p.OrganizationID)
	}))
	mux.Handle("/app", gated)
	mux.Handle("/app/", gated)
	mux.Handle("/api/me", gated)
	return mux
}

// resp is a response with its body read.
type resp struct {
	*http.Response
	body string
}

func (r resp) location(t *testing.T) *url.URL {
	t.Helper()
	loc := r.Header.Get("Location")
	if loc == "" {
		t.Fatalf("no Location header (status %d, body %q)", r.StatusCode, r.body)
	}
	u, err := r.Request.URL.Parse(loc)
	if err != nil {
		t.Fatalf("bad Location %q: %v", loc, err)
	}
	return u
}

// cookie returns the Set-Cookie of the response named name, or nil.
func (r resp) cookie(name string) *http.Cookie {
	for _, c := range r.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// stateCookies returns the response's Set-Cookie headers for state cookies.
func (r resp) stateCookies() []*http.Cookie {
	var out []*http.Cookie
	for _, c := range r.Cookies() {
		if strings.Contains(c.Name, "_state_") {
			out = append(out, c)
		}
	}
	return out
}

func (f *flow) do(req *http.Request) resp {
	f.t.Helper()
	res, err := f.c.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp{res, string(b)}
}

// get fetches a URL (absolute, or a path of the app) as a browser's
// top-level navigation would; kv are extra header name/value pairs.
func (f *flow) get(u string, kv ...string) resp {
	f.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = f.app.URL + u
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	for i := 0; i+1 < len(kv); i += 2 {
		req.Header.Set(kv[i], kv[i+1])
	}
	return f.do(req)
}

// startLogin GETs /login?query and checks the redirect to WorkOS. It
// returns the authorization URL.
func (f *flow) startLogin(query string) *url.URL {
	f.t.Helper()
	r := f.get("/login?" + query)
	if r.StatusCode != http.StatusFound {
		f.t.Fatalf("/login?%s: got status %d, want 302 (body %q)", query, r.StatusCode, r.body)
	}
	u := r.location(f.t)
	if got, want := u.Scheme+"://"+u.Host+u.Path, f.idp.URL+"/sso/authorize"; got != want {
		f.t.Fatalf("/login redirected to %s, want %s", got, want)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"client_id":             f.idp.ClientID,
		"redirect_uri":          f.app.URL + "/callback",
		"response_type":         "code",
		"code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			f.t.Errorf("authorization URL %s = %q, want %q", k, got, want)
		}
	}
	if s := q.Get("state"); len(s) < 43 {
		f.t.Errorf("state %q is shorter than 256 bits", s)
	}
	if c := q.Get("code_challenge"); len(c) != 43 {
		f.t.Errorf("code_challenge %q is not an S256 challenge", c)
	}
	set := 0
	for _, c := range r.stateCookies() {
		if c.MaxAge > 0 {
			set++
		}
	}
	if set != 1 {
		f.t.Errorf("/login set %d state cookies, want 1", set)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		f.t.Errorf("/login Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}
	return u
}

// authorize follows the authorization URL at the emulator (auto sign-in)
// and checks that it redirects to the callback with a code and the state.
func (f *flow) authorize(authURL *url.URL) *url.URL {
	f.t.Helper()
	r := f.get(authURL.String())
	if r.StatusCode != http.StatusFound {
		f.t.Fatalf("authorize: got status %d, want 302 (body %q)", r.StatusCode, r.body)
	}
	cb := r.location(f.t)
	if got, want := cb.Scheme+"://"+cb.Host+cb.Path, f.app.URL+"/callback"; got != want {
		f.t.Fatalf("authorize redirected to %s, want %s", got, want)
	}
	if got, want := cb.Query().Get("state"), authURL.Query().Get("state"); got != want {
		f.t.Fatalf("state came back as %q, want %q", got, want)
	}
	return cb
}

// signIn runs a whole login for /login?query and returns the callback's
// response, which it checks redirects (303) to wantReturn.
func (f *flow) signIn(query, wantReturn string) resp {
	f.t.Helper()
	cb := f.authorize(f.startLogin(query))
	if cb.Query().Get("code") == "" {
		f.t.Fatalf("callback URL %s has no code", cb.Redacted())
	}
	r := f.get(cb.String())
	if r.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("callback: got status %d, want 303 (body %q)", r.StatusCode, r.body)
	}
	if got := r.location(f.t); got.RequestURI() != wantReturn || got.Host != f.app.Listener.Addr().String() {
		f.t.Fatalf("callback redirected to %s, want %s on the app", got, wantReturn)
	}
	if r.cookie(f.gate.cfg.CookieName) == nil {
		f.t.Fatal("callback set no session cookie")
	}
	return r
}

// wantSignedIn checks that /app greets the given email.
func (f *flow) wantSignedIn(email string) {
	f.t.Helper()
	r := f.get("/app")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.body, "hello "+email+" ") {
		f.t.Fatalf("/app: got %d %q, want 200 greeting %s", r.StatusCode, r.body, email)
	}
}

// wantSignedOut checks that /app sends the browser to log in.
func (f *flow) wantSignedOut() {
	f.t.Helper()
	r := f.get("/app")
	if r.StatusCode != http.StatusFound {
		f.t.Fatalf("/app: got %d %q, want 302 to login", r.StatusCode, r.body)
	}
	if got, want := r.location(f.t).RequestURI(), "/login?return_to=%2Fapp"; got != want {
		f.t.Fatalf("/app redirected to %s, want %s", got, want)
	}
}

// wantNoSecrets checks that nothing secret reached the logs: the given
// values, the API key, the cookie secret and the value of every cookie the
// browser holds for the app.
func (f *flow) wantNoSecrets(secrets ...string) {
	f.t.Helper()
	logs := f.logs.String()
	secrets = append(secrets, f.idp.APIKey, string(flowSecret))
	for _, path := range []string{"/", "/callback"} {
		for _, c := range f.jar.Cookies(mustURL(f.t, f.app.URL+path)) {
			if len(c.Value) >= 16 { // too short to be a sealed value, and prone to chance matches
				secrets = append(secrets, c.Value)
			}
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			f.t.Errorf("logs contain the secret %q:\n%s", s, logs)
		}
	}
}

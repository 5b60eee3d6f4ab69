package ssogate

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ssogate/ssogate/workostest"
)

// requestLog is a request logger as routers have them: it writes each
// request's target before handing it on.
type requestLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *requestLog) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.lines = append(l.lines, r.RequestURI+" "+r.URL.String())
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// TestRedactHidesCallbackSecrets signs in over real HTTP through a request
// logger: without Redact the logger writes the callback's code and state;
// behind it, it writes REDACTED in their place, and the sign-in still
// works. Other requests pass unchanged.
func TestRedactHidesCallbackSecrets(t *testing.T) {
	f := newFlow(t, nil)
	app := f.handler(f.gate)
	signIn := func() (code, state string) {
		t.Helper()
		cb := f.authorize(f.startLogin("organization=" + workostest.AcmeOrganizationID))
		code, state = cb.Query().Get("code"), cb.Query().Get("state")
		if r := f.get(cb.String()); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: got %d (%s), want 303", r.StatusCode, r.body)
		}
		f.wantSignedIn(workostest.AliceEmail)
		return code, state
	}

	// The logger alone writes them: this is what Redact is for.
	bare := &requestLog{}
	f.app.Config.Handler = bare.middleware(app)
	code, state := signIn()
	if !strings.Contains(bare.String(), code) || !strings.Contains(bare.String(), state) {
		t.Fatalf("a logger without Redact did not see the code and state, so this test shows nothing:\n%s", bare)
	}

	logs := &requestLog{}
	f.app.Config.Handler = f.gate.Redact(logs.middleware(app))
	code, state = signIn()
	got := logs.String()
	if strings.Contains(got, code) || strings.Contains(got, state) {
		t.Errorf("the request log holds the callback's code or state:\n%s", got)
	}
	if !strings.Contains(got, "/callback?code=REDACTED&state=REDACTED /callback?code=REDACTED&state=REDACTED") {
		t.Errorf("the request log does not show the callback, redacted:\n%s", got)
	}
	if !strings.Contains(got, "/app /app") {
		t.Errorf("the request log lost another request:\n%s", got)
	}

	// A callback with an error and no code keeps its error for the log,
	// and a malformed query is left out rather than logged.
	for _, tt := range []struct{ query, want string }{
		{"error=access_denied&state=abc", "error=access_denied&state=REDACTED"},
		{"code=%zz", "/callback /callback"},
		{"x=1", "/callback?x=1 "},
	} {
		logs := &requestLog{}
		f.app.Config.Handler = f.gate.Redact(logs.middleware(app))
		f.get("/callback?" + tt.query)
		if got := logs.String(); !strings.Contains(got, tt.want) {
			t.Errorf("/callback?%s logged as %q, want it to contain %q", tt.query, got, tt.want)
		}
	}
}

// TestPaths: the paths Mount registers, in order, with the callback's from
// the redirect URI, each served by Handler whatever the router.
func TestPaths(t *testing.T) {
	g, err := New(Config{
		Provider:      stubProvider{},
		RedirectURI:   "https://app.example.com/auth/sso/done",
		CookieSecrets: [][]byte{testSecret(1)},
		LoginPath:     "/auth/sso/start",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/auth/sso/start", "/auth/sso/done", "/logout"}
	if got := g.Paths(); !slices.Equal(got, want) {
		t.Fatalf("Paths: got %v, want %v", got, want)
	}
	var mounted []string
	g.Mount(routerFunc(func(p string, _ http.Handler) { mounted = append(mounted, p) }))
	if !slices.Equal(mounted, want) {
		t.Errorf("Mount registered %v, want %v", mounted, want)
	}
	for _, p := range append(want, "/other") {
		rec := httptest.NewRecorder()
		g.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if got := rec.Code == http.StatusNotFound; got != (p == "/other") {
			t.Errorf("Handler on %s: %d", p, rec.Code)
		}
	}
}

// routerFunc is a Router made of a func.
type routerFunc func(string, http.Handler)

func (f routerFunc) Handle(p string, h http.Handler) { f(p, h) }

// prefixRouter is a sub-router as chi's Route makes one: it serves its
// patterns under a prefix and hands its handlers the request's full path.
type prefixRouter struct {
	mux    *http.ServeMux
	prefix string
}

func (r prefixRouter) Handle(p string, h http.Handler) { r.mux.Handle(r.prefix+p, h) }

// TestMountOnASubRouter: the handlers Mount registers serve their path
// under a sub-router's prefix, whatever the full path of the request.
func TestMountOnASubRouter(t *testing.T) {
	g, err := New(Config{Provider: stubProvider{}, ClientID: "client_x", RedirectURI: "https://app.example.com/callback", CookieSecrets: [][]byte{testSecret(1)}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	g.Mount(prefixRouter{mux, "/auth"})
	for _, p := range []string{"/auth/login", "/auth/logout"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want the page", p, rec.Code)
		}
	}
}

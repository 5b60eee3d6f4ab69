package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/redisstore/redistest"
	"github.com/ssogate/ssogate/workostest"
)

// eventually polls cond until it holds, and logs how long that took. The
// ten-second bound only keeps a broken test from hanging.
func eventually(t testing.TB, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: still not so after %v", what, time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	d := time.Since(start)
	t.Logf("%s after %v", what, d.Round(time.Millisecond))
	return d
}

// syncBuffer collects log output from concurrent goroutines.
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

var cookieSecret = []byte("0123456789abcdef0123456789abcdef-redis-test")

const webhookSecret = "whsec_redisstore_test"

// replica is one replica of an app: its own server, Middleware and Store,
// on a shared emulator and Redis.
type replica struct {
	name  string
	app   *httptest.Server
	gate  *ssogate.Middleware
	store *Store
}

// cluster is an app run as several replicas on one Redis.
type cluster struct {
	t      *testing.T
	idp    *workostest.Server
	addr   string // Redis
	prefix string
	opts   Options
	logs   *syncBuffer
	hooks  *httptest.Server // receives the emulator's webhooks for one replica

	mu       sync.Mutex // guards hookDest
	hookDest http.Handler

	// dial, if set, dials the replicas' Redis connections.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// client, if set, makes each replica's Redis client (Sentinel,
	// Cluster) instead of one for addr.
	client func() redis.UniversalClient
	// observer, if set, observes the replicas started from now on.
	observer *ssogate.Observer
	// clock, if set, is the clock of the stores started from now on.
	clock func() time.Time
}

func newCluster(t *testing.T, redisAddr string, opts Options) *cluster {
	c := &cluster{t: t, addr: redisAddr, prefix: testPrefix(t), opts: opts, logs: &syncBuffer{}}
	c.hooks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		h := c.hookDest
		c.mu.Unlock()
		if h == nil {
			http.Error(w, "no replica takes webhooks", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(c.hooks.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the replicas' logs:\n%s", c.logs.String())
		}
	})
	c.idp = workostest.NewServer(workostest.WithWebhook(c.hooks.URL+"/webhooks/workos", webhookSecret))
	t.Cleanup(c.idp.Close)
	return c
}

// clockFunc is a func as Options' clock.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

// start starts a replica.
func (c *cluster) start(name string) *replica {
	c.t.Helper()
	var rdb redis.UniversalClient
	if c.client != nil {
		rdb = c.client()
	} else {
		rdb = redis.NewClient(&redis.Options{Addr: c.addr, MaxRetries: 1, DialTimeout: time.Second, Dialer: c.dial})
	}
	c.t.Cleanup(func() { rdb.Close() })
	logger := slog.New(slog.NewTextHandler(c.logs, nil)).With("replica", name)
	opts := c.opts
	opts.Prefix = c.prefix
	if opts.WriteBackGrace == 0 {
		// Each test's keys are new: a replica would wait the grace out.
		opts.WriteBackGrace = time.Millisecond
	}
	opts.Logger = logger
	if c.clock != nil {
		opts.clock = clockFunc(c.clock)
	}
	store, err := New(rdb, opts)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { store.Close() })

	app := httptest.NewServer(nil)
	c.t.Cleanup(app.Close)
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        c.idp.APIKey,
		ClientID:      c.idp.ClientID,
		BaseURL:       c.idp.URL,
		RedirectURI:   app.URL + "/callback",
		CookieSecrets: [][]byte{cookieSecret},
		Backplane:     store,
		Logger:        logger,
		Observer:      c.observer,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { gate.Close() })
	hook, err := ssogate.NewWebhookHandler(ssogate.WebhookConfig{Secret: webhookSecret, Cache: gate.Connections(), Logger: logger})
	if err != nil {
		c.t.Fatal(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("POST /webhooks/workos", hook)
	mux.Handle("/app", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context())
		io.WriteString(w, "hello "+p.Email)
	})))
	app.Config.Handler = mux
	return &replica{name: name, app: app, gate: gate, store: store}
}

// takeWebhooks routes the emulator's webhook deliveries to r.
func (c *cluster) takeWebhooks(r *replica) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hookDest = r.app.Config.Handler
}

// browser is a user agent with a cookie jar; cookies are per host, not per
// port, so all replicas on 127.0.0.1 see them, as behind a load balancer.
type browser struct {
	t   *testing.T
	jar *cookiejar.Jar
	c   *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, jar: jar, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}}
}

// get fetches u as a top-level navigation and returns the status, the
// Location and the body.
func (b *browser) get(u string) (int, string, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

// signIn signs the browser in as email on replica r, checking each hop,
// and checks that r accepts the session.
func (c *cluster) signIn(b *browser, r *replica, email string) {
	c.t.Helper()
	c.login(b, r, email)
	if !b.signedIn(r, email) {
		c.t.Fatalf("%s is not signed in on %s after signing in", email, r.name)
	}
}

// login runs the hops of a sign-in as email on replica r.
func (c *cluster) login(b *browser, r *replica, email string) {
	c.t.Helper()
	if status, loc, body := c.callback(b, r, email); status != http.StatusSeeOther || loc != "/" {
		c.t.Fatalf("callback: got %d to %q (%s), want 303 to /", status, loc, body)
	}
}

// callback runs the hops of a sign-in as email on replica r up to the
// callback, and returns its answer.
func (c *cluster) callback(b *browser, r *replica, email string) (status int, loc, body string) {
	c.t.Helper()
	c.idp.SetAutoSignIn(email)
	status, loc, body = b.get(r.app.URL + "/login?organization=" + workostest.AcmeOrganizationID)
	if status != http.StatusFound || !strings.HasPrefix(loc, c.idp.URL+"/sso/authorize?") {
		c.t.Fatalf("/login: got %d to %q (%s), want 302 to the emulator", status, loc, body)
	}
	status, loc, _ = b.get(loc)
	if status != http.StatusFound || !strings.HasPrefix(loc, r.app.URL+"/callback?") {
		c.t.Fatalf("authorize: got %d to %q, want 302 to the callback", status, loc)
	}
	return b.get(loc)
}

// signedIn reports whether r greets email: the browser's session is
// accepted there.
func (b *browser) signedIn(r *replica, email string) bool {
	b.t.Helper()
	status, _, body := b.get(r.app.URL + "/app")
	return status == http.StatusOK && body == "hello "+email
}

// status returns what r answers the browser for /app.
func (b *browser) status(r *replica) int {
	b.t.Helper()
	status, _, _ := b.get(r.app.URL + "/app")
	return status
}

// copyTo gives b's cookies to another browser, as a thief would.
func (b *browser) copyTo(r *replica, to *browser) {
	u, _ := url.Parse(r.app.URL)
	to.jar.SetCookies(u, b.jar.Cookies(u))
}

func TestMain(m *testing.M) {
	// go-redis logs each failed dial on its own; the outage tests make
	// many on purpose.
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

var aliceID = workostest.ProfileID(workostest.AcmeConnectionID, workostest.AliceEmail)

// TestThreeReplicas runs the app as three replicas on one Redis.
func TestThreeReplicas(t *testing.T) {
	c := newCluster(t, redistest.Shared(t), Options{})
	a, b, cc := c.start("A"), c.start("B"), c.start("C")
	replicas := []*replica{a, b, cc}
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, a, workostest.BobEmail)
	for _, r := range replicas {
		if !alice.signedIn(r, workostest.AliceEmail) || !bob.signedIn(r, workostest.BobEmail) {
			t.Fatalf("replica %s does not accept the sessions made on A", r.name)
		}
	}

	t.Run("revoke a user on A", func(t *testing.T) {
		if err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(aliceID)); err != nil {
			t.Fatalf("Revoke: %v", err)
		}
		if alice.status(a) != http.StatusFound {
			t.Error("A still accepts alice after revoking her")
		}
		for _, r := range []*replica{b, cc} {
			eventually(t, "replica "+r.name+" refuses alice", func() bool { return alice.status(r) == http.StatusFound })
			if !bob.signedIn(r, workostest.BobEmail) {
				t.Errorf("replica %s refuses bob, whom nobody revoked", r.name)
			}
		}
	})

	t.Run("a replica started later knows the revocations", func(t *testing.T) {
		d := c.start("D")
		if got := alice.status(d); got != http.StatusFound {
			t.Errorf("D got %d for revoked alice, want 302 at once", got)
		}
		if !bob.signedIn(d, workostest.BobEmail) {
			t.Error("D refuses bob")
		}
	})

	t.Run("logout on A ends a copied cookie on C", func(t *testing.T) {
		thief := newBrowser(t)
		bob.copyTo(a, thief)
		if !thief.signedIn(cc, workostest.BobEmail) {
			t.Fatal("the copied cookie does not work on C before the logout")
		}
		req, _ := http.NewRequest(http.MethodPost, a.app.URL+"/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := bob.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: got %d, want 303", res.StatusCode)
		}
		eventually(t, "C refuses the copied cookie", func() bool { return thief.status(cc) == http.StatusFound })
	})

	t.Run("a connection.deleted webhook on B", func(t *testing.T) {
		acme := newBrowser(t) // bob again, signed in before the deletion
		c.signIn(acme, b, workostest.BobEmail)
		// A and C have the connection cached as active.
		for _, r := range []*replica{a, cc} {
			if status, _, _ := acme.get(r.app.URL + "/login?organization=" + workostest.AcmeOrganizationID); status != http.StatusFound {
				t.Fatalf("%s: /login got %d before the deletion, want 302", r.name, status)
			}
		}
		c.takeWebhooks(b)
		if err := c.idp.DeleteConnection(workostest.AcmeConnectionID); err != nil {
			t.Fatal(err)
		}
		c.idp.FlushWebhooks()
		if ds := c.idp.Deliveries(); len(ds) != 1 || ds[0].Status != http.StatusOK {
			t.Fatalf("deliveries %+v, want one answered 200 by B", ds)
		}
		for _, r := range replicas {
			eventually(t, r.name+" answers not set up", func() bool {
				status, _, body := acme.get(r.app.URL + "/login?organization=" + workostest.AcmeOrganizationID)
				return status == http.StatusNotFound && strings.Contains(body, "not set up")
			})
			eventually(t, r.name+" refuses the connection's session", func() bool { return acme.status(r) == http.StatusFound })
		}
	})

	checkLogs(t, c.logs.String(), alice, bob)
}

// checkLogs checks that no cookie value reached the logs.
func checkLogs(t *testing.T, logs string, browsers ...*browser) {
	t.Helper()
	for _, b := range browsers {
		for _, u := range []string{"http://127.0.0.1/"} {
			pu, _ := url.Parse(u)
			for _, ck := range b.jar.Cookies(pu) {
				if len(ck.Value) >= 16 && strings.Contains(logs, ck.Value) {
					t.Errorf("logs hold the value of cookie %s", ck.Name)
				}
			}
		}
	}
	if strings.Contains(logs, string(cookieSecret)) {
		t.Error("logs hold the cookie secret")
	}
}

// TestRedisRestart kills Redis under two replicas and starts it again.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second})
	a, b := c.start("A"), c.start("B")
	alice, bob := newBrowser(t), newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	c.signIn(bob, a, workostest.BobEmail)

	srv.Stop()
	eventually(t, "both replicas notice the outage", func() bool {
		return strings.Count(c.logs.String(), "Redis is unreachable") == 2
	})
	// Serving goes on: the hot path never calls Redis.
	for _, r := range []*replica{a, b} {
		if !alice.signedIn(r, workostest.AliceEmail) || !bob.signedIn(r, workostest.BobEmail) {
			t.Fatalf("%s stopped serving during the outage", r.name)
		}
	}
	// A revocation during the outage holds on A at once and says it is
	// not shared yet.
	err := a.gate.Revoke(context.Background(), ssogate.RevokeUser(aliceID))
	if !errors.Is(err, ssogate.ErrNotShared) {
		t.Fatalf("Revoke during the outage: got %v, want ErrNotShared", err)
	}
	if alice.status(a) != http.StatusFound {
		t.Error("A accepts alice after revoking her during the outage")
	}

	srv.Restart()
	eventually(t, "B refuses alice once Redis is back", func() bool { return alice.status(b) == http.StatusFound })
	if !bob.signedIn(b, workostest.BobEmail) || !bob.signedIn(a, workostest.BobEmail) {
		t.Error("bob is refused after the outage")
	}
	eventually(t, "both replicas log the recovery", func() bool {
		return strings.Count(c.logs.String(), "Redis is reachable again") == 2
	})
	// A replica started after the outage learns the revocation too.
	if d := c.start("D"); alice.status(d) != http.StatusFound {
		t.Error("D accepts alice after the outage")
	}
	logs := c.logs.String()
	if n := strings.Count(logs, "Redis is unreachable"); n != 2 {
		t.Errorf("the outage was logged %d times, want once a replica:\n%s", n, logs)
	}
	checkLogs(t, logs, alice, bob)
}

func TestFailClosed(t *testing.T) {
	srv := redistest.Start(t)
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: time.Second, FailClosed: true})
	a := c.start("A")
	alice := newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)

	srv.Stop()
	eventually(t, "A refuses sessions without Redis", func() bool { return alice.status(a) == http.StatusServiceUnavailable })
	srv.Restart()
	eventually(t, "A serves sessions again", func() bool { return alice.signedIn(a, workostest.AliceEmail) })
}

func TestFailClosedAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	c := newCluster(t, srv.Addr, Options{RetryInterval: 50 * time.Millisecond, Timeout: 200 * time.Millisecond, FailClosed: true})
	a := c.start("A")
	alice := newBrowser(t)
	// No session is issued while the revocations are unknown: one in
	// force could match it.
	if status, _, _ := c.callback(alice, a, workostest.AliceEmail); status != http.StatusServiceUnavailable {
		t.Errorf("callback before Redis was ever read: got %d, want 503", status)
	}
	if got := alice.status(a); got != http.StatusFound {
		t.Errorf("got %d before Redis was ever read, want 302 to sign in", got)
	}
	srv.Restart()
	eventually(t, "A signs alice in once Redis is read", func() bool {
		status, _, _ := c.callback(alice, a, workostest.AliceEmail)
		return status == http.StatusSeeOther
	})
	if !alice.signedIn(a, workostest.AliceEmail) {
		t.Error("alice is not signed in after Redis came back")
	}
}

// TestMalformedRecords plants junk in Redis: it is skipped and logged,
// and what is well formed still applies.
func TestMalformedRecords(t *testing.T) {
	addr := redistest.Shared(t)
	c := newCluster(t, addr, Options{})
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	set, log := "{"+c.prefix+"}revocations", "{"+c.prefix+"}log"
	far := float64(time.Now().Add(time.Hour).UnixMilli())
	for _, m := range []string{"", "u", "u:prof_x", "x:prof_x:1", "u:bad id:1", "u:org_x:1", `{"v":1,"kind":"user","id":"prof_x","at":1,"expires":2}`} {
		if err := rdb.ZAdd(ctx, set, redis.Z{Score: far, Member: m}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	a := c.start("A")
	alice := newBrowser(t)
	c.signIn(alice, a, workostest.AliceEmail)
	// Six are junk; "x:prof_x:1" is of a kind a newer version may write,
	// skipped and told apart.
	logs := c.logs.String()
	if !strings.Contains(logs, `msg="redisstore: malformed revocation records skipped" replica=A key=`+set+` count=6`) {
		t.Errorf("junk records not logged as 6:\n%s", logs)
	}
	if !strings.Contains(logs, `(a newer version wrote them)" replica=A key=`+set+` count=1`) {
		t.Errorf("the record of an unknown kind not logged as 1:\n%s", logs)
	}
	for _, values := range []map[string]any{
		{"junk": "1"},
		{"v": "1", "r": "u:prof_x:1 2"},
		{"v": "2", "r": "u:bad id:1 2"},
		{"v": "2"},
	} {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: log, Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "junk entries are logged", func() bool { return strings.Contains(c.logs.String(), "malformed updates skipped") })
	if !alice.signedIn(a, workostest.AliceEmail) {
		t.Fatal("junk ended alice's session")
	}
	b := c.start("B")
	if err := b.gate.Revoke(ctx, ssogate.RevokeUser(aliceID)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A applies a good revocation after junk", func() bool { return alice.status(a) == http.StatusFound })
	if strings.Contains(c.logs.String(), "bad id") {
		t.Error("the content of a malformed record reached the logs")
	}
}

// testPrefix keeps each test's keys apart on a shared Redis.
func testPrefix(t testing.TB) string {
	return fmt.Sprintf("ssogate-test:%s:%d:", t.Name(), time.Now().UnixNano())
}

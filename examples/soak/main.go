// Command soak runs three processes of examples/basic on one Redis, as
// three replicas of an app, under a steady load of gated requests and
// sign-outs, while Redis is killed and restarted without persistence, and
// reports what a user would have seen. New sessions are signed in as
// others sign out, so that every outage has sign-outs to lose:
//
//   - 5xx answers to valid sessions (none are expected: replicas keep
//     serving while Redis is away);
//   - signed-out sessions still accepted after the propagation bound once
//     Redis is back, by the outage the sign-out was made in (none are
//     expected: a sign-out made while Redis is away holds on the replica
//     that made it at once, answered 202, and on the others once Redis is
//     back);
//   - each process's memory at the start and at the end.
//
// It needs Debian's redis-server package and a Go toolchain, serves and
// sends on loopback only, and stops by itself. Run it from the repository's
// root; it is not part of CI:
//
//	go run ./examples/soak -duration 5m -outages 3
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	duration := flag.Duration("duration", 5*time.Minute, "how long to run")
	outages := flag.Int("outages", 3, "how many times to kill and restart Redis")
	outage := flag.Duration("outage", 5*time.Second, "how long each outage lasts")
	rate := flag.Int("rate", 300, "gated requests a second")
	signouts := flag.Duration("signout-every", 200*time.Millisecond, "how often a session signs out")
	bound := flag.Duration("bound", time.Second, "how long a sign-out may take to hold on every replica while Redis is up")
	users := flag.Int("sessions", 400, "sessions signed in at the start")
	flag.Parse()
	if err := run(*duration, *outages, *outage, *rate, *signouts, *bound, *users); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, outages int, outage time.Duration, rate int, signoutEvery, bound time.Duration, users int) error {
	dir, err := os.MkdirTemp("", "ssogate-soak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "basic")
	if out, err := exec.Command("go", "build", "-o", bin, "./examples/basic").CombinedOutput(); err != nil {
		return fmt.Errorf("building examples/basic (run from the repository's root): %v\n%s", err, out)
	}
	redis := &redisServer{addr: freeAddr(), dir: dir}
	if err := redis.start(); err != nil {
		return err
	}
	defer redis.stop()

	password := "soak-cookie-password-of-32-bytes-or-more"
	var apps []*app
	for i := range 3 {
		a := &app{addr: freeAddr()}
		a.cmd = exec.Command(bin)
		a.cmd.Env = append(os.Environ(), "ADDR="+a.addr, "REDIS_URL=redis://"+redis.addr,
			"WORKOS_COOKIE_PASSWORD="+password, "WORKOS_API_KEY=", "WORKOS_CLIENT_ID=")
		a.cmd.Stdout, a.cmd.Stderr = io.Discard, io.Discard
		if err := a.cmd.Start(); err != nil {
			return err
		}
		defer a.cmd.Process.Kill()
		if err := waitHTTP("http://" + a.addr + "/"); err != nil {
			return fmt.Errorf("replica %d: %v", i, err)
		}
		a.rssStart = rss(a.cmd.Process.Pid)
		apps = append(apps, a)
	}

	fmt.Printf("signing in %d sessions...\n", users)
	var sessions []*session
	for i := range users {
		email := []string{"alice@acme.com", "bob@acme.com"}[i%2]
		// A replica on a Redis it has never seen waits a few seconds for
		// others to write back before it signs anyone in (503).
		var s *session
		for try := 0; ; try++ {
			if s, err = signIn(apps[i%3], email); err == nil || try == 60 {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			return err
		}
		sessions = append(sessions, s)
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var (
		mu       sync.Mutex
		live     = sessions // signed in
		out      []*session // signed out
		windows  []window   // Redis outages
		outside  window     // what happened outside them
		requests atomic.Int64
		fiveXX   atomic.Int64
		// of which during outages
		fiveXXOut atomic.Int64
		signIns   atomic.Int64
	)
	// windowOf returns the outage t falls in (up to bound after its end),
	// or the record of the time outside outages; mu must be held.
	windowOf := func(t time.Time) *window {
		for i := range windows {
			w := &windows[i]
			if !t.Before(w.start) && (w.end.IsZero() || t.Before(w.end.Add(bound))) {
				return w
			}
		}
		return &outside
	}

	var wg sync.WaitGroup
	// Redis outages, spread over the run.
	wg.Go(func() {
		start := time.Now()
		for i := range outages {
			next := start.Add(time.Duration(i+1) * duration / time.Duration(outages+1))
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(next)):
			}
			mu.Lock()
			windows = append(windows, window{start: time.Now()})
			mu.Unlock()
			redis.stop()
			time.Sleep(outage)
			if err := redis.start(); err != nil {
				fmt.Fprintln(os.Stderr, "soak: restarting Redis:", err)
				return
			}
			// Sign-outs made during the outage are checked from bound
			// after its end (see windowOf).
			mu.Lock()
			windows[len(windows)-1].end = time.Now()
			mu.Unlock()
		}
	})
	// Sign-ins, keeping the pool of signed-in sessions full, so that every
	// outage has sessions to sign out.
	wg.Go(func() {
		for ctx.Err() == nil {
			mu.Lock()
			short := len(live) < users
			mu.Unlock()
			if !short {
				time.Sleep(signoutEvery / 2)
				continue
			}
			s, err := signIn(apps[rand.IntN(3)], []string{"alice@acme.com", "bob@acme.com"}[rand.IntN(2)])
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			signIns.Add(1)
			mu.Lock()
			live = append(live, s)
			mu.Unlock()
		}
	})
	// Sign-outs, on any replica; while Redis is down the replica answers
	// 202 (signed out here, not yet shared) rather than 303.
	wg.Go(func() {
		tick := time.NewTicker(signoutEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			mu.Lock()
			if len(live) < 10 {
				mu.Unlock()
				continue
			}
			i := rand.IntN(len(live))
			s := live[i]
			mu.Unlock()
			req, _ := http.NewRequest(http.MethodPost, "http://"+apps[rand.IntN(3)].addr+"/logout", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			for _, c := range s.cookies {
				req.AddCookie(c)
			}
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				continue
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusAccepted {
				continue
			}
			now := time.Now()
			mu.Lock()
			live = slices.DeleteFunc(live, func(x *session) bool { return x == s })
			s.holdBy = now.Add(bound)
			s.window = windowOf(now)
			if res.StatusCode == http.StatusSeeOther {
				s.window.shared++
			} else {
				s.window.pending++
			}
			out = append(out, s)
			mu.Unlock()
		}
	})
	// Gated requests, half by valid sessions and half by signed-out ones.
	for range 16 {
		wg.Go(func() {
			per := time.Second * 16 / time.Duration(rate)
			for ctx.Err() == nil {
				time.Sleep(per)
				mu.Lock()
				var s *session
				if len(out) > 0 && rand.IntN(2) == 0 {
					s = out[rand.IntN(len(out))]
				} else {
					s = live[rand.IntN(len(live))]
				}
				signedOut := s.window != nil
				mu.Unlock()
				a := apps[rand.IntN(3)]
				req, _ := http.NewRequest(http.MethodGet, "http://"+a.addr+"/api/me", nil)
				req.Header.Set("Accept", "application/json")
				for _, c := range s.cookies {
					req.AddCookie(c)
				}
				res, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				requests.Add(1)
				now := time.Now()
				mu.Lock()
				w := windowOf(now)
				switch {
				case !signedOut && res.StatusCode >= 500:
					fiveXX.Add(1)
					if w != &outside {
						fiveXXOut.Add(1)
					}
				case signedOut && res.StatusCode == http.StatusOK && now.After(s.holdBy) && w == &outside && !s.lost:
					// Accepted a bound after its sign-out, outside any
					// outage: lost, counted once against the window of
					// the sign-out.
					s.lost = true
					s.window.lost++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var lost, shared, pending int
	for _, w := range append(windows, outside) {
		lost += w.lost
		shared += w.shared
		pending += w.pending
	}
	fmt.Printf("\n%v, %d outages of %v, %d gated requests (%.0f/s), %d sign-ins, %d sign-outs\n",
		duration, len(windows), outage, requests.Load(), float64(requests.Load())/duration.Seconds(), signIns.Load(), shared+pending)
	for i, w := range windows {
		fmt.Printf("outage %d: %d sign-outs shared, %d answered 202 (not yet shared), %d lost\n", i+1, w.shared, w.pending, w.lost)
	}
	fmt.Printf("outside outages: %d sign-outs shared, %d answered 202, %d lost\n", outside.shared, outside.pending, outside.lost)
	fmt.Printf("5xx for valid sessions: %d (%d of them during outages)\n", fiveXX.Load(), fiveXXOut.Load())
	fmt.Printf("signed-out sessions accepted after the bound (%v) once Redis was back: %d\n", bound, lost)
	for i, a := range apps {
		fmt.Printf("replica %d memory (RSS): %s at start, %s at end\n", i+1, mib(a.rssStart), mib(rss(a.cmd.Process.Pid)))
	}
	if fiveXX.Load()-fiveXXOut.Load() > 0 || lost > 0 {
		return fmt.Errorf("the soak found failures")
	}
	return nil
}

// window is a Redis outage (or the time outside them), with the
// sign-outs made in it and those of them lost.
type window struct {
	start, end            time.Time
	shared, pending, lost int
}

type app struct {
	addr     string
	cmd      *exec.Cmd
	rssStart int64
}

// session is a signed-in browser's cookies, which the soak keeps sending
// after it signs out, as a thief with a copy would.
type session struct {
	cookies []*http.Cookie
	// Once signed out: the window it was signed out in, when the
	// sign-out must hold everywhere by, and whether it was found lost.
	window *window
	holdBy time.Time
	lost   bool
}

var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

// signIn signs a new browser in to a as email through the emulator's page.
func signIn(a *app, email string) (*session, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := c.Get("http://" + a.addr + "/login?organization=org_acme")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := requestField.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no sign-in page at %s", res.Request.URL.Redacted())
	}
	form := url.Values{"request": {string(m[1])}, "email": {email}}
	u := *res.Request.URL
	u.Path, u.RawQuery = "/sso/authorize/complete", ""
	req, _ := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	if res, err = c.Do(req); err != nil {
		return nil, err
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("signing %s in: %s answered %d: %.200s", email, res.Request.URL.Path, res.StatusCode, body)
	}
	base, _ := url.Parse("http://" + a.addr + "/")
	cookies := slices.DeleteFunc(jar.Cookies(base), func(c *http.Cookie) bool { return strings.Contains(c.Name, "_state_") })
	if len(cookies) == 0 {
		return nil, fmt.Errorf("signing %s in: no session cookie", email)
	}
	return &session{cookies: cookies}, nil
}

type redisServer struct {
	addr, dir string
	cmd       *exec.Cmd
}

func (r *redisServer) start() error {
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("redis-server (install Debian's redis-server package): %v", err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", r.addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s does not answer", r.addr)
}

func (r *redisServer) stop() {
	if r.cmd != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitHTTP(u string) error {
	for range 200 {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s does not answer", u)
}

// rss returns a process's resident memory in bytes, from /proc.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

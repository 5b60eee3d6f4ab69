package ssogate

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

// browserFrom returns another browser whose connections come from ip, a
// loopback address other than 127.0.0.1: the app sees it as another client.
func (f *flow) browserFrom(ip string) *flow {
	g := f.newBrowser()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	g.c.Transport = &http.Transport{DialContext: d.DialContext}
	return g
}

// attack runs fn from n goroutines until it has run total times, and
// returns how often each status came back. fn must not call t.Fatal.
func attack(n, total int, fn func(i int) int) map[int]int {
	var mu sync.Mutex
	statuses := map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > total {
					return
				}
				status := fn(i)
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return statuses
}

// TestOneClientCannotDrainExchanges floods the callback from one address
// with fresh states and made-up codes, each a real POST /sso/token, while
// 25 employees of one customer sign in from one other address: every one
// of them succeeds, the flooder is held back after its share, and the
// refusals are logged once, not once per request. Before, 100 pairs
// emptied the replica's budget and every sign-in after got 503.
func TestOneClientCannotDrainExchanges(t *testing.T) {
	f := newFlow(t, nil)
	attacker := f.browserFrom("127.0.0.2")
	done := make(chan map[int]int)
	go func() {
		done <- attack(8, 300, func(int) int {
			// A fresh cookie jar a pair: each login's state cookie is
			// there for its callback.
			attacker := attacker.browserFrom("127.0.0.2")
			res, err := attacker.c.Get(f.app.URL + "/login?organization=" + workostest.AcmeOrganizationID)
			if err != nil {
				return 0
			}
			res.Body.Close()
			loc, err := url.Parse(res.Header.Get("Location"))
			if err != nil {
				return 0
			}
			q := url.Values{"code": {"made-up-code"}, "state": {loc.Query().Get("state")}}
			res, err = attacker.c.Get(f.app.URL + "/callback?" + q.Encode())
			if err != nil {
				return 0
			}
			res.Body.Close()
			return res.StatusCode
		})
	}()
	for range 25 {
		office := f.browserFrom("127.0.0.3")
		office.signIn("organization="+workostest.AcmeOrganizationID, "/")
		office.wantSignedIn(workostest.AliceEmail)
	}
	statuses := <-done
	t.Logf("the flooder's callbacks: %v", statuses)
	if statuses[http.StatusTooManyRequests] < 250 {
		t.Errorf("the flooder was answered %v, want it held back (429) after its share", statuses)
	}
	share := clientShare(DefaultMaxExchangesPerMinute)
	if n := f.idp.Count("POST /sso/token"); n > share+25 {
		t.Errorf("%d code exchanges reached WorkOS, want at most the flooder's share (%d) and the 25 sign-ins", n, share)
	}
	logs := f.logs.String()
	if n := strings.Count(logs, "failing sign-ins are held back"); n != 1 {
		t.Errorf("the refusals were logged %d times, want once an interval:\n%s", n, logs)
	}
	if !strings.Contains(logs, "top_client=127.0.0.2") {
		t.Errorf("the log does not name the top client:\n%s", logs)
	}
	if strings.Contains(logs, "MaxExchangesPerMinute reached") {
		t.Errorf("the replica's budget ran out")
	}
	for _, row := range f.gate.SignInHealth() {
		if row.LastFailure != nil && row.LastFailure.Reason == ReasonTooManySignIns {
			t.Errorf("the health page blames %s for the budget's refusals", row.ConnectionID)
		}
	}
}

// TestIdPInitiatedFloodHeldBack sends cookieless callbacks with made-up
// codes, as IdPInitiatedRestart lets anyone: they too are one client's
// share, and a sign-in from another address goes through.
func TestIdPInitiatedFloodHeldBack(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) { c.IdPInitiated = IdPInitiatedRestart })
	attacker := f.browserFrom("127.0.0.2")
	statuses := attack(8, 200, func(i int) int {
		res, err := attacker.c.Get(fmt.Sprintf("%s/callback?code=junk%d", f.app.URL, i))
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	})
	if statuses[http.StatusTooManyRequests] < 150 {
		t.Errorf("cookieless callbacks answered %v, want most held back (429)", statuses)
	}
	f.browserFrom("127.0.0.3").signIn("organization="+workostest.AcmeOrganizationID, "/")
}

// TestOneClientCannotDrainLookups sends made-up email domains from one
// address, each a WorkOS lookup: the flooder is held back after its
// share, and a user from another address is still routed by email.
// Before, 100 of them emptied the cache's budget and email sign-in
// answered 503 for everyone.
func TestOneClientCannotDrainLookups(t *testing.T) {
	f := newFlow(t, nil)
	attacker := f.browserFrom("127.0.0.2")
	done := make(chan map[int]int)
	go func() {
		done <- attack(8, 300, func(i int) int {
			res, err := attacker.c.Get(fmt.Sprintf("%s/login?domain=made-up-%d.example", f.app.URL, i))
			if err != nil {
				return 0
			}
			res.Body.Close()
			return res.StatusCode
		})
	}()
	for range 5 {
		user := f.browserFrom("127.0.0.3")
		user.signIn("email="+url.QueryEscape(workostest.AliceEmail), "/")
		user.wantSignedIn(workostest.AliceEmail)
	}
	statuses := <-done
	t.Logf("the flooder's lookups: %v", statuses)
	if statuses[http.StatusTooManyRequests] < 250 {
		t.Errorf("the flooder was answered %v, want it held back (429) after its share", statuses)
	}
	// A held-back client is asked for its email again, and told why.
	r := attacker.get("/login?email=pat@made-up-again.example")
	if r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, `name="email"`) || !strings.Contains(r.body, "Too many sign-in attempts") {
		t.Errorf("a held-back email login: %d %s", r.StatusCode, r.body)
	}
}

// TestLookupBudgetExhaustedDegrades empties the replica's own lookup
// budget (as many addresses at once would): a user whose domain is not
// cached gets the email page back with a retry, not a dead end.
func TestLookupBudgetExhaustedDegrades(t *testing.T) {
	f := newFlow(t, nil, func(c *Config) {
		cache, err := NewConnectionCache(c.Provider, CacheConfig{MaxFetchesPerMinute: 10})
		if err != nil {
			t.Fatal(err)
		}
		c.Connections = cache
	})
	f.browserFrom("127.0.0.2").get("/login?domain=made-up.example") // the one token of the burst
	r := f.browserFrom("127.0.0.3").get("/login?email=" + url.QueryEscape(workostest.AliceEmail) + "&return_to=/app")
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d (Retry-After %q), want 503 with Retry-After", r.StatusCode, r.Header.Get("Retry-After"))
	}
	for _, want := range []string{"Sign-in is busy right now", `name="email"`, `name="return_to" value="/app"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page lacks %q: %s", want, r.body)
		}
	}
}

// cookieHeader returns the Cookie header the browser sends to the app.
func (f *flow) cookieHeader() string {
	var parts []string
	for _, c := range f.jar.Cookies(mustURL(f.t, f.app.URL+"/")) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// TestStateCookiesBounded has another site start many logins in a
// signed-in browser, in parallel and one after another, with the largest
// login_hint and return_to it may send: the browser holds at most five
// state cookies, each small, and its Cookie header stays far under the
// 8 KB that proxies such as nginx accept. Before, each of 30 parallel
// logins left a cookie of 2,664 bytes (an 80 KB header).
func TestStateCookiesBounded(t *testing.T) {
	f := newFlow(t, nil)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	session := len(f.cookieHeader())
	hint := strings.Repeat("a", 300) + "@acme.com"
	returnTo := "/" + strings.Repeat("r", 1000)
	q := url.Values{"organization": {workostest.AcmeOrganizationID}, "login_hint": {hint}, "return_to": {returnTo}}.Encode()
	crossSite := func() int {
		req, _ := http.NewRequest(http.MethodGet, f.app.URL+"/login?"+q, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		res, err := f.c.Do(req)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	statuses := attack(30, 30, func(int) int { return crossSite() })
	for range 10 {
		statuses[crossSite()]++
	}
	if statuses[http.StatusFound] != 40 {
		t.Fatalf("cross-site logins of the user's own organization: %v, want 40 redirects", statuses)
	}
	header := f.cookieHeader()
	states := strings.Count(header, "_state_")
	t.Logf("Cookie header: %d bytes (session %d), %d state cookies", len(header), session, states)
	if states > maxStateCookies {
		t.Errorf("the browser holds %d state cookies, want at most %d", states, maxStateCookies)
	}
	if per := (len(header) - session) / max(states, 1); per > 600 {
		t.Errorf("a state cookie another site started is %d bytes, want at most 600", per)
	}
	if len(header) > 4096 {
		t.Errorf("the Cookie header is %d bytes, want under 4 KB", len(header))
	}
	f.wantSignedIn(workostest.AliceEmail)

	// Thousands of well-named junk cookies: /login opens at most one per
	// slot, and its state cookie is one of the five names.
	req, _ := http.NewRequest(http.MethodGet, f.app.URL+"/login?organization="+workostest.AcmeOrganizationID, nil)
	var junk []string
	for i := range 3000 {
		junk = append(junk, fmt.Sprintf("ssogate_state_%d=junk%d", i%7, i))
	}
	req.Header.Set("Cookie", strings.Join(junk, "; "))
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || len(res.Cookies()) != 1 || !isStateCookieName(res.Cookies()[0].Name, f.gate.sessions.statePrefix) {
		t.Errorf("/login with 3,000 junk cookies: %d, cookies %v", res.StatusCode, res.Cookies())
	}
}

// TestSignOutCycleBounded has one account sign in and out 100 times, as
// anyone who can sign in at will can: the replica holds a bounded number
// of revocations for it, and the account can still sign in. Past the
// bound, a sign-out ends every session of the user (the fail-safe).
// Before, every cycle added a record for a session lifetime (480,000 in
// 8 hours, 102 MB on every replica).
func TestSignOutCycleBounded(t *testing.T) {
	f := newFlow(t, nil)
	other := f.newBrowser() // the same user, elsewhere
	other.signIn("organization="+workostest.AcmeOrganizationID, "/")
	for range 100 {
		f.clock.Advance(ClockSkew + time.Second)
		f.signIn("organization="+workostest.AcmeOrganizationID, "/")
		f.logout()
	}
	if n := f.gate.Stats().Revocations; n > maxSignOutsPerUser+1 {
		t.Errorf("100 sign-outs of one account left %d revocations, want at most %d", n, maxSignOutsPerUser+1)
	}
	other.wantSignedOut()
	f.clock.Advance(ClockSkew + time.Second)
	f.signIn("organization="+workostest.AcmeOrganizationID, "/")
	f.wantSignedIn(workostest.AliceEmail)
}

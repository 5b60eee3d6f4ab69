package workostest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
)

// htmlTag matches a tag of an HTML page, to show its text.
var htmlTag = regexp.MustCompile(`<[^>]*>`)

// requestField finds the sign-in request's id on the hosted sign-in page.
var requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)

// SignIn signs client in to an app as the seeded user with this email,
// through the app's real wiring: it follows loginURL (the app's login path
// with its query, such as app.URL+"/login?organization=org_acme") to the
// server's /sso/authorize, chooses the user on the hosted sign-in page, and
// takes the code back to the app's callback, exactly as a browser would.
// The session cookie the callback sets lands in client's cookie jar, so
// later requests with client are signed in.
//
// Each hop is checked; an error names the one that went wrong and what it
// answered. client must have a cookie jar; its redirect policy is not used.
// With [WithAutoSignIn] set to another user, SignIn fails rather than sign
// in as that user.
//
//	if err := idp.SignIn(client, app.URL+"/login?organization="+workostest.AcmeOrganizationID, workostest.AliceEmail); err != nil {
//		t.Fatal(err)
//	}
func (s *Server) SignIn(client *http.Client, loginURL, email string) error {
	if client == nil || client.Jar == nil {
		return errors.New("workostest: SignIn needs a client with a cookie jar")
	}
	hop := *client
	hop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	// 1. The app's login path sends the browser to /sso/authorize.
	res, err := navigate(&hop, http.MethodGet, loginURL, nil)
	if err != nil {
		return fmt.Errorf("workostest: sign-in: GET %s: %w", loginURL, err)
	}
	authURL := res.location
	if !isRedirect(res.status) || !strings.HasPrefix(authURL, s.URL+"/sso/authorize?") {
		return fmt.Errorf("workostest: sign-in: GET %s: got %d%s, want a redirect to %s/sso/authorize (does the URL name an organization, connection, provider or email?)",
			loginURL, res.status, res.where(), s.URL)
	}

	// 2. The hosted sign-in page, or with auto sign-in straight back.
	res, err = navigate(&hop, http.MethodGet, authURL, nil)
	if err != nil {
		return fmt.Errorf("workostest: sign-in: GET /sso/authorize: %w", err)
	}
	callback := res.location
	switch {
	case isRedirect(res.status):
		s.mu.Lock()
		auto := s.autoSignIn
		s.mu.Unlock()
		if auto != "" && !strings.EqualFold(auto, email) {
			return fmt.Errorf("workostest: sign-in: the server signs in %s automatically (WithAutoSignIn), not %s", auto, email)
		}
	case res.status == http.StatusOK:
		m := requestField.FindStringSubmatch(res.body)
		if m == nil {
			return errors.New("workostest: sign-in: GET /sso/authorize: the sign-in page holds no request")
		}
		res, err = navigate(&hop, http.MethodPost, s.URL+"/sso/authorize/complete", url.Values{"request": {m[1]}, "email": {email}})
		if err != nil {
			return fmt.Errorf("workostest: sign-in: choosing %s: %w", email, err)
		}
		if !isRedirect(res.status) {
			return fmt.Errorf("workostest: sign-in: choosing %s: got %d%s, want a redirect to the app", email, res.status, res.where())
		}
		callback = res.location
	default:
		return fmt.Errorf("workostest: sign-in: GET /sso/authorize: got %d%s", res.status, res.where())
	}
	if u, err := url.Parse(callback); err == nil {
		if q := u.Query(); q.Get("error") != "" {
			return fmt.Errorf("workostest: sign-in: the emulator sent the browser back with %s: %s", q.Get("error"), q.Get("error_description"))
		}
	}

	// 3. The app's callback exchanges the code and sets the session.
	res, err = navigate(&hop, http.MethodGet, callback, nil)
	if err != nil {
		return fmt.Errorf("workostest: sign-in: GET the app's callback: %w", err)
	}
	if !isRedirect(res.status) {
		return fmt.Errorf("workostest: sign-in: the app's callback answered %d%s, want a redirect into the app", res.status, res.where())
	}
	return nil
}

// hopResult is what one hop of SignIn got back.
type hopResult struct {
	status   int
	location string // resolved against the request URL
	body     string // the first 64 KiB
}

// where describes the answer for an error: its Location, or the start of
// its body.
func (r hopResult) where() string {
	if r.location != "" {
		return " to " + r.location
	}
	// An HTML page is shown as its text.
	body := r.body
	if i := strings.Index(body, "<body"); i >= 0 {
		body = body[i:]
	}
	body = strings.Join(strings.Fields(htmlTag.ReplaceAllString(body, " ")), " ")
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	if body == "" {
		return ""
	}
	return " (" + body + ")"
}

func isRedirect(status int) bool { return status == http.StatusFound || status == http.StatusSeeOther }

// navigate sends a request as a browser's top-level navigation of a link
// (GET) or a form (POST with form).
func navigate(c *http.Client, method, target string, form url.Values) (hopResult, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return hopResult{}, err
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := c.Do(req)
	if err != nil {
		return hopResult{}, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	r := hopResult{status: res.StatusCode, body: string(b)}
	if loc := res.Header.Get("Location"); loc != "" {
		if u, err := req.URL.Parse(loc); err == nil {
			r.location = u.String()
		}
	}
	return r, nil
}

// SignedInRequest returns a request for target (a path, or a URL on the
// app's origin) that carries the session of the seeded user with this
// email, for a handler test with httptest.NewRecorder and no server: it
// signs in through app, the handler that serves the app's login and
// callback (such as the mux a Middleware was mounted on), in process, as
// [Server.SignIn] does over HTTP. loginURL is the app's login URL on the
// origin of its redirect URI, such as
// "https://app.example.com/login?organization=org_acme".
//
// The session is a real one: the app's callback exchanged the server's
// code for it and sealed it with the app's secrets, and the app's gates
// check it as any other. Nothing here can sign anyone in to an app that
// talks to WorkOS: only this server's codes are exchanged.
//
//	req, err := idp.SignedInRequest(mux, "https://app.example.com/login?organization=org_acme", workostest.BobEmail, http.MethodGet, "/admin")
//	if err != nil {
//		t.Fatal(err)
//	}
//	rec := httptest.NewRecorder()
//	mux.ServeHTTP(rec, req)
func (s *Server) SignedInRequest(app http.Handler, loginURL, email, method, target string) (*http.Request, error) {
	base, err := url.Parse(loginURL)
	if err != nil || !base.IsAbs() {
		return nil, errors.New("workostest: SignedInRequest needs an absolute login URL, on the origin of the app's redirect URI")
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	emulator, _ := url.Parse(s.URL)
	client := &http.Client{Jar: jar, Transport: inProcess{app: app, emulator: emulator.Host, next: s.Client().Transport}}
	if err := s.SignIn(client, loginURL, email); err != nil {
		return nil, err
	}
	u, err := base.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("workostest: SignedInRequest: target: %w", err)
	}
	req := httptest.NewRequest(method, u.String(), nil)
	for _, c := range jar.Cookies(u) {
		req.AddCookie(c)
	}
	return req, nil
}

// inProcess sends the requests for the emulator to it and serves every
// other one with app, in process.
type inProcess struct {
	app      http.Handler
	emulator string // host:port
	next     http.RoundTripper
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == t.emulator {
		return t.next.RoundTrip(req)
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "192.0.2.1:1234"
	in.Host = req.URL.Host
	if req.URL.Scheme == "https" {
		in.TLS = &tls.ConnectionState{}
	}
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.app.ServeHTTP(rec, in)
	res := rec.Result()
	res.Request = req
	return res, nil
}

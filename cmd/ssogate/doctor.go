package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

// maxClockSkew is how far the machine's clock may be from WorkOS's: webhook
// signatures are refused beyond 180 s.
const maxClockSkew = 180 * time.Second

// placeholders are cookie secrets copied from documentation, not made.
var placeholders = []string{"changeme", "change-me", "secret", "password", "example", "your-", "xxxx", "0000", "1234"}

// check is one line of the doctor's report.
type check struct {
	name    string
	ok      bool
	skipped bool   // not checked: neither passed nor failed
	msg     string // what was found, what to fix, or why it was skipped
}

// skip returns a check that was not made, and why.
func skip(name, why string) check { return check{name: name, skipped: true, msg: "skipped: " + why} }

// runDoctor checks the environment an app reads, as the examples do, and
// prints one line per check. It fails if any check does.
func runDoctor(ctx context.Context, args []string, e env) error {
	fs := newFlags(e, "doctor", "doctor [-organization org_... | -connection conn_...]",
		`  WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... WORKOS_REDIRECT_URI=https://app.example.com/callback \
  WORKOS_COOKIE_PASSWORD=... WORKOS_WEBHOOK_SECRET=... ssogate doctor -organization org_01H...

It reads WORKOS_API_KEY, WORKOS_CLIENT_ID, WORKOS_BASE_URL, WORKOS_REDIRECT_URI,
WORKOS_COOKIE_PASSWORD and WORKOS_WEBHOOK_SECRET, and never prints a secret.`)
	org := fs.String("organization", "", "organization whose sign-in to try at WorkOS's authorize endpoint")
	conn := fs.String("connection", "", "connection whose sign-in to try (instead of -organization)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *org != "" && *conn != "" {
		return usagef("doctor takes no arguments, and at most one of -organization and -connection")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	d := &doctor{e: e, ctx: ctx}
	d.http = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Each check may depend on those before it: nothing is sent to a base
	// URL that was refused, nor with a key that was.
	checks := []check{d.baseURL(), d.apiKey(), d.clientID(), d.redirectURI(), d.authorize(*org, *conn), d.cookieSecret(), d.webhookSecret(), d.clock()}
	failed, skipped := 0, 0
	for _, c := range checks {
		mark := "ok  "
		switch {
		case c.skipped:
			mark = "skip"
			skipped++
		case !c.ok:
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(e.stdout, "%s  %-16s %s\n", mark, c.name, terminalText(c.msg))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, len(checks))
	}
	if skipped > 0 {
		fmt.Fprintf(e.stdout, "All checks made passed; %d skipped.\n", skipped)
		return nil
	}
	fmt.Fprintln(e.stdout, "All checks passed.")
	return nil
}

type doctor struct {
	e    env
	ctx  context.Context
	http *http.Client
	// base is the checked base URL, "" when it was refused; local says it
	// is a loopback address, where an emulator may listen.
	base  string
	local bool
	// keyOK says the API key was accepted.
	keyOK bool
	// date is the Date header of a WorkOS answer, for the clock check.
	date time.Time
}

// baseURL checks WORKOS_BASE_URL: the API key goes there, so it must be
// https, or http to this machine only, and hold no credentials.
func (d *doctor) baseURL() check {
	c := check{name: "base URL"}
	v := cmp.Or(d.e.getenv("WORKOS_BASE_URL"), "https://api.workos.com")
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		c.msg = "WORKOS_BASE_URL is not an absolute https URL"
	case u.User != nil:
		u.User = nil
		c.msg = "WORKOS_BASE_URL holds credentials (user:password@): remove them; WorkOS takes the API key only (" + u.String() + ")"
	case u.RawQuery != "" || u.Fragment != "":
		c.msg = "WORKOS_BASE_URL must have no query or fragment"
	case u.Scheme == "http" && !isLocalhost(u.Hostname()):
		c.msg = "WORKOS_BASE_URL is http outside this machine: the API key would travel in clear; use https"
	default:
		d.base, d.local = strings.TrimRight(v, "/"), isLocalhost(u.Hostname())
		c.ok, c.msg = true, d.base
	}
	return c
}

func (d *doctor) apiKey() check {
	c := check{name: "API key"}
	key := d.e.getenv("WORKOS_API_KEY")
	switch {
	case key == "":
		c.msg = "WORKOS_API_KEY is not set: copy it from the WorkOS dashboard (API keys)"
		return c
	case !strings.HasPrefix(key, "sk_") || strings.ContainsAny(key, " \t\n"):
		c.msg = "WORKOS_API_KEY does not look like an API key (sk_...)"
		return c
	case d.base == "":
		return skip(c.name, "the base URL was refused")
	case key == workostest.DefaultAPIKey && !d.local:
		c.msg = "WORKOS_API_KEY is the emulator's well-known key, which everyone knows: set this environment's key"
		return c
	}
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, d.base+"/connections?limit=1", nil)
	if err != nil {
		c.msg = "WORKOS_BASE_URL is not a URL"
		return c
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := d.http.Do(req)
	if err != nil {
		c.msg = "WorkOS could not be reached at " + d.base + ": " + errorText(err)
		return c
	}
	res.Body.Close()
	d.date, _ = http.ParseTime(res.Header.Get("Date"))
	switch {
	case res.StatusCode == http.StatusOK:
		d.keyOK = true
		c.ok, c.msg = true, "accepted by "+d.base
		if key == workostest.DefaultAPIKey {
			c.msg += " (the emulator's well-known key: for development only)"
		}
	case res.StatusCode == http.StatusUnauthorized:
		c.msg = "refused by WorkOS (401): check that it is this environment's key, and not revoked"
	default:
		c.msg = fmt.Sprintf("WorkOS answered %d to a connections listing (request id %s)", res.StatusCode, res.Header.Get("X-Request-ID"))
	}
	return c
}

// clientID checks WORKOS_CLIENT_ID against WorkOS: a code exchange with a
// made-up code answers invalid_grant when the client ID and the API key
// belong together, and invalid_client when they do not. It signs no one in.
func (d *doctor) clientID() check {
	c := check{name: "client ID"}
	id := d.e.getenv("WORKOS_CLIENT_ID")
	switch {
	case id == "":
		c.msg = "WORKOS_CLIENT_ID is not set: copy it from the WorkOS dashboard"
		return c
	case !strings.HasPrefix(id, "client_") || strings.ContainsAny(id, " \t\n"):
		c.msg = "WORKOS_CLIENT_ID does not look like a client ID (client_...)"
		return c
	case id == workostest.DefaultClientID && !d.local:
		c.msg = "WORKOS_CLIENT_ID is the emulator's: set this environment's client ID"
		return c
	case !d.keyOK:
		return skip(c.name, "checking it at WorkOS needs an accepted API key")
	}
	form := url.Values{
		"client_id": {id}, "client_secret": {d.e.getenv("WORKOS_API_KEY")},
		"grant_type": {"authorization_code"}, "code": {"ssogate-doctor-probe"},
	}
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, d.base+"/sso/token", strings.NewReader(form.Encode()))
	if err != nil {
		c.msg = "WORKOS_BASE_URL is not a URL"
		return c
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := d.http.Do(req)
	if err != nil {
		c.msg = "WorkOS's token endpoint could not be reached: " + errorText(err)
		return c
	}
	defer res.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(res.Body, 4096)).Decode(&e)
	switch e.Error {
	case "invalid_grant":
		c.ok, c.msg = true, id+", accepted by WorkOS with this API key"
	case "invalid_client", "unauthorized_client":
		c.msg = "WorkOS does not know " + id + " with this API key (" + e.Error + "): copy both from the same environment of the dashboard"
	default:
		c.msg = fmt.Sprintf("WorkOS answered %d to a test code exchange (request id %s)", res.StatusCode, res.Header.Get("X-Request-ID"))
	}
	return c
}

func (d *doctor) redirectURI() check {
	c := check{name: "redirect URI"}
	v := d.e.getenv("WORKOS_REDIRECT_URI")
	u, err := url.Parse(v)
	switch {
	case v == "":
		c.msg = "WORKOS_REDIRECT_URI is not set: the absolute URL of the app's callback, such as https://app.example.com/callback"
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "":
		c.msg = "WORKOS_REDIRECT_URI must be an absolute http(s) URL without a fragment"
	case u.Scheme == "http" && !isLocalhost(u.Hostname()):
		c.msg = "WORKOS_REDIRECT_URI must be https outside localhost (session cookies would travel in clear)"
	default:
		c.ok, c.msg = true, v
	}
	return c
}

// authorize asks WorkOS's authorize endpoint for a sign-in, without a
// browser, and reports what it says of the redirect URI and the selector.
func (d *doctor) authorize(org, conn string) check {
	c := check{name: "sign-in"}
	switch {
	case org == "" && conn == "":
		return skip(c.name, "name -organization or -connection to try a sign-in at WorkOS")
	case d.base == "":
		return skip(c.name, "the base URL was refused")
	}
	q := url.Values{
		"client_id":     {d.e.getenv("WORKOS_CLIENT_ID")},
		"redirect_uri":  {d.e.getenv("WORKOS_REDIRECT_URI")},
		"response_type": {"code"},
		"state":         {"ssogate-doctor"},
	}
	if org != "" {
		q.Set("organization", org)
	} else {
		q.Set("connection", conn)
	}
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, d.base+"/sso/authorize?"+q.Encode(), nil)
	if err != nil {
		c.msg = "WORKOS_BASE_URL is not a URL"
		return c
	}
	req.Header.Set("Accept", "application/json")
	res, err := d.http.Do(req)
	if err != nil {
		c.msg = "WorkOS's authorize endpoint could not be reached: " + errorText(err)
		return c
	}
	body := make([]byte, 4096)
	n, _ := res.Body.Read(body)
	res.Body.Close()
	loc, _ := res.Location()
	redirect := d.e.getenv("WORKOS_REDIRECT_URI")
	switch {
	case res.StatusCode == http.StatusFound && loc != nil && strings.HasPrefix(loc.String(), redirect) && loc.Query().Get("error") != "":
		c.msg = fmt.Sprintf("WorkOS refused the sign-in: %s (%s)", terminalText(oneLine(loc.Query().Get("error"))), terminalText(oneLine(loc.Query().Get("error_description"))))
	case res.StatusCode == http.StatusFound && loc != nil:
		c.ok, c.msg = true, "WorkOS accepts the redirect URI and sends the sign-in to "+loc.Host
	case res.StatusCode == http.StatusOK:
		c.ok, c.msg = true, "WorkOS accepts the redirect URI and shows its sign-in page"
	default:
		var e struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
			Message          string `json:"message"`
		}
		json.Unmarshal(body[:n], &e)
		what := strings.TrimSpace(e.Error + ": " + cmp.Or(e.ErrorDescription, e.Message))
		if e.Error == "" {
			what = oneLine(string(body[:n]))
		}
		hint := ""
		switch {
		case strings.Contains(e.Error, "client"):
			hint = " (check WORKOS_CLIENT_ID)"
		case strings.Contains(e.Error, "redirect"):
			hint = " (is the redirect URI registered in the dashboard?)"
		}
		c.msg = fmt.Sprintf("WorkOS answered %d: %s%s", res.StatusCode, terminalText(oneLine(what)), hint)
	}
	return c
}

func (d *doctor) cookieSecret() check {
	c := check{name: "cookie secret"}
	v := d.e.getenv("WORKOS_COOKIE_PASSWORD")
	lower := strings.ToLower(v)
	switch {
	case v == "":
		c.msg = `WORKOS_COOKIE_PASSWORD is not set: export WORKOS_COOKIE_PASSWORD="$(ssogate secret)"`
	case len(v) < 32:
		c.msg = fmt.Sprintf("WORKOS_COOKIE_PASSWORD has %d bytes, want at least 32: make one with ssogate secret", len(v))
	case strings.Count(v, v[:1]) == len(v) || containsAny(lower, placeholders):
		c.msg = "WORKOS_COOKIE_PASSWORD looks like a placeholder: make one with ssogate secret"
	default:
		c.ok, c.msg = true, fmt.Sprintf("set, %d bytes", len(v))
	}
	return c
}

func (d *doctor) webhookSecret() check {
	c := check{name: "webhook secret"}
	if d.e.getenv("WORKOS_WEBHOOK_SECRET") == "" {
		c.msg = "WORKOS_WEBHOOK_SECRET is not set: without the webhook, deactivated connections keep routing until the cache expires, and their sessions are not revoked"
		return c
	}
	c.ok, c.msg = true, "set"
	return c
}

func (d *doctor) clock() check {
	c := check{name: "clock"}
	if d.date.IsZero() {
		return skip(c.name, "no answer from WorkOS with a Date to compare with")
	}
	skew := time.Since(d.date).Round(time.Second)
	if skew < -maxClockSkew-time.Second || skew > maxClockSkew+time.Second {
		c.msg = fmt.Sprintf("this machine's clock is %v off WorkOS's: webhook signatures allow 180 s; run NTP", skew)
		return c
	}
	c.ok, c.msg = true, fmt.Sprintf("within %v of WorkOS's", max(skew, -skew)+time.Second)
	return c
}

func isLocalhost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// errorText describes a transport error without the request's URL, which
// holds no secret here but is long.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

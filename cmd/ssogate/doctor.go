package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxClockSkew is how far the machine's clock may be from WorkOS's: webhook
// signatures are refused beyond 180 s.
const maxClockSkew = 180 * time.Second

// placeholders are cookie secrets copied from documentation, not made.
var placeholders = []string{"changeme", "change-me", "secret", "password", "example", "your-", "xxxx", "0000", "1234"}

// check is one line of the doctor's report.
type check struct {
	name string
	ok   bool
	msg  string // what was found, or what to fix
}

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
	d := &doctor{e: e, ctx: ctx, base: strings.TrimRight(e.getenv("WORKOS_BASE_URL"), "/")}
	if d.base == "" {
		d.base = "https://api.workos.com"
	}
	d.http = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	checks := []check{d.apiKey(), d.clientID(), d.redirectURI(), d.authorize(*org, *conn), d.cookieSecret(), d.webhookSecret(), d.clock()}
	failed := 0
	for _, c := range checks {
		mark := "ok  "
		if !c.ok {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(e.stdout, "%s  %-16s %s\n", mark, c.name, c.msg)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, len(checks))
	}
	fmt.Fprintln(e.stdout, "All checks passed.")
	return nil
}

type doctor struct {
	e    env
	ctx  context.Context
	base string
	http *http.Client
	// date is the Date header of a WorkOS answer, for the clock check.
	date time.Time
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
		c.ok, c.msg = true, "accepted by "+d.base
	case res.StatusCode == http.StatusUnauthorized:
		c.msg = "refused by WorkOS (401): check that it is this environment's key, and not revoked"
	default:
		c.msg = fmt.Sprintf("WorkOS answered %d to a connections listing (request id %s)", res.StatusCode, res.Header.Get("X-Request-ID"))
	}
	return c
}

func (d *doctor) clientID() check {
	c := check{name: "client ID"}
	switch id := d.e.getenv("WORKOS_CLIENT_ID"); {
	case id == "":
		c.msg = "WORKOS_CLIENT_ID is not set: copy it from the WorkOS dashboard"
	case !strings.HasPrefix(id, "client_"):
		c.msg = "WORKOS_CLIENT_ID does not look like a client ID (client_...)"
	default:
		c.ok, c.msg = true, id
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
	if org == "" && conn == "" {
		c.ok, c.msg = true, "skipped: name -organization or -connection to try a sign-in at WorkOS"
		return c
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
		c.msg = fmt.Sprintf("WorkOS answered %d: %s (is the redirect URI registered in the dashboard?)", res.StatusCode, terminalText(oneLine(what)))
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
		c.msg = "no Date header from WorkOS to compare with"
		return c
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

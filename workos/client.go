package workos

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/ssogate/ssogate/internal/sanitize"
)

// Version is the version of the ssogate module, which this package is part
// of. Every request to WorkOS carries it in its User-Agent header, as
// "ssogate/<Version>".
const Version = "0.1.0"

const (
	userAgent      = "ssogate/" + Version
	defaultBaseURL = "https://api.workos.com"
	defaultTimeout = 60 * time.Second
)

// ClientConfig configures a [Client]. Pass it to [NewClient].
type ClientConfig struct {
	// APIKey is the WorkOS API key (sk_...). Required: there is no default.
	APIKey string
	// ClientID is the WorkOS client ID (client_...). Required: there is no default.
	ClientID string
	// BaseURL is the base URL of the WorkOS API, an absolute https URL (or
	// http to a loopback address, such as a local emulator) without
	// credentials, query or fragment. The default is https://api.workos.com.
	BaseURL string
	// HTTPClient sends the requests. The default is a client of ssogate's
	// own (not http.DefaultClient) with a 60-second timeout. The Client uses
	// a copy that never follows redirects: the WorkOS API does not redirect,
	// and following one would replay the API key to wherever it points.
	HTTPClient *http.Client
	// Logger receives a debug record for every request attempt and a
	// warning when a request is given up after retrying. Records never hold
	// keys, tokens, codes, verifiers, states, query strings or bodies. The
	// default discards everything.
	Logger *slog.Logger
	// Retry says which failed requests are retried and how. The zero value
	// is the default policy described at [RetryPolicy].
	Retry RetryPolicy
	// Observer receives every call: its route, status, duration and
	// attempts. Default: none, and each call reports to the Observer of
	// its context, if any (see [WithObserver]).
	Observer *Observer
}

// Client talks to the WorkOS API over HTTP. It is safe for concurrent use.
// Create one with [NewClient]; the package doc says where its behaviour
// departs from what WorkOS's answers might suggest, and why.
type Client struct {
	apiKey   string
	clientID string
	baseURL  string // without a trailing slash
	http     *http.Client
	logger   *slog.Logger
	retry    RetryPolicy
	obs      *Observer

	// Seams for tests; NewClient sets the real ones.
	sleep             func(ctx context.Context, d time.Duration) error
	randN             func(n int64) int64 // uniform in [0, n)
	now               func() time.Time
	newIdempotencyKey func() string
}

// NewClient returns a Client for cfg. A missing or malformed setting is
// reported as a [*ConfigError] naming the field; the error never repeats
// the API key.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := checkCredential("ClientConfig.APIKey", cfg.APIKey, "sk_"); err != nil {
		return nil, err
	}
	if err := checkCredential("ClientConfig.ClientID", cfg.ClientID, "client_"); err != nil {
		return nil, err
	}
	base := cfg.BaseURL
	if base == "" {
		base = defaultBaseURL
	}
	if problem := checkBaseURL(base); problem != "" {
		return nil, &ConfigError{Field: "ClientConfig.BaseURL", Problem: problem}
	}
	retry, err := cfg.Retry.withDefaults()
	if err != nil {
		return nil, err
	}
	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	} else {
		hc.Timeout = defaultTimeout
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		apiKey:            cfg.APIKey,
		clientID:          cfg.ClientID,
		baseURL:           strings.TrimRight(base, "/"),
		http:              &hc,
		logger:            logger,
		retry:             retry,
		sleep:             sleepContext,
		randN:             mathrand.Int64N,
		now:               time.Now,
		newIdempotencyKey: newIdempotencyKey,
		obs:               cfg.Observer,
	}
	return c, nil
}

// checkCredential checks a key or id: present, with the right prefix, and
// free of characters that cannot travel in a header or form.
func checkCredential(field, v, prefix string) error {
	switch {
	case v == "":
		return &ConfigError{Field: field, Problem: "is required"}
	case !strings.HasPrefix(v, prefix):
		return &ConfigError{Field: field, Problem: "must start with " + prefix}
	case strings.IndexFunc(v, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || unicode.IsSpace(r) }) >= 0:
		return &ConfigError{Field: field, Problem: "must contain only printable ASCII characters"}
	}
	return nil
}

// loopbackHost reports whether host is localhost, a name under .localhost
// or a loopback address.
func loopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkBaseURL returns what is wrong with a base URL, or "".
func checkBaseURL(v string) string {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "is not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute http or https URL"
	case u.Host == "":
		return "must have a host"
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		// The API key travels in every request: in clear only to this
		// machine, such as a local emulator.
		return "must be https, or http only to a loopback address (such as a local emulator): the API key would travel in clear"
	case u.User != nil:
		return "must not contain credentials"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query"
	case u.Fragment != "" || strings.Contains(v, "#"):
		return "must not have a fragment"
	}
	return ""
}

func invalidOptions(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// ClientID returns the WorkOS client ID the client was made with.
func (c *Client) ClientID() string { return c.clientID }

// call describes one WorkOS API request.
type call struct {
	route  string // method and path pattern, for observers
	method string
	path   string     // the API path, without query; used in errors and logs
	query  url.Values // never logged nor put in errors: it can hold emails
	form   url.Values // a form body
	json   any        // a JSON body
	// bearer authorizes the request; the API key if empty.
	bearer string
	// idempotent reports whether the request is safe to repeat after it
	// reached WorkOS. GET and DELETE always are.
	idempotent bool
	// secrets are values of the request that must not appear in errors.
	secrets []string
}

// outcome is the result of one attempt at a call.
type outcome struct {
	err           error // nil on success
	status        int   // 0 if no response arrived
	requestID     string
	retryable     bool
	retryAfter    time.Duration
	hasRetryAfter bool
	attempts      int // set by send
}

// do sends r, retrying as the client's [RetryPolicy] allows, and decodes a
// successful response's JSON body into out, if out is not nil. It reports
// the call to the client's [Observer], or else to the context's.
func (c *Client) do(ctx context.Context, r *call, out any) error {
	obs := c.obs
	if obs == nil {
		obs, _ = ctx.Value(observerKey{}).(*Observer)
	}
	if obs == nil || obs.CallStart == nil && obs.CallDone == nil {
		var last outcome
		return c.send(ctx, r, out, &last)
	}
	if obs.CallStart != nil {
		ctx = obs.CallStart(ctx, r.route)
	}
	start := c.now()
	var last outcome
	err := c.send(ctx, r, out, &last)
	if obs.CallDone != nil {
		info := CallInfo{
			Route: r.route, Status: last.status, RequestID: last.requestID,
			Attempts: last.attempts, Duration: c.now().Sub(start), Err: err,
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			info.Code = knownCode(apiErr.Code)
		}
		obs.CallDone(ctx, info)
	}
	return err
}

// send is do without the observer; last is the last attempt's outcome.
func (c *Client) send(ctx context.Context, r *call, out any, last *outcome) error {
	var body []byte
	var contentType string
	switch {
	case r.form != nil:
		body, contentType = []byte(r.form.Encode()), "application/x-www-form-urlencoded"
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			return fmt.Errorf("workos: %s %s: encoding request: %w", r.method, r.path, err)
		}
		body, contentType = b, "application/json"
	}
	if r.method == http.MethodGet || r.method == http.MethodDelete {
		r.idempotent = true
	}
	var idempotencyKey string
	if r.method == http.MethodPost {
		// One key for every attempt, so WorkOS can recognize a repeat.
		idempotencyKey = c.newIdempotencyKey()
	}
	secrets := append([]string{c.apiKey, r.bearer}, r.secrets...)

	for attempt := 0; ; attempt++ {
		o := c.attempt(ctx, r, body, contentType, idempotencyKey, secrets, out)
		o.attempts = attempt + 1
		*last = o
		attrs := []slog.Attr{
			slog.String("method", r.method),
			slog.String("path", r.path),
			slog.Int("attempt", attempt+1),
			slog.Int("status", o.status),
			slog.String("request_id", o.requestID),
		}
		if o.err == nil || !o.retryable || ctx.Err() != nil {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "workos: request", attrs...)
			return o.err
		}
		giveUp := func(reason string) error {
			attrs = append(attrs, slog.String("reason", reason), slog.String("error", o.err.Error()))
			c.logger.LogAttrs(ctx, slog.LevelWarn, "workos: request failed, giving up", attrs...)
			return o.err
		}
		if attempt >= c.retry.MaxRetries {
			return giveUp("retries exhausted")
		}
		wait := c.retry.backoff(attempt, c.randN)
		if o.hasRetryAfter && o.retryAfter > 0 {
			if o.retryAfter > c.retry.MaxRetryAfter {
				return giveUp("Retry-After exceeds MaxRetryAfter")
			}
			wait = o.retryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && c.now().Add(wait).After(deadline) {
			return giveUp("the wait would pass the context deadline")
		}
		attrs = append(attrs, slog.Duration("wait", wait))
		c.logger.LogAttrs(ctx, slog.LevelDebug, "workos: request", attrs...)
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("workos: %s %s: waiting to retry: %w (last error: %w)", r.method, r.path, err, o.err)
		}
	}
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r *call, body []byte, contentType, idempotencyKey string, secrets []string, out any) outcome {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("workos: %s %s: "+format, append([]any{r.method, r.path}, args...)...)
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
		if !r.idempotent {
			// Hide the body's type so that the request has no GetBody:
			// net/http would otherwise replay a request carrying an
			// Idempotency-Key on its own after a broken connection, when
			// it may already have reached WorkOS.
			rd = struct{ io.Reader }{rd}
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, rd)
	if err != nil {
		return outcome{err: fail("building request: %w", stripURLError(err))}
	}
	if body != nil {
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", contentType)
	}
	bearer := r.bearer
	if bearer == "" {
		bearer = c.apiKey
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		// The request may or may not have reached WorkOS; only a failure
		// to connect proves it did not.
		return outcome{
			err:       fail("%w", stripURLError(err)),
			retryable: r.idempotent || notSent(err),
		}
	}
	defer resp.Body.Close()
	o := outcome{status: resp.StatusCode, requestID: sanitize.Text(resp.Header.Get("X-Request-ID"), maxRequestIDLen, secrets)}

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody+1))
		switch {
		case err != nil:
			o.err = fail("reading response: %w", err)
			o.retryable = r.idempotent
		case len(data) > maxSuccessBody:
			o.err = fail("response larger than %d bytes", maxSuccessBody)
		case out != nil:
			if err := json.Unmarshal(data, out); err != nil {
				o.err = fail("decoding response: %w", err)
			}
		}
		return o
	}

	// A failed read leaves a shorter body, which decodes as well as it can.
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	apiErr := buildAPIError(r.method, r.path, resp.StatusCode, resp.Header, data, c.now(), secrets)
	o.err = apiErr
	o.retryable = retryableStatus(resp.StatusCode, r.idempotent)
	o.retryAfter = apiErr.RetryAfter
	_, o.hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	return o
}

// stripURLError unwraps the *url.Error that net/http wraps around request
// failures: its text repeats the whole URL, query included, which can hold
// emails and other search terms.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// newIdempotencyKey returns a random version 4 UUID.
func newIdempotencyKey() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

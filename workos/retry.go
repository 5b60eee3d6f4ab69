package workos

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RetryPolicy says how a [Client] retries requests that failed for reasons
// that may pass: rate limiting (429), WorkOS server errors (500, 502, 503,
// 504) and network failures. A request is retried only when repeating it is
// safe: GET and DELETE requests, and POST requests carrying an
// Idempotency-Key. The code exchange is the exception: a code is single-use
// and a failed exchange may already have consumed it, so POST /sso/token is
// retried only on 429 and when the connection could not be opened at all.
//
// Waits grow exponentially (MinBackoff, twice that, four times, ...) up to
// MaxBackoff, each drawn at random from its upper half so that many clients
// do not retry in step. When WorkOS sends a positive Retry-After, that wait
// is used as given. If it is longer than MaxRetryAfter, or any wait would end after the
// context's deadline, the client does not wait at all: it returns the last
// error at once (an [*APIError] whose RetryAfter says how long WorkOS asked
// for), since sleeping until a request can no longer succeed helps no one.
// Every wait ends early when the context is done.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt. The
	// default (0) is 5; a negative value disables retries.
	MaxRetries int
	// MinBackoff is the base of the exponential backoff. The default (0) is 1s.
	MinBackoff time.Duration
	// MaxBackoff caps each backoff wait. The default (0) is 30s.
	MaxBackoff time.Duration
	// MaxRetryAfter caps the Retry-After a client will honour; a longer one
	// ends the retries. The default (0) is 60s.
	MaxRetryAfter time.Duration
}

// Defaults of [RetryPolicy].
const (
	defaultMaxRetries    = 5
	defaultMinBackoff    = time.Second
	defaultMaxBackoff    = 30 * time.Second
	defaultMaxRetryAfter = 60 * time.Second
)

// withDefaults returns p with its zero fields set to their defaults, or a
// *ConfigError naming the first malformed field.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	switch {
	case p.MinBackoff < 0:
		return p, &ConfigError{Field: "ClientConfig.Retry.MinBackoff", Problem: "must not be negative"}
	case p.MaxBackoff < 0:
		return p, &ConfigError{Field: "ClientConfig.Retry.MaxBackoff", Problem: "must not be negative"}
	case p.MaxRetryAfter < 0:
		return p, &ConfigError{Field: "ClientConfig.Retry.MaxRetryAfter", Problem: "must not be negative"}
	}
	if p.MaxRetries == 0 {
		p.MaxRetries = defaultMaxRetries
	} else if p.MaxRetries < 0 {
		p.MaxRetries = 0
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = defaultMinBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = max(defaultMaxBackoff, p.MinBackoff)
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = defaultMaxRetryAfter
	}
	if p.MaxBackoff < p.MinBackoff {
		return p, &ConfigError{Field: "ClientConfig.Retry.MaxBackoff", Problem: "must not be less than MinBackoff"}
	}
	return p, nil
}

// backoff returns the wait before retry number attempt+1: a random duration
// in the upper half of MinBackoff·2^attempt, capped at MaxBackoff ("equal
// jitter"). randN returns a number in [0, n).
func (p RetryPolicy) backoff(attempt int, randN func(n int64) int64) time.Duration {
	d := p.MinBackoff
	for i := 0; i < attempt && d < p.MaxBackoff; i++ {
		if d > p.MaxBackoff/2 {
			d = p.MaxBackoff
			break
		}
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	half := d / 2
	return half + time.Duration(randN(int64(d-half)+1))
}

// retryableStatus reports whether a response with the given status may be
// retried. idempotent says whether the request is safe to repeat after it
// reached WorkOS.
func retryableStatus(status int, idempotent bool) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return idempotent
	}
	return false
}

// notSent reports whether a transport error shows that the request never
// reached the server: the connection could not be opened.
func notSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// maxRetryAfterSeconds bounds a delta-seconds Retry-After so that it fits a
// time.Duration; any such value is far above every sensible cap.
const maxRetryAfterSeconds = 1 << 32

// parseRetryAfter parses a Retry-After header value: delta-seconds or an
// HTTP-date, relative to now. A date in the past means no wait. The result
// is never negative; ok is false when v is empty or malformed.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > maxRetryAfterSeconds { // only overflow is possible
			n = maxRetryAfterSeconds
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// sleepContext waits for d or until ctx is done, whichever comes first, and
// returns ctx.Err() in the second case.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package workos

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Event is a WorkOS event, as delivered to a webhook endpoint.
type Event struct {
	// ID is the event's id (event_...).
	ID string `json:"id"`
	// Event is the event type, such as "connection.activated".
	Event string `json:"event"`
	// Data is the object the event is about, such as a [Connection].
	Data json.RawMessage `json:"data"`
	// CreatedAt is when the event happened.
	CreatedAt time.Time `json:"created_at"`
}

// The connection events.
const (
	EventConnectionActivated   = "connection.activated"
	EventConnectionDeactivated = "connection.deactivated"
	EventConnectionDeleted     = "connection.deleted"
)

// Errors of webhook verification.
var (
	// ErrSignatureMalformed: the WorkOS-Signature header is missing or is
	// not of the form "t=<unix ms>, v1=<hex>".
	ErrSignatureMalformed = errors.New("workos: malformed webhook signature")
	// ErrSignatureInvalid: the signature does not match the body and the
	// secret, or its timestamp is outside the tolerance.
	ErrSignatureInvalid = errors.New("workos: invalid webhook signature")
)

// Bounds on a WorkOS-Signature header.
const (
	maxSignatureHeaderLen = 1024
	maxSignatureParts     = 16
)

// VerifyWebhook checks a WorkOS-Signature header against the raw request
// body: the header's timestamp (unix milliseconds) must be within tolerance
// of now, and one of its v1 signatures must be the hex HMAC-SHA256 of
// "<timestamp>.<body>" under secret. It returns an error matching
// [ErrSignatureMalformed] or [ErrSignatureInvalid].
func VerifyWebhook(body []byte, header, secret string, now time.Time, tolerance time.Duration) error {
	ts, sigs, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	if secret == "" {
		return ErrSignatureInvalid
	}
	skew := now.Sub(time.UnixMilli(ts))
	if skew > tolerance || skew < -tolerance {
		return ErrSignatureInvalid
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	want := mac.Sum(nil)
	ok := false
	for _, sig := range sigs {
		// Every candidate is compared, in constant time, whatever the
		// outcome of the others.
		if hmac.Equal(sig, want) {
			ok = true
		}
	}
	if !ok {
		return ErrSignatureInvalid
	}
	return nil
}

// parseSignatureHeader splits "t=<unix ms>, v1=<hex>[, v1=<hex>...]" into
// its timestamp and signatures: parts split on commas and trimmed, each
// split on its first '='. Exactly one t is required, and at least one v1 of
// 64 hex digits; other keys are ignored, for versions to come.
func parseSignatureHeader(h string) (int64, [][]byte, error) {
	if h == "" || len(h) > maxSignatureHeaderLen {
		return 0, nil, ErrSignatureMalformed
	}
	var (
		ts    int64
		hasTS bool
		sigs  [][]byte
	)
	parts := strings.Split(h, ",")
	if len(parts) > maxSignatureParts {
		return 0, nil, ErrSignatureMalformed
	}
	for _, part := range parts {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, ErrSignatureMalformed
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if hasTS || err != nil || n <= 0 || len(v) > 16 || v[0] == '+' {
				return 0, nil, ErrSignatureMalformed
			}
			ts, hasTS = n, true
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return 0, nil, ErrSignatureMalformed
			}
			sigs = append(sigs, sig)
		}
	}
	if !hasTS || len(sigs) == 0 {
		return 0, nil, ErrSignatureMalformed
	}
	return ts, sigs, nil
}

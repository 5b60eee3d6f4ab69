package ssogate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of webhook verification.
var (
	// ErrSignatureMalformed: the WorkOS-Signature header is missing or is
	// not of the form "t=<unix ms>, v1=<hex>".
	ErrSignatureMalformed = errors.New("ssogate: malformed webhook signature")
	// ErrSignatureInvalid: the signature does not match the body and the
	// secret, or its timestamp is outside the tolerance.
	ErrSignatureInvalid = errors.New("ssogate: invalid webhook signature")
)

// Defaults of [WebhookConfig].
const (
	DefaultWebhookTolerance    = 180 * time.Second
	DefaultWebhookMaxBodyBytes = 1 << 20
)

// Bounds on a WorkOS-Signature header.
const (
	maxSignatureHeaderLen = 1024
	maxSignatureParts     = 16
)

// WebhookConfig configures [NewWebhookHandler].
type WebhookConfig struct {
	// Secret is the webhook endpoint's signing secret, from the WorkOS
	// dashboard. Required.
	Secret string
	// Cache, if set, is kept up to date with connection events: see
	// [ConnectionCache.ApplyEvent]. Pass the cache of the [Middleware]
	// ([Middleware.Connections]): the Middleware then also shares each
	// event with the other replicas through its [Backplane], and revokes
	// the sessions of a connection deactivated or deleted. An event that
	// could not be shared is answered 500, so that WorkOS delivers it again.
	Cache *ConnectionCache
	// OnEvent, if set, is called with every verified event, after Cache has
	// applied it. An error makes the handler answer 500, so that WorkOS
	// delivers the event again later.
	OnEvent func(ctx context.Context, ev *Event) error
	// Tolerance is how far the signature's timestamp may be from now, in
	// either direction. Default 180 s.
	Tolerance time.Duration
	// MaxBodyBytes bounds the request body; a larger one is refused with
	// 413. Default 1 MiB.
	MaxBodyBytes int64
	// Observer receives every delivery (WebhookDone). Default: the
	// Observer of Cache, if it has one.
	Observer *Observer
	// Logger receives a warning for each refused request, with the reason
	// but never the body or the signature. Default slog.Default().
	Logger *slog.Logger

	// now replaces the clock in tests.
	now func() time.Time
}

// NewWebhookHandler returns a handler for WorkOS's webhook deliveries, to
// mount at the endpoint URL registered in the WorkOS dashboard, such as
// /webhooks/workos.
//
// Nothing is acted on before it is verified: the WorkOS-Signature header
// must hold a timestamp within the tolerance and an HMAC-SHA256 of
// "<timestamp>.<body>" under the secret, compared in constant time. A
// malformed request gets 400, a wrong or stale signature 401, a body over
// the limit 413, and anything but POST 405. A verified event is applied to
// the cache and handed to OnEvent; events of types that neither acts on are
// acknowledged with 200 all the same, as WorkOS expects.
func NewWebhookHandler(cfg WebhookConfig) (http.Handler, error) {
	if cfg.Secret == "" {
		return nil, &ConfigError{Field: "WebhookConfig.Secret", Problem: "required"}
	}
	switch {
	case cfg.Tolerance == 0:
		cfg.Tolerance = DefaultWebhookTolerance
	case cfg.Tolerance < 0:
		return nil, &ConfigError{Field: "WebhookConfig.Tolerance", Problem: "must not be negative"}
	}
	switch {
	case cfg.MaxBodyBytes == 0:
		cfg.MaxBodyBytes = DefaultWebhookMaxBodyBytes
	case cfg.MaxBodyBytes < 0:
		return nil, &ConfigError{Field: "WebhookConfig.MaxBodyBytes", Problem: "must not be negative"}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	return &webhookHandler{cfg: cfg}, nil
}

type webhookHandler struct {
	cfg WebhookConfig
}

func (h *webhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var info WebhookInfo
	status, reason, err := h.handle(w, r, &info)
	info.Status, info.Reason = status, reason
	obs := h.cfg.Observer
	if obs == nil && h.cfg.Cache != nil {
		obs = h.cfg.Cache.obs.Load()
	}
	if obs != nil && obs.WebhookDone != nil {
		defer obs.WebhookDone(r.Context(), info)
	}
	if status == http.StatusOK {
		w.WriteHeader(http.StatusOK)
		return
	}
	attrs := []any{"status", status, "reason", reason}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	h.cfg.Logger.Warn("ssogate: webhook refused", attrs...)
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "POST")
	}
	http.Error(w, http.StatusText(status), status)
}

// handle decides the response: the status, and for a refusal a short reason
// for the log.
func (h *webhookHandler) handle(w http.ResponseWriter, r *http.Request, info *WebhookInfo) (int, string, error) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "method", nil
	}
	sig := r.Header.Get("WorkOS-Signature")
	if sig == "" {
		return http.StatusBadRequest, "no signature", nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return http.StatusRequestEntityTooLarge, "body too large", nil
		}
		return http.StatusBadRequest, "body unreadable", err
	}
	if err := VerifyWebhook(body, sig, h.cfg.Secret, h.cfg.now(), h.cfg.Tolerance); err != nil {
		if errors.Is(err, ErrSignatureMalformed) {
			return http.StatusBadRequest, "malformed signature", nil
		}
		return http.StatusUnauthorized, "signature mismatch or stale", nil
	}
	info.Verified = true
	var env struct {
		Object string `json:"object"`
		Event
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Object != "event" || env.Event.Event == "" {
		return http.StatusBadRequest, "not an event", nil
	}
	ev := &env.Event
	info.EventType, info.EventID = cleanText(ev.Event, 100, nil), cleanText(ev.ID, 100, nil)
	if h.cfg.Cache != nil {
		switch err := h.cfg.Cache.applyAndShare(r.Context(), ev); {
		case errors.Is(err, ErrInvalidEvent):
			return http.StatusBadRequest, "invalid event", err
		case err != nil:
			// It holds here; WorkOS delivers it again for the others.
			return http.StatusInternalServerError, "event not shared", err
		}
	}
	if h.cfg.OnEvent != nil {
		if err := h.cfg.OnEvent(r.Context(), ev); err != nil {
			return http.StatusInternalServerError, "event handler failed", err
		}
	}
	return http.StatusOK, "", nil
}

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

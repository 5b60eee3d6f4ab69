package ssogate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/ssogate/ssogate/internal/sanitize"
	"github.com/ssogate/ssogate/workos"
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
	OnEvent func(ctx context.Context, ev *workos.Event) error
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
	if err := workos.VerifyWebhook(body, sig, h.cfg.Secret, h.cfg.now(), h.cfg.Tolerance); err != nil {
		if errors.Is(err, workos.ErrSignatureMalformed) {
			return http.StatusBadRequest, "malformed signature", nil
		}
		return http.StatusUnauthorized, "signature mismatch or stale", nil
	}
	info.Verified = true
	var env struct {
		Object string `json:"object"`
		workos.Event
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Object != "event" || env.Event.Event == "" {
		return http.StatusBadRequest, "not an event", nil
	}
	ev := &env.Event
	info.EventType, info.EventID = sanitize.Text(ev.Event, 100, nil), sanitize.Text(ev.ID, 100, nil)
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

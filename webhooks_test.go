package ssogate

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

const webhookSecret = "whsec_test_0123456789abcdef"

var webhookNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const deactivatedBody = `{"object":"event","id":"event_01","event":"connection.deactivated",` +
	`"data":{"object":"connection","id":"conn_acme","organization_id":"org_acme","connection_type":"OktaSAML","state":"inactive",` +
	`"domains":[{"object":"connection_domain","id":"org_domain_1","domain":"acme.com"}],"created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-03-01T11:59:59.000Z"},` +
	`"created_at":"2026-03-01T11:59:59.500Z"}`

// webhookTarget is a webhook handler over a warm cache, with its logs.
type webhookTarget struct {
	h     http.Handler
	cache *ConnectionCache
	dir   *fakeDirectory
	logs  *syncBuffer
	seen  []*workos.Event
}

func newWebhookTarget(t *testing.T, modify ...func(*WebhookConfig)) *webhookTarget {
	t.Helper()
	wt := &webhookTarget{dir: &fakeDirectory{}, logs: &syncBuffer{}}
	wt.dir.set(acmeConnection())
	wt.cache = newTestCache(t, wt.dir, newTestClock(), nil)
	if _, err := wt.cache.Domain(context.Background(), "acme.com"); err != nil {
		t.Fatal(err)
	}
	cfg := WebhookConfig{
		Secret: webhookSecret,
		Cache:  wt.cache,
		OnEvent: func(_ context.Context, ev *workos.Event) error {
			wt.seen = append(wt.seen, ev)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(wt.logs, nil)),
		now:    func() time.Time { return webhookNow },
	}
	for _, m := range modify {
		m(&cfg)
	}
	h, err := NewWebhookHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wt.h = h
	return wt
}

func (wt *webhookTarget) post(sig, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("WorkOS-Signature", sig)
	}
	rec := httptest.NewRecorder()
	wt.h.ServeHTTP(rec, req)
	return rec
}

// invalidated reports whether the cached answer for acme.com was dropped.
func (wt *webhookTarget) invalidated(t *testing.T) bool {
	t.Helper()
	before := wt.dir.calls.Load()
	wt.cache.Domain(context.Background(), "acme.com")
	return wt.dir.calls.Load() > before
}

func TestWebhookAppliesVerifiedEvent(t *testing.T) {
	wt := newWebhookTarget(t)
	rec := wt.post(workostest.SignWebhook(webhookSecret, webhookNow.Add(-time.Second), []byte(deactivatedBody)), deactivatedBody)
	if rec.Code != http.StatusOK {
		t.Fatalf("got %d %q, want 200", rec.Code, rec.Body)
	}
	if !wt.invalidated(t) {
		t.Error("a verified connection.deactivated did not invalidate the cache")
	}
	if len(wt.seen) != 1 || wt.seen[0].ID != "event_01" || wt.seen[0].Event != workos.EventConnectionDeactivated ||
		!wt.seen[0].CreatedAt.Equal(time.Date(2026, 3, 1, 11, 59, 59, 500e6, time.UTC)) {
		t.Errorf("OnEvent got %+v, want the decoded event", wt.seen)
	}
}

func TestWebhookAcknowledgesOtherEvents(t *testing.T) {
	wt := newWebhookTarget(t)
	body := `{"object":"event","id":"event_02","event":"dsync.user.created","data":{"id":"directory_user_1"},"created_at":"2026-03-01T11:59:59.000Z"}`
	rec := wt.post(workostest.SignWebhook(webhookSecret, webhookNow, []byte(body)), body)
	if rec.Code != http.StatusOK {
		t.Errorf("got %d, want 200", rec.Code)
	}
	if wt.invalidated(t) {
		t.Error("an unrelated event invalidated the cache")
	}
	if len(wt.seen) != 1 {
		t.Errorf("OnEvent saw %d events, want 1", len(wt.seen))
	}
}

func TestWebhookRejectsUnverified(t *testing.T) {
	body := []byte(deactivatedBody)
	sign := func(at time.Time, b []byte) string { return workostest.SignWebhook(webhookSecret, at, b) }
	valid := sign(webhookNow, body)
	ts := strconv.FormatInt(webhookNow.UnixMilli(), 10)
	_, v1, _ := strings.Cut(valid, "v1=")
	tests := []struct {
		name   string
		method string
		sig    string
		body   string
		want   int
	}{
		{"GET", http.MethodGet, valid, deactivatedBody, http.StatusMethodNotAllowed},
		{"no signature", "", "", deactivatedBody, http.StatusBadRequest},
		{"garbage signature", "", "garbage", deactivatedBody, http.StatusBadRequest},
		{"no timestamp", "", "v1=" + v1, deactivatedBody, http.StatusBadRequest},
		{"no v1", "", "t=" + ts, deactivatedBody, http.StatusBadRequest},
		{"two timestamps", "", "t=" + ts + ", t=" + ts + ", v1=" + v1, deactivatedBody, http.StatusBadRequest},
		{"timestamp in seconds text", "", "t=abc, v1=" + v1, deactivatedBody, http.StatusBadRequest},
		{"short v1", "", "t=" + ts + ", v1=abcd", deactivatedBody, http.StatusBadRequest},
		{"v1 not hex", "", "t=" + ts + ", v1=" + strings.Repeat("zz", 32), deactivatedBody, http.StatusBadRequest},
		{"wrong secret", "", workostest.SignWebhook("whsec_other", webhookNow, body), deactivatedBody, http.StatusUnauthorized},
		{"tampered body", "", valid, strings.Replace(deactivatedBody, "deactivated", "activated", 1), http.StatusUnauthorized},
		{"signature of another timestamp", "", "t=" + strconv.FormatInt(webhookNow.UnixMilli()+1, 10) + ", v1=" + v1, deactivatedBody, http.StatusUnauthorized},
		{"too old", "", sign(webhookNow.Add(-181*time.Second), body), deactivatedBody, http.StatusUnauthorized},
		{"too far ahead", "", sign(webhookNow.Add(181*time.Second), body), deactivatedBody, http.StatusUnauthorized},
		{"seconds, not milliseconds", "", "t=" + strconv.FormatInt(webhookNow.Unix(), 10) + ", v1=" + v1, deactivatedBody, http.StatusUnauthorized},
		{"not JSON", "", sign(webhookNow, []byte("hello")), "hello", http.StatusBadRequest},
		{"not an event", "", sign(webhookNow, []byte(`{"object":"connection","id":"conn_acme"}`)), `{"object":"connection","id":"conn_acme"}`, http.StatusBadRequest},
		{"connection event without connection", "", sign(webhookNow, []byte(`{"object":"event","event":"connection.deleted","data":{},"created_at":"2026-03-01T11:59:59Z"}`)),
			`{"object":"event","event":"connection.deleted","data":{},"created_at":"2026-03-01T11:59:59Z"}`, http.StatusBadRequest},
		{"too large", "", sign(webhookNow, []byte(strings.Repeat(" ", 2<<20))), strings.Repeat(" ", 2<<20), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wt := newWebhookTarget(t)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/webhooks/workos", strings.NewReader(tc.body))
			if tc.sig != "" {
				req.Header.Set("WorkOS-Signature", tc.sig)
			}
			rec := httptest.NewRecorder()
			wt.h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("got %d, want %d", rec.Code, tc.want)
			}
			if wt.invalidated(t) || len(wt.seen) != 0 {
				t.Error("an unverified or invalid request was acted on")
			}
			logs := wt.logs.String()
			if !strings.Contains(logs, "webhook refused") {
				t.Errorf("refusal not logged: %q", logs)
			}
			if (tc.sig != "" && strings.Contains(logs, tc.sig)) || strings.Contains(logs, v1) || strings.Contains(logs, "conn_acme") {
				t.Errorf("log holds the signature or the body: %q", logs)
			}
		})
	}
}

func TestWebhookToleranceBothWays(t *testing.T) {
	for _, skew := range []time.Duration{-179 * time.Second, 179 * time.Second} {
		wt := newWebhookTarget(t)
		if rec := wt.post(workostest.SignWebhook(webhookSecret, webhookNow.Add(skew), []byte(deactivatedBody)), deactivatedBody); rec.Code != http.StatusOK {
			t.Errorf("skew %v: got %d, want 200", skew, rec.Code)
		}
	}
}

func TestWebhookOnEventFailureAsksForRedelivery(t *testing.T) {
	wt := newWebhookTarget(t, func(c *WebhookConfig) {
		c.OnEvent = func(context.Context, *workos.Event) error { return errors.New("database down") }
	})
	if rec := wt.post(workostest.SignWebhook(webhookSecret, webhookNow, []byte(deactivatedBody)), deactivatedBody); rec.Code != http.StatusInternalServerError {
		t.Errorf("got %d, want 500 so WorkOS retries", rec.Code)
	}
}

func TestNewWebhookHandlerRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   WebhookConfig
		field string
	}{
		{"no secret", WebhookConfig{}, "WebhookConfig.Secret"},
		{"negative tolerance", WebhookConfig{Secret: "s", Tolerance: -time.Second}, "WebhookConfig.Tolerance"},
		{"negative body limit", WebhookConfig{Secret: "s", MaxBodyBytes: -1}, "WebhookConfig.MaxBodyBytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWebhookHandler(tc.cfg)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Errorf("got %v, want a *ConfigError for %s", err, tc.field)
			}
		})
	}
}

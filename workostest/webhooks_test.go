package workostest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testSecret = "whsec_test"

type received struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint that records what it gets.
type receiver struct {
	*httptest.Server
	status int

	mu  sync.Mutex // guards got
	got []received
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	rc := &receiver{status: status}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: b})
		rc.mu.Unlock()
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// verify checks a WorkOS-Signature header the way a receiver must, without
// using SignWebhook.
func verify(t *testing.T, header string, body []byte, secret string) time.Time {
	t.Helper()
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("signature %q does not verify: want v1=%s", header, want)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("bad t in %q", header)
	}
	return time.UnixMilli(ms)
}

type wireEvent struct {
	Object    string                     `json:"object"`
	ID        string                     `json:"id"`
	Event     string                     `json:"event"`
	Data      map[string]json.RawMessage `json:"data"`
	CreatedAt string                     `json:"created_at"`
}

func TestWebhookEvents(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	now := time.Date(2026, 5, 1, 8, 30, 0, 123e6, time.UTC)
	s := newTestServer(t, WithWebhook(rc.URL, testSecret), WithClock(func() time.Time { return now }))

	if err := s.SetConnectionState(AcmeConnectionID, "inactive"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConnectionState(AcmeConnectionID, "inactive"); err != nil { // no change, no event
		t.Fatal(err)
	}
	if err := s.SetConnectionState(InitechConnectionID, "active"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConnectionState(GlobexConnectionID, "validating"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConnectionState(GlobexConnectionID, "draft"); err != nil { // not from active: no event
		t.Fatal(err)
	}
	if err := s.DeleteConnection(GoogleConnectionID); err != nil {
		t.Fatal(err)
	}
	if r := api(t, s, http.MethodDelete, "/connections/"+AcmeConnectionID, ""); r.status != http.StatusNoContent {
		t.Fatalf("got status %d, want 204", r.status)
	}
	s.FlushWebhooks()

	want := []struct {
		event, conn, state string
		domains            bool
	}{
		{"connection.deactivated", AcmeConnectionID, "inactive", true},
		{"connection.activated", InitechConnectionID, "active", true},
		{"connection.deactivated", GlobexConnectionID, "validating", true},
		{"connection.deleted", GoogleConnectionID, "active", false},
		{"connection.deleted", AcmeConnectionID, "inactive", false},
	}
	got := rc.received()
	if len(got) != len(want) {
		t.Fatalf("got %d deliveries, want %d", len(got), len(want))
	}
	deliveries := s.Deliveries()
	if len(deliveries) != len(want) {
		t.Fatalf("got %d Deliveries, want %d", len(deliveries), len(want))
	}
	for i, w := range want {
		t.Run(w.event+" "+w.conn, func(t *testing.T) {
			r := got[i]
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", ct)
			}
			if ts := verify(t, r.header.Get("WorkOS-Signature"), r.body, testSecret); !ts.Equal(now) {
				t.Errorf("got t=%v, want %v", ts, now)
			}
			var ev wireEvent
			decode(t, string(r.body), &ev)
			if ev.Object != "event" || ev.Event != w.event || !strings.HasPrefix(ev.ID, "event_") {
				t.Errorf("got object %q event %q id %q, want event %s event_...", ev.Object, ev.Event, ev.ID, w.event)
			}
			if ev.CreatedAt != "2026-05-01T08:30:00.123Z" {
				t.Errorf("got created_at %q, want 2026-05-01T08:30:00.123Z", ev.CreatedAt)
			}
			if got := string(ev.Data["id"]); got != `"`+w.conn+`"` {
				t.Errorf("got data.id %s, want %q", got, w.conn)
			}
			if got := string(ev.Data["state"]); got != `"`+w.state+`"` {
				t.Errorf("got data.state %s, want %q", got, w.state)
			}
			if _, ok := ev.Data["domains"]; ok != w.domains {
				t.Errorf("got domains present %v, want %v", ok, w.domains)
			}
			d := deliveries[i]
			if d.Event != w.event || d.EventID != ev.ID || d.Status != 200 || d.Err != nil || string(d.Body) != string(r.body) {
				t.Errorf("got delivery %+v, want %s %s 200", d, w.event, ev.ID)
			}
		})
	}
}

func TestWebhookFailuresRecorded(t *testing.T) {
	rc := newReceiver(t, http.StatusInternalServerError)
	s := newTestServer(t, WithWebhook(rc.URL, testSecret))
	if err := s.SetConnectionState(AcmeConnectionID, "inactive"); err != nil {
		t.Fatal(err)
	}
	s.FlushWebhooks()
	d := s.Deliveries()
	if len(d) != 1 || d[0].Status != 500 {
		t.Fatalf("got %+v, want one delivery with status 500", d)
	}

	rc.Close()
	if err := s.SetConnectionState(AcmeConnectionID, "active"); err != nil {
		t.Fatal(err)
	}
	s.FlushWebhooks()
	d = s.Deliveries()
	if len(d) != 2 || d[1].Err == nil || d[1].Status != 0 {
		t.Fatalf("got %+v, want a second delivery with an error", d)
	}
}

func TestWebhookCloseDelivers(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	s := NewServer(WithWebhook(rc.URL, testSecret))
	for range 3 {
		s.SetConnectionState(AcmeConnectionID, "inactive")
		s.SetConnectionState(AcmeConnectionID, "active")
	}
	s.Close()
	if got := len(rc.received()); got != 6 {
		t.Errorf("got %d deliveries after Close, want 6", got)
	}
}

func TestWithoutWebhook(t *testing.T) {
	s := newTestServer(t)
	if err := s.SetConnectionState(AcmeConnectionID, "inactive"); err != nil {
		t.Fatal(err)
	}
	s.FlushWebhooks()
	if d := s.Deliveries(); d != nil {
		t.Errorf("got %v, want no deliveries", d)
	}
}

func TestSignWebhook(t *testing.T) {
	body := []byte(`{"object":"event"}`)
	at := time.UnixMilli(1700000000123)
	tests := []struct {
		name   string
		secret string
		body   []byte
		at     time.Time
		want   string
	}{
		// Computed independently: printf '1700000000123.{"object":"event"}' | openssl dgst -sha256 -hmac whsec_test
		{"fixed", testSecret, body, at, "t=1700000000123, v1=f16a654abd0bda5cd7f741f8030148218be80d206efb4d0eef33ac97683e07b4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SignWebhook(tt.secret, tt.at, tt.body); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			verify(t, SignWebhook(tt.secret, tt.at, tt.body), tt.body, tt.secret)
		})
	}
	if SignWebhook("other", at, body) == SignWebhook(testSecret, at, body) {
		t.Error("signature does not depend on the secret")
	}
}

func TestSetConnectionStateErrors(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"unknown connection", func() error { return s.SetConnectionState("conn_nope", "active") }},
		{"empty state", func() error { return s.SetConnectionState(AcmeConnectionID, "") }},
		{"delete unknown", func() error { return s.DeleteConnection("conn_nope") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil {
				t.Error("got nil error, want one")
			}
		})
	}
}

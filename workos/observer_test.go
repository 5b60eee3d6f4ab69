package workos

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

type ctxKey struct{}

// recorder is an Observer that keeps what it was told, and checks that
// CallDone gets the context CallStart returned.
type recorder struct {
	t      *testing.T
	starts []string
	done   []CallInfo
}

func (r *recorder) observer() *Observer {
	return &Observer{
		CallStart: func(ctx context.Context, route string) context.Context {
			r.starts = append(r.starts, route)
			return context.WithValue(ctx, ctxKey{}, route)
		},
		CallDone: func(ctx context.Context, info CallInfo) {
			if ctx.Value(ctxKey{}) != info.Route {
				r.t.Errorf("CallDone for %s did not get CallStart's context", info.Route)
			}
			r.done = append(r.done, info)
		},
	}
}

// TestObserverSeesEveryCall checks what an observer is told of a call that
// was retried, of one refused with a code outside WorkOS's set, and which
// observer is told: the client's own, else the context's.
func TestObserverSeesEveryCall(t *testing.T) {
	srv := newTestServer(t,
		testResponse{status: 503, body: `{"message":"busy"}`},
		testResponse{status: 200, body: `{"id":"conn_1","connection_type":"OktaSAML","state":"active"}`},
		testResponse{status: 400, header: map[string]string{"X-Request-ID": "req_2"}, body: `{"error":"made_up_by_a_proxy_\u2028","error_description":"x"}`},
	)
	c, _ := newTestClient(t, srv.URL, RetryPolicy{})
	fromCtx := &recorder{t: t}
	ctx := WithObserver(context.Background(), fromCtx.observer())
	if _, err := c.GetConnection(ctx, "conn_1"); err != nil {
		t.Fatal(err)
	}
	_, err := c.ExchangeCode(ctx, "code_1", "")
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("exchange: %v, want ErrBadRequest", err)
	}
	if len(fromCtx.starts) != 2 || len(fromCtx.done) != 2 {
		t.Fatalf("the context's observer saw %v and %d ends, want 2 calls", fromCtx.starts, len(fromCtx.done))
	}
	got := fromCtx.done[0]
	if got.Route != "GET /connections/{id}" || got.Status != http.StatusOK || got.Attempts != 2 || got.Err != nil || got.Code != "" || got.Duration < 0 {
		t.Errorf("the retried call: %+v", got)
	}
	got = fromCtx.done[1]
	if got.Route != "POST /sso/token" || got.Status != http.StatusBadRequest || got.Attempts != 1 || got.Code != "other" || got.RequestID != "req_2" || !errors.Is(got.Err, ErrBadRequest) {
		t.Errorf("the refused exchange: %+v, want code other", got)
	}

	own := &recorder{t: t}
	c2, err := NewClient(ClientConfig{APIKey: testAPIKey, ClientID: testClientID, BaseURL: srv.URL, Observer: own.observer()})
	if err != nil {
		t.Fatal(err)
	}
	c2.GetConnection(ctx, "conn_1")
	if len(own.done) != 1 || len(fromCtx.done) != 2 {
		t.Errorf("with an Observer of its own, the client told it %d times and the context's %d more, want 1 and 0", len(own.done), len(fromCtx.done)-2)
	}
}

func TestKnownCode(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "invalid_grant": "invalid_grant", "invalid_client": "invalid_client",
		"connection_invalid": "connection_invalid", "entity_not_found": "entity_not_found",
		"Invalid_Grant": "other", "invalid_grant ": "other", "anything": "other",
	} {
		if got := knownCode(in); got != want {
			t.Errorf("knownCode(%q) = %q, want %q", in, got, want)
		}
	}
}

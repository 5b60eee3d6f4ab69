package exampleapp

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate"
)

func TestReadEnv(t *testing.T) {
	const (
		base     = "http://127.0.0.1:8080"
		password = "0123456789abcdef0123456789abcdef"
		previous = "fedcba9876543210fedcba9876543210"
	)
	tests := []struct {
		name          string
		env           map[string]string
		wantErr       string // a substring of the error; "" for none
		wantEmulated  bool
		wantEphemeral bool
		wantRedirect  string
		wantSecrets   []string // "" stands for a random secret
		wantWebhook   string
		wantAdmin     string        // "" for the emulator's Acme
		wantPoll      time.Duration // 0 for DefaultEventsPollInterval
	}{
		{
			name:          "no key runs the emulator with a random password",
			env:           map[string]string{},
			wantEmulated:  true,
			wantEphemeral: true,
			wantRedirect:  base + "/callback",
			wantSecrets:   []string{""},
		},
		{
			name:         "emulator with a given password",
			env:          map[string]string{"WORKOS_COOKIE_PASSWORD": password},
			wantEmulated: true,
			wantRedirect: base + "/callback",
			wantSecrets:  []string{password},
		},
		{
			name: "real key with both passwords, redirect URI and webhook secret",
			env: map[string]string{
				"WORKOS_API_KEY": "sk_test_x", "WORKOS_CLIENT_ID": "client_x",
				"WORKOS_REDIRECT_URI":             "https://app.example.com/auth/callback",
				"WORKOS_COOKIE_PASSWORD":          password,
				"WORKOS_COOKIE_PASSWORD_PREVIOUS": previous,
				"WORKOS_WEBHOOK_SECRET":           "whsec",
				"ADMIN_ORGANIZATION":              "org_staff",
			},
			wantAdmin:    "org_staff",
			wantRedirect: "https://app.example.com/auth/callback",
			wantSecrets:  []string{password, previous},
			wantWebhook:  "whsec",
		},
		{
			name:    "real key without a password",
			env:     map[string]string{"WORKOS_API_KEY": "sk_test_x", "WORKOS_CLIENT_ID": "client_x"},
			wantErr: "WORKOS_COOKIE_PASSWORD is required",
		},
		{
			name:    "real key without ADMIN_ORGANIZATION",
			env:     map[string]string{"WORKOS_API_KEY": "sk_test_x", "WORKOS_CLIENT_ID": "client_x", "WORKOS_COOKIE_PASSWORD": password},
			wantErr: "ADMIN_ORGANIZATION is required",
		},
		{
			name:    "malformed ADMIN_ORGANIZATION",
			env:     map[string]string{"WORKOS_API_KEY": "sk_test_x", "WORKOS_CLIENT_ID": "client_x", "WORKOS_COOKIE_PASSWORD": password, "ADMIN_ORGANIZATION": "acme"},
			wantErr: "ADMIN_ORGANIZATION must be an organization id",
		},
		// Each production variable without WORKOS_API_KEY is refused, as
		// the README says; WORKOS_COOKIE_PASSWORD alone is not one.
		{
			name:    "emulator with ADMIN_ORGANIZATION",
			env:     map[string]string{"ADMIN_ORGANIZATION": "org_staff"},
			wantErr: "ADMIN_ORGANIZATION is set: set WORKOS_API_KEY",
		},
		{
			name:         "emulator with a webhook secret, which signs its events",
			env:          map[string]string{"WORKOS_WEBHOOK_SECRET": "whsec"},
			wantEmulated: true, wantEphemeral: true, wantRedirect: base + "/callback", wantSecrets: []string{""}, wantWebhook: "whsec",
		},
		{
			name:    "emulator listening on every interface",
			env:     map[string]string{"ADDR": "0.0.0.0:8080"},
			wantErr: "ADDR listens beyond this machine",
		},
		{
			name:    "emulator listening on every interface, host left out",
			env:     map[string]string{"ADDR": ":8080"},
			wantErr: "ADDR listens beyond this machine",
		},
		{
			name:    "emulator listening on a public address",
			env:     map[string]string{"ADDR": "203.0.113.7:8080"},
			wantErr: "ADDR listens beyond this machine",
		},
		{
			name:         "emulator on loopback",
			env:          map[string]string{"ADDR": "127.0.0.1:0"},
			wantEmulated: true, wantEphemeral: true, wantRedirect: base + "/callback", wantSecrets: []string{""},
		},
		// An empty API key in an otherwise production environment would
		// start the emulator, which signs anyone in, inside the fleet.
		{
			name:    "emulator with a real client ID",
			env:     map[string]string{"WORKOS_CLIENT_ID": "client_01HPROD"},
			wantErr: "WORKOS_API_KEY is empty, so the app would sign anyone in through the built-in WorkOS emulator, but WORKOS_CLIENT_ID is set: set WORKOS_API_KEY",
		},
		{
			name:    "emulator with a base URL",
			env:     map[string]string{"WORKOS_BASE_URL": "https://api.workos.com"},
			wantErr: "WORKOS_BASE_URL is set: set WORKOS_API_KEY",
		},
		{
			name:    "emulator with a public redirect URI",
			env:     map[string]string{"WORKOS_REDIRECT_URI": "https://app.example.com/callback", "WORKOS_COOKIE_PASSWORD": password},
			wantErr: "WORKOS_REDIRECT_URI points outside this machine: set WORKOS_API_KEY",
		},
		{
			name:    "emulator with a shared Redis",
			env:     map[string]string{"REDIS_URL": "redis://redis.prod.internal:6379", "WORKOS_COOKIE_PASSWORD": password},
			wantErr: "REDIS_URL points outside this machine, where it would join other replicas: set WORKOS_API_KEY",
		},
		{
			name:         "emulator with a local Redis and redirect URI",
			env:          map[string]string{"REDIS_URL": "redis://127.0.0.1:6379", "WORKOS_REDIRECT_URI": "http://localhost:8080/callback", "WORKOS_COOKIE_PASSWORD": password},
			wantEmulated: true,
			wantRedirect: "http://localhost:8080/callback",
			wantSecrets:  []string{password},
		},
		{
			name:         "events polled every minute",
			env:          map[string]string{"WORKOS_EVENTS_POLL_INTERVAL": "1m"},
			wantEmulated: true, wantEphemeral: true, wantRedirect: base + "/callback", wantSecrets: []string{""},
			wantPoll: time.Minute,
		},
		{
			name:         "events not polled",
			env:          map[string]string{"WORKOS_EVENTS_POLL_INTERVAL": "0"},
			wantEmulated: true, wantEphemeral: true, wantRedirect: base + "/callback", wantSecrets: []string{""},
			wantPoll: -1,
		},
		{
			name:    "malformed poll interval",
			env:     map[string]string{"WORKOS_EVENTS_POLL_INTERVAL": "30"},
			wantErr: "WORKOS_EVENTS_POLL_INTERVAL must be a duration",
		},
		{
			name:    "negative poll interval",
			env:     map[string]string{"WORKOS_EVENTS_POLL_INTERVAL": "-1s"},
			wantErr: "WORKOS_EVENTS_POLL_INTERVAL must be a duration",
		},
		{
			name:    "short password",
			env:     map[string]string{"WORKOS_COOKIE_PASSWORD": password[:31]},
			wantErr: "WORKOS_COOKIE_PASSWORD must be at least 32 bytes",
		},
		{
			name:    "short previous password",
			env:     map[string]string{"WORKOS_COOKIE_PASSWORD": password, "WORKOS_COOKIE_PASSWORD_PREVIOUS": "short"},
			wantErr: "WORKOS_COOKIE_PASSWORD_PREVIOUS must be at least 32 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := readEnv(func(k string) string { return tt.env[k] }, base)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if s.env.Emulated != tt.wantEmulated {
				t.Errorf("Emulated: got %v, want %v", s.env.Emulated, tt.wantEmulated)
			}
			if s.ephemeral != tt.wantEphemeral {
				t.Errorf("ephemeral: got %v, want %v", s.ephemeral, tt.wantEphemeral)
			}
			if s.cfg.RedirectURI != tt.wantRedirect {
				t.Errorf("RedirectURI: got %q, want %q", s.cfg.RedirectURI, tt.wantRedirect)
			}
			if want := cmp.Or(tt.wantAdmin, "org_acme"); s.env.AdminOrganization != want {
				t.Errorf("AdminOrganization: got %q, want %q", s.env.AdminOrganization, want)
			}
			switch want := cmp.Or(tt.wantPoll, DefaultEventsPollInterval); {
			case want < 0 && s.env.EventsPollInterval != 0:
				t.Errorf("EventsPollInterval: got %v, want 0 (off)", s.env.EventsPollInterval)
			case want > 0 && s.env.EventsPollInterval != want:
				t.Errorf("EventsPollInterval: got %v, want %v", s.env.EventsPollInterval, want)
			}
			if s.env.WebhookSecret != tt.wantWebhook {
				t.Errorf("WebhookSecret: got %q, want %q", s.env.WebhookSecret, tt.wantWebhook)
			}
			if s.cfg.APIKey != tt.env["WORKOS_API_KEY"] || s.cfg.ClientID != tt.env["WORKOS_CLIENT_ID"] {
				t.Errorf("APIKey, ClientID: got %q, %q, want %q, %q", s.cfg.APIKey, s.cfg.ClientID, tt.env["WORKOS_API_KEY"], tt.env["WORKOS_CLIENT_ID"])
			}
			if len(s.cfg.CookieSecrets) != len(tt.wantSecrets) {
				t.Fatalf("got %d cookie secrets, want %d", len(s.cfg.CookieSecrets), len(tt.wantSecrets))
			}
			for i, want := range tt.wantSecrets {
				got := string(s.cfg.CookieSecrets[i])
				switch {
				case want == "" && len(got) < minCookiePassword:
					t.Errorf("random cookie secret: got %d bytes, want at least %d", len(got), minCookiePassword)
				case want != "" && got != want:
					t.Errorf("cookie secret %d: got %q, want %q", i, got, want)
				}
			}
		})
	}
}

// TestRandomPasswordsDiffer pins that the emulator's random cookie password
// is made anew for each process, not a constant.
func TestRandomPasswordsDiffer(t *testing.T) {
	getenv := func(string) string { return "" }
	a, err := readEnv(getenv, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	b, err := readEnv(getenv, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	if string(a.cfg.CookieSecrets[0]) == string(b.cfg.CookieSecrets[0]) {
		t.Error("got the same random cookie password twice, want a new one each time")
	}
}

// TestServerTimeouts pins the example server's timeouts, and checks that
// a client that sends its body a byte at a time is cut off.
func TestServerTimeouts(t *testing.T) {
	srv := newServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 30*time.Second || srv.IdleTimeout != 2*time.Minute || srv.MaxHeaderBytes != 64<<10 {
		t.Errorf("got ReadHeaderTimeout %v, ReadTimeout %v, WriteTimeout %v, IdleTimeout %v, MaxHeaderBytes %d",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}

	// The same server with a short ReadTimeout, against a slow body.
	readErr := make(chan error, 1)
	srv = newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
	}), slog.New(slog.DiscardHandler))
	srv.ReadTimeout = 200 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhooks/workos HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("the slow body was read whole, want a timeout")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the slow body still holds the handler after 10 s")
	}
}

// TestPagesRefuseFraming checks that the example's own pages tell browsers
// that no other site may frame them.
func TestPagesRefuseFraming(t *testing.T) {
	rec := httptest.NewRecorder()
	Home(true)(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); csp != "frame-ancestors 'none'" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the home page's headers: %v", rec.Header())
	}
}

// TestReadEnvNextPassword reads the next cookie password of a rotation: it
// opens cookies and seals none.
func TestReadEnvNextPassword(t *testing.T) {
	const password, next = "0123456789abcdef0123456789abcdef", "nextnextnextnextnextnextnextnext"
	s, err := readEnv(func(k string) string {
		return map[string]string{"WORKOS_COOKIE_PASSWORD": password, "WORKOS_COOKIE_PASSWORD_NEXT": next}[k]
	}, "http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.cfg.CookieSecrets) != 1 || string(s.cfg.CookieSecrets[0]) != password || len(s.cfg.NextCookieSecrets) != 1 || string(s.cfg.NextCookieSecrets[0]) != next {
		t.Errorf("got secrets %q, next %q", s.cfg.CookieSecrets, s.cfg.NextCookieSecrets)
	}
	if _, err := readEnv(func(k string) string {
		return map[string]string{"WORKOS_COOKIE_PASSWORD": password, "WORKOS_COOKIE_PASSWORD_NEXT": "short"}[k]
	}, "http://127.0.0.1:8080"); err == nil || !strings.Contains(err.Error(), "WORKOS_COOKIE_PASSWORD_NEXT must be at least 32 bytes") {
		t.Errorf("a short next password: got %v", err)
	}
}

// closedBackplane asks its subscribers to fail closed, as redisstore does
// before its first read.
type closedBackplane struct{ ssogate.Backplane }

func (b closedBackplane) Subscribe(s ssogate.Subscriber) func() {
	cancel := b.Backplane.Subscribe(s)
	s.FailClosed(errors.New("redisstore: the revocations in force have not been read from Redis yet"))
	return cancel
}

// TestReadyzSaysWhy checks that /readyz names why a replica is not ready.
func TestReadyzSaysWhy(t *testing.T) {
	gate, err := ssogate.New(ssogate.Config{
		APIKey: "sk_test_x", ClientID: "client_x", RedirectURI: "http://127.0.0.1:8080/callback",
		CookieSecrets: [][]byte{[]byte("0123456789abcdef0123456789abcdef")},
		Backplane:     closedBackplane{ssogate.NewLocalBackplane()},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	Ready(gate)(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "not ready: ") || !strings.Contains(rec.Body.String(), "have not been read from Redis yet") {
		t.Errorf("/readyz: got %d %q, want 503 and the reason", rec.Code, rec.Body.String())
	}
}

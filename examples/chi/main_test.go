package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/ssogate/ssogate/examples/internal/exampletest"
	"github.com/ssogate/ssogate/redisstore/redistest"
)

// requestLog receives what chi's request logger writes, in every test.
var requestLog = &exampletest.SyncBuffer{}

func TestMain(m *testing.M) {
	middleware.DefaultLogger = middleware.RequestLogger(&middleware.DefaultLogFormatter{Logger: log.New(requestLog, "", 0), NoColor: true})
	os.Exit(m.Run())
}

// TestRequestLogHidesCallbackSecrets signs in and reads chi's request log:
// the callback is there, with REDACTED for its code and state.
func TestRequestLogHidesCallbackSecrets(t *testing.T) {
	base := exampletest.Start(t, run, nil)
	exampletest.NewBrowser(t).SignIn(base, base+"/login?organization=org_acme", "alice@acme.com")
	logged := requestLog.String()
	if !strings.Contains(logged, "/callback?code=REDACTED&state=REDACTED") {
		t.Fatalf("the request log has no redacted callback:\n%s", logged)
	}
	for _, m := range regexp.MustCompile(`[?&](code|state)=([^&\s"]*)`).FindAllStringSubmatch(logged, -1) {
		if m[2] != "REDACTED" {
			t.Errorf("the request log holds a %s: %s", m[1], m[0])
		}
	}
}

// TestRoutes checks the public and gated routes over real HTTP against the
// embedded emulator: signed out, a whole sign-in, the profile and sign-out.
func TestRoutes(t *testing.T) { exampletest.TestRoutes(t, run) }

// TestReplicas runs two replicas of the app on one Redis.
func TestReplicas(t *testing.T) { exampletest.TestReplicas(t, run, redistest.Start(t).URL) }

// TestMetrics signs in and scrapes the metrics, which are served on a
// loopback listener of their own and not by the app.
func TestMetrics(t *testing.T) {
	out := &exampletest.SyncBuffer{}
	base := exampletest.StartOutput(t, run, map[string]string{"METRICS_ADDR": "127.0.0.1:0"}, out)
	m := regexp.MustCompile(`Metrics for Prometheus at (http://127\.0\.0\.1:\d+/metrics)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no metrics URL in the output:\n%s", out)
	}
	b := exampletest.NewBrowser(t)
	b.SignIn(base, base+"/login?organization=org_acme", "alice@acme.com")
	if res := b.Navigate(http.MethodGet, base+"/metrics", nil); res.Status != http.StatusNotFound {
		t.Errorf("the app serves /metrics: %d", res.Status)
	}

	res, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %s", res.StatusCode, body)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ssogate_sign_ins_total\{[^}]*ssogate_connection_id="conn_acme_okta"[^}]*ssogate_outcome="success"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^ssogate_login_requests_total\{[^}]*ssogate_login_route="organization"[^}]*ssogate_outcome="redirected"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^ssogate_workos_call_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*url_template="/sso/token"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^ssogate_connection_cache_lookups_total\{[^}]*ssogate_cache_result="miss"[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^ssogate_ready\{[^}]*\} 1$`),
		regexp.MustCompile(`(?m)^ssogate_revocations_in_force\{[^}]*\} 0$`),
	} {
		if !want.Match(body) {
			t.Errorf("the scrape has no line matching %s:\n%s", want, grepSSOGate(body))
		}
	}
	if strings.Contains(string(body), "alice@acme.com") || strings.Contains(string(body), "prof_") {
		t.Error("the metrics name a user")
	}
}

// TestMetricsStayLocal checks that metrics are never served beyond this
// machine.
func TestMetricsStayLocal(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":9464", "192.0.2.1:9464"} {
		getenv := func(k string) string {
			return map[string]string{"ADDR": "127.0.0.1:0", "METRICS_ADDR": addr}[k]
		}
		err := run(context.Background(), getenv, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
			t.Errorf("METRICS_ADDR=%s: got %v, want a refusal", addr, err)
		}
	}
}

func grepSSOGate(body []byte) string {
	var lines []string
	for l := range strings.Lines(string(body)) {
		if strings.HasPrefix(l, "ssogate_") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "")
}

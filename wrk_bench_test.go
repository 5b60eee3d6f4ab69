package ssogate

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wrkScript sends each request with the next cookie of the file that
// SSOGATE_WRK_COOKIES names, each of wrk's threads from a place of its own,
// and counts the answers that are not 200.
const wrkScript = `
local cookies = {}
for line in io.lines(os.getenv("SSOGATE_WRK_COOKIES")) do cookies[#cookies + 1] = line end
local i = math.random(#cookies)
request = function()
  i = i % #cookies + 1
  return wrk.format(nil, nil, {["Cookie"] = cookies[i]})
end
`

// BenchmarkWrk measures whole requests with wrk, a load generator in C
// (Debian's wrk package), against one net/http server on loopback: the
// same handler public, and behind RequireSSO (idle timeout on) with one
// session and with 20,000 sessions in rotation. Every request carries a
// session cookie, public ones too. Each iteration runs wrk on every route
// in turn for WRK_SECONDS (default 1), so that a shared machine's changing
// load weighs on all alike; each route's req/s is reported, and its ratio
// to public's:
//
//	WRK_SECONDS=5 go test -run '^$' -bench 'BenchmarkWrk$' -benchtime 5x .
func BenchmarkWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal("wrk not found: .ci/run installs Debian's wrk package")
		}
		b.Skip("wrk not found: install Debian's wrk package")
	}
	seconds := 1
	if s, err := strconv.Atoi(os.Getenv("WRK_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	g, err := New(Config{
		Provider:      stubProvider{},
		RedirectURI:   "https://app.example/callback",
		CookieSecrets: [][]byte{testSecret(1)},
		IdleTimeout:   30 * time.Minute,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mux := http.NewServeMux()
	mux.Handle("/public", handler)
	mux.Handle("/gated", g.RequireSSO(handler))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := b.TempDir()
	script := filepath.Join(dir, "rotate.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		b.Fatal(err)
	}
	cookies := benchCookies(b, g, 20000)
	many, one := filepath.Join(dir, "many"), filepath.Join(dir, "one")
	if err := os.WriteFile(many, []byte(strings.Join(cookies, "\n")+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(one, []byte(cookies[0]+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	routes := []struct {
		name, path, cookies string
		requests, seconds   float64
	}{
		{name: "public", path: "/public", cookies: many},
		{name: "gated-1-session", path: "/gated", cookies: one},
		{name: "gated-20000-sessions", path: "/gated", cookies: many},
	}
	run := func(path, cookies string, d int) (float64, error) {
		cmd := exec.Command(wrk, "-t1", "-c8", fmt.Sprintf("-d%ds", d), "-s", script, srv.URL+path)
		cmd.Env = append(os.Environ(), "SSOGATE_WRK_COOKIES="+cookies)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("wrk: %v: %s", err, out)
		}
		if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
			return 0, fmt.Errorf("wrk: %s: answers other than 200:\n%s", path, out)
		}
		m := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			return 0, fmt.Errorf("wrk: no Requests/sec in:\n%s", out)
		}
		return strconv.ParseFloat(string(m[1]), 64)
	}
	// Every cookie once through the gate, as a warm cache holds them.
	if _, err := run("/gated", many, 2); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		for i := range routes {
			rps, err := run(routes[i].path, routes[i].cookies, seconds)
			if err != nil {
				b.Fatal(err)
			}
			routes[i].requests += rps * float64(seconds)
			routes[i].seconds += float64(seconds)
		}
	}
	public := routes[0].requests / routes[0].seconds
	for _, rt := range routes {
		rps := rt.requests / rt.seconds
		b.ReportMetric(rps, rt.name+"-req/s")
		if rt.name != "public" {
			b.ReportMetric(rps/public, rt.name+"/public")
		}
	}
}

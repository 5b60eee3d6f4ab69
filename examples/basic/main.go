// Command basic is a small web app that signs users in with ssogate.
//
// With no WORKOS_API_KEY it runs against workostest, an in-process WorkOS
// emulator with a few test organizations and users, so it works anywhere:
//
//	go run ./examples/basic
//
// and open http://localhost:8080. With real WorkOS keys:
//
//	WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... \
//	WORKOS_COOKIE_PASSWORD="$(openssl rand -base64 32)" \
//	WORKOS_REDIRECT_URI=http://localhost:8080/callback go run ./examples/basic
//
// Environment: ADDR (default localhost:8080), WORKOS_API_KEY, WORKOS_CLIENT_ID,
// WORKOS_BASE_URL, WORKOS_REDIRECT_URI (default http://$ADDR/callback),
// WORKOS_COOKIE_PASSWORD (at least 32 bytes; required with a real API key),
// WORKOS_COOKIE_PASSWORD_PREVIOUS (optional, for rotation),
// WORKOS_WEBHOOK_SECRET (optional: serves /webhooks/workos).
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workostest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "basic:", err)
		os.Exit(1)
	}
}

// run serves the app until ctx ends. ready, if not nil, receives the
// app's base URL once it is listening.
func run(ctx context.Context, getenv func(string) string, out io.Writer, ready chan<- string) error {
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))

	addr := getenv("ADDR")
	if addr == "" {
		addr = "localhost:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	// With port 0 the system picks one; the app's URL uses the port it got.
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	baseURL := "http://" + net.JoinHostPort(host, port)

	cfg := ssogate.Config{
		APIKey:      getenv("WORKOS_API_KEY"),
		ClientID:    getenv("WORKOS_CLIENT_ID"),
		BaseURL:     getenv("WORKOS_BASE_URL"),
		RedirectURI: getenv("WORKOS_REDIRECT_URI"),
		Logger:      logger,
	}
	if cfg.RedirectURI == "" {
		cfg.RedirectURI = baseURL + "/callback"
	}

	emulated := cfg.APIKey == ""
	if emulated {
		idp := workostest.NewServer(workostest.WithLogoutRedirect(baseURL + "/"))
		defer idp.Close()
		cfg.APIKey, cfg.ClientID, cfg.BaseURL = idp.APIKey, idp.ClientID, idp.URL
		fmt.Fprintf(out, "No WORKOS_API_KEY: signing in through the WorkOS emulator at %s\n", idp.URL)
	}

	password := getenv("WORKOS_COOKIE_PASSWORD")
	switch {
	case password == "" && !emulated:
		return errors.New("WORKOS_COOKIE_PASSWORD is required with a real WORKOS_API_KEY (at least 32 random bytes, e.g. openssl rand -base64 32)")
	case password == "":
		password = rand.Text() + rand.Text()
		logger.Warn("WORKOS_COOKIE_PASSWORD is not set: using a random one, so sessions end when the app restarts")
	case len(password) < 32:
		return errors.New("WORKOS_COOKIE_PASSWORD must be at least 32 bytes")
	}
	cfg.CookieSecrets = [][]byte{[]byte(password)}
	if prev := getenv("WORKOS_COOKIE_PASSWORD_PREVIOUS"); prev != "" {
		cfg.CookieSecrets = append(cfg.CookieSecrets, []byte(prev))
	}

	gate, err := ssogate.New(cfg)
	if err != nil {
		return err
	}
	handler, err := newApp(gate, emulated, getenv("WORKOS_WEBHOOK_SECRET"))
	if err != nil {
		return err
	}

	if emulated {
		fmt.Fprintf(out, "Open %s and sign in as one of the test users:\n", baseURL)
		for _, u := range workostest.DefaultSeed().Users {
			fmt.Fprintf(out, "  %-18s (%s %s)\n", u.Email, u.FirstName, u.LastName)
		}
	} else {
		fmt.Fprintf(out, "Open %s\n", baseURL)
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- baseURL
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// newApp returns the app's routes: a public home page, the sign-in
// handlers, and the gated /app page and /api/me endpoint.
func newApp(gate *ssogate.Middleware, emulated bool, webhookSecret string) (http.Handler, error) {
	mux := http.NewServeMux()
	gate.Mount(mux)

	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, homePage, struct{ Emulated bool }{emulated})
	})
	mux.Handle("GET /app", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := ssogate.SessionFromContext(r.Context())
		render(w, appPage, s)
	})))
	mux.Handle("GET /api/me", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	})))
	return mux, nil
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil {
		slog.Error("render", "err", err)
	}
}

const style = `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2433}
a.button,button{display:inline-block;margin:.25rem 0;padding:.5rem 1rem;border:0;border-radius:6px;background:#3b5bdb;color:#fff;text-decoration:none;font:inherit;cursor:pointer}
input{font:inherit;padding:.45rem;border:1px solid #c5cad3;border-radius:6px}
dt{font-weight:600}dd{margin:0 0 .5rem}</style>`

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssogate example</title>` + style + `</head><body>
<h1>ssogate example</h1>
<p>This page is public. <a href="/app">/app</a> and <a href="/api/me">/api/me</a> need a sign-in.</p>
{{if .Emulated}}<p>Signing in through the built-in WorkOS emulator. Test users: alice@acme.com, bob@acme.com, hank@globex.com, carol@gmail.com.</p>
<p><a class="button" href="/login?organization=org_acme&amp;return_to=/app">Sign in with Acme (Okta SAML)</a></p>
<p><a class="button" href="/login?organization=org_globex&amp;return_to=/app">Sign in with Globex (OIDC)</a></p>
<p><a class="button" href="/login?provider=GoogleOAuth&amp;return_to=/app">Sign in with Google</a></p>{{end}}
<form method="get" action="/login"><input type="hidden" name="return_to" value="/app">
<label>Work email <input type="email" name="email" required placeholder="you@company.com"></label>
<button type="submit">Continue with SSO</button></form>
</body></html>`))

var appPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title>` + style + `</head><body>
<h1>Signed in as {{.Profile.Email}}</h1>
<dl>
<dt>Name</dt><dd>{{.Profile.FirstName}} {{.Profile.LastName}}</dd>
<dt>Email</dt><dd id="email">{{.Profile.Email}}</dd>
<dt>Profile</dt><dd>{{.Profile.ID}}</dd>
<dt>Organization</dt><dd>{{.Profile.OrganizationID}}</dd>
<dt>Connection</dt><dd>{{.Profile.ConnectionID}} ({{.Profile.ConnectionType}})</dd>
{{with .Profile.Role}}<dt>Role</dt><dd>{{.Slug}}</dd>{{end}}
{{with .Profile.Groups}}<dt>Groups</dt><dd>{{range $i, $g := .}}{{if $i}}, {{end}}{{$g}}{{end}}</dd>{{end}}
<dt>Session expires</dt><dd>{{.ExpiresAt.Format "2006-01-02 15:04 MST"}}</dd>
</dl>
<p><a href="/">Home</a></p>
<form method="post" action="/logout"><button type="submit" id="signout">Sign out</button></form>
</body></html>`))

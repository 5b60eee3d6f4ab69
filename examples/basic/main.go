// Command basic is a small web app that signs users in with ssogate.
//
// With no WORKOS_API_KEY it runs against workostest, an in-process WorkOS
// emulator with a few test organizations and users, so it works anywhere:
//
//	go run ./examples/basic
//
// and open http://localhost:8080. With real WorkOS keys:
//
//	WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... ADMIN_ORGANIZATION=org_... \
//	WORKOS_COOKIE_PASSWORD="$(openssl rand -base64 32)" \
//	WORKOS_REDIRECT_URI=http://localhost:8080/callback go run ./examples/basic
//
// Environment: ADDR (default localhost:8080), WORKOS_API_KEY, WORKOS_CLIENT_ID,
// WORKOS_BASE_URL, WORKOS_REDIRECT_URI (default http://$ADDR/callback),
// WORKOS_COOKIE_PASSWORD (at least 32 bytes; required with a real API key),
// WORKOS_COOKIE_PASSWORD_PREVIOUS and WORKOS_COOKIE_PASSWORD_NEXT (optional, for
// rotation: see docs/production.md),
// ADMIN_ORGANIZATION (the organization whose admins may open /admin;
// required with a real API key, Acme with the emulator),
// WORKOS_WEBHOOK_SECRET (the secret of the webhook endpoint /webhooks/workos,
// which keeps the connection cache fresh and ends the sessions of users a
// directory removes; the emulator, which delivers its events there, makes
// up one if it is not set), WORKOS_EVENTS_POLL_INTERVAL (a Go duration,
// default 30s, 0 for off: how often the app reads WorkOS's Events API for
// the events a webhook delivery missed), REDIS_URL
// (redis://host:port[/db]: replicas of the app with the same
// WORKOS_COOKIE_PASSWORD share sign-outs, revocations and connection events
// through that Redis).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/examples/internal/exampleapp"
	"github.com/ssogate/ssogate/redisstore"
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
	return exampleapp.Run(ctx, getenv, out, ready, newApp, openRedis)
}

// openRedis opens the backplane at REDIS_URL, through which replicas of the
// app share sign-outs, revocations and connection events.
func openRedis(url string, logger *slog.Logger) (ssogate.Backplane, io.Closer, error) {
	store, err := redisstore.Open(url, redisstore.Options{Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	return store, store, nil
}

// newApp returns the app's routes: a public home page, the sign-in
// handlers, the gated /app page and /api/me endpoint, and the webhook
// endpoint.
func newApp(gate *ssogate.Middleware, env exampleapp.Env) (http.Handler, error) {
	mux := http.NewServeMux()
	gate.Mount(mux) // /login, /callback, /logout

	mux.HandleFunc("GET /{$}", exampleapp.Home(env.Emulated))
	mux.HandleFunc("GET /readyz", exampleapp.Ready(gate)) // for a load balancer
	mux.Handle("GET /app", gate.RequireSSO(http.HandlerFunc(exampleapp.AppPage)))
	// Signed in and with the admin role of the admin organization;
	// RequireRole implies RequireSSO.
	mux.Handle("GET /admin", gate.RequireRole(env.AdminOrganization, "admin")(http.HandlerFunc(exampleapp.AdminPage)))
	// Sign-in health per connection, for the support desk: this replica's
	// view (HTML, or JSON for tools).
	mux.Handle("GET /admin/sso", gate.RequireRole(env.AdminOrganization, "admin")(gate.HealthHandler()))
	// Setting up SSO for the admin organization in WorkOS's Admin Portal:
	// a fresh link for the admin's own organization on each click.
	mux.Handle("GET /admin/sso/setup", gate.RequireRole(env.AdminOrganization, "admin")(gate.AdminPortalHandler(exampleapp.SetupSSO)))
	// A sensitive page: a sign-in within five minutes that asked the
	// identity provider to authenticate anew.
	mux.Handle("GET /account/security", gate.RequireRecentLogin(exampleapp.RecentLogin)(http.HandlerFunc(exampleapp.SecurityPage)))
	mux.Handle("GET /api/me", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context()) // RequireSSO put it there
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p)
	})))
	if env.WebhookSecret != "" {
		// WorkOS's connection events keep the connection cache fresh.
		hook, err := ssogate.NewWebhookHandler(ssogate.WebhookConfig{
			Secret: env.WebhookSecret,
			Cache:  gate.Connections(),
			Logger: env.Logger,
		})
		if err != nil {
			return nil, err
		}
		mux.Handle("POST "+exampleapp.WebhookPath, hook)
	}
	return mux, nil
}

// Command chi is the ssogate example app on a chi router: a public route
// group, a group gated with r.Use(gate.RequireSSO), and the sign-in
// handlers mounted on the router.
//
// With no WORKOS_API_KEY it runs against workostest, an in-process WorkOS
// emulator with a few test organizations and users, so it works anywhere:
//
//	go run ./examples/chi
//
// and open http://localhost:8080. With real WorkOS keys:
//
//	WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... ADMIN_ORGANIZATION=org_... \
//	WORKOS_COOKIE_PASSWORD="$(openssl rand -base64 32)" \
//	WORKOS_REDIRECT_URI=http://localhost:8080/callback go run ./examples/chi
//
// Environment: ADDR (default localhost:8080), WORKOS_API_KEY, WORKOS_CLIENT_ID,
// WORKOS_BASE_URL, WORKOS_REDIRECT_URI (default http://$ADDR/callback),
// WORKOS_COOKIE_PASSWORD (at least 32 bytes; required with a real API key),
// WORKOS_COOKIE_PASSWORD_PREVIOUS and WORKOS_COOKIE_PASSWORD_NEXT (optional, for
// rotation: see docs/production.md),
// WORKOS_WEBHOOK_SECRET (the secret of the webhook endpoint /webhooks/workos,
// which keeps the connection cache fresh and ends the sessions of users a
// directory removes; the emulator, which delivers its events there, makes
// up one if it is not set), WORKOS_EVENTS_POLL_INTERVAL (a Go duration,
// default 30s, 0 for off: how often the app reads WorkOS's Events API for
// the events a webhook delivery missed), REDIS_URL
// (redis://host:port[/db]: replicas of the app with the same
// WORKOS_COOKIE_PASSWORD share sign-outs, revocations and connection events
// through that Redis), METRICS_ADDR (where ssogate's metrics are served for
// Prometheus, on a listener of their own that must be on this machine:
// default localhost:9464, or a free port if that is taken; "off" serves
// none).
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

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/examples/internal/exampleapp"
	"github.com/ssogate/ssogate/redisstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "chi:", err)
		os.Exit(1)
	}
}

// run serves the app until ctx ends, and its metrics for Prometheus on a
// listener of their own. ready, if not nil, receives the app's base URL
// once it is listening.
func run(ctx context.Context, getenv func(string) string, out io.Writer, ready chan<- string) error {
	m, err := startMetrics(getenv("METRICS_ADDR"), out, slog.New(slog.NewTextHandler(out, nil)))
	if err != nil {
		return err
	}
	if m == nil {
		return exampleapp.Run(ctx, getenv, out, ready, newApp, openRedis)
	}
	defer m.Close()
	routes := func(gate *ssogate.Middleware, env exampleapp.Env) (http.Handler, error) {
		if _, err := m.tel.Watch(gate); err != nil {
			return nil, err
		}
		return newApp(gate, env)
	}
	return exampleapp.Run(ctx, getenv, out, ready, routes, openRedis,
		func(c *ssogate.Config) { c.Observer = m.tel.Observer() })
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
// handlers, and the gated /app page and /api/me endpoint.
func newApp(gate *ssogate.Middleware, env exampleapp.Env) (http.Handler, error) {
	r := chi.NewRouter()
	// A request log, with the callback's code and state hidden from it.
	r.Use(gate.Redact, middleware.Logger)
	gate.Mount(r) // /login, /callback, /logout

	// Public routes.
	r.Group(func(r chi.Router) {
		r.Get("/", exampleapp.Home(env.Emulated))
		r.Get("/readyz", exampleapp.Ready(gate)) // for a load balancer
	})

	// Routes for signed-in users only: a browser is sent to sign in, a
	// script or API client gets 401.
	r.Group(func(r chi.Router) {
		r.Use(gate.RequireSSO)
		r.Get("/app", exampleapp.AppPage)
		r.Get("/api/me", func(w http.ResponseWriter, r *http.Request) {
			p, _ := ssogate.ProfileFromContext(r.Context()) // RequireSSO put it there
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(p)
		})
	})

	// Routes for the admins of the admin organization only: anyone else
	// signed in gets 403.
	r.Group(func(r chi.Router) {
		r.Use(gate.RequireSSO, gate.RequireRole(env.AdminOrganization, "admin"))
		r.Get("/admin", exampleapp.AdminPage)
		r.Get("/admin/sso", gate.HealthHandler().ServeHTTP) // sign-in health per connection
		// Setting up SSO in WorkOS's Admin Portal.
		r.Get("/admin/sso/setup", gate.AdminPortalHandler(exampleapp.SetupSSO).ServeHTTP)
	})
	// A sensitive page: a sign-in within five minutes that asked the
	// identity provider to authenticate anew.
	r.With(gate.RequireRecentLogin(exampleapp.RecentLogin)).Get("/account/security", exampleapp.SecurityPage)
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
		r.Method(http.MethodPost, exampleapp.WebhookPath, hook)
	}
	return r, nil
}

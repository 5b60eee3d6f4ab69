// Command gin is the ssogate example app on a gin router: the sign-in
// handlers mounted on the engine and a route group gated with
// gate.RequireSSO through a small adapter (adapt.go). It is a module of its
// own, so that gin never reaches the library's go.mod.
//
// With no WORKOS_API_KEY it runs against workostest, an in-process WorkOS
// emulator with a few test organizations and users, so it works anywhere:
//
//	cd examples/gin && go run .
//
// and open http://localhost:8080. With real WorkOS keys:
//
//	WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... ADMIN_ORGANIZATION=org_... \
//	WORKOS_COOKIE_PASSWORD="$(openssl rand -base64 32)" \
//	WORKOS_REDIRECT_URI=http://localhost:8080/callback go run .
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
// through that Redis).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/examples/internal/exampleapp"
	"github.com/ssogate/ssogate/redisstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode) // GIN_MODE=debug shows gin's route table
	}
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "gin:", err)
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
// handlers, and the gated /app page and /api/me endpoint.
func newApp(gate *ssogate.Middleware, env exampleapp.Env) (http.Handler, error) {
	// gin.New, not gin.Default: gin.Recovery logs a panicking request's
	// headers, cookies included (net/http recovers from a panic and logs
	// neither), and gin.Logger logs query strings, so it comes after
	// gate.Redact, which hides the callback's code and state from it.
	r := gin.New()
	r.Use(wrapMiddleware(gate.Redact), gin.Logger())
	gate.Mount(ginRouter{r}) // /login, /callback, /logout

	r.GET("/", gin.WrapF(exampleapp.Home(env.Emulated)))
	r.GET("/readyz", gin.WrapF(exampleapp.Ready(gate))) // for a load balancer

	// Routes for signed-in users only: a browser is sent to sign in, a
	// script or API client gets 401.
	signedIn := r.Group("/", wrapMiddleware(gate.RequireSSO))
	signedIn.GET("/app", gin.WrapF(exampleapp.AppPage))
	signedIn.GET("/api/me", func(c *gin.Context) {
		p, _ := ssogate.ProfileFromContext(c.Request.Context()) // RequireSSO put it there
		c.JSON(http.StatusOK, p)
	})
	// The admins of the admin organization only: anyone else signed in
	// gets 403.
	signedIn.GET("/admin", wrapMiddleware(gate.RequireRole(env.AdminOrganization, "admin")), gin.WrapF(exampleapp.AdminPage))
	signedIn.GET("/admin/sso", wrapMiddleware(gate.RequireRole(env.AdminOrganization, "admin")), gin.WrapH(gate.HealthHandler()))
	// Setting up SSO in WorkOS's Admin Portal.
	signedIn.GET("/admin/sso/setup", wrapMiddleware(gate.RequireRole(env.AdminOrganization, "admin")), gin.WrapH(gate.AdminPortalHandler(exampleapp.SetupSSO)))
	// A sensitive page: a sign-in within five minutes that asked the
	// identity provider to authenticate anew.
	signedIn.GET("/account/security", wrapMiddleware(gate.RequireRecentLogin(exampleapp.RecentLogin)), gin.WrapF(exampleapp.SecurityPage))
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
		r.POST(exampleapp.WebhookPath, gin.WrapH(hook))
	}
	return r, nil
}

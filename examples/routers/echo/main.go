// Command echo signs users in with ssogate on an echo router. Copy this
// file into a module of your own; it needs the WORKOS_* variables that
// ssogate.ConfigFromEnv reads.
package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ssogate/ssogate"
)

func main() {
	cfg, err := ssogate.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	gate, err := ssogate.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: "localhost:8080", Handler: routes(gate),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.ListenAndServe())
}

// routes is the app: a public home page, the sign-in routes, and pages for
// signed-in users only.
func routes(gate *ssogate.Middleware) http.Handler {
	e := echo.New()
	e.HideBanner = true
	// The callback's code and state stay out of the log.
	e.Use(echo.WrapMiddleware(gate.Redact), middleware.RequestLogger())
	for _, p := range gate.Paths() { // /login, /callback, /logout
		e.Any(p, echo.WrapHandler(gate.Handler()))
	}

	e.GET("/", func(c echo.Context) error {
		return c.HTML(http.StatusOK, `<a href="/app">your page</a>`)
	})
	// A browser is sent to sign in, an API client gets 401.
	signedIn := e.Group("", echo.WrapMiddleware(gate.RequireSSO))
	signedIn.GET("/app", func(c echo.Context) error {
		p, _ := ssogate.ProfileFromContext(c.Request().Context())
		return c.String(http.StatusOK, fmt.Sprintf("Hello %s of %s\n", p.Email, p.OrganizationID))
	})
	return e
}

// Command gin signs users in with ssogate on a gin engine. Copy this file
// into a module of your own; it needs the WORKOS_* variables that
// ssogate.ConfigFromEnv reads.
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

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
	// Not gin.Default: its gin.Recovery logs a panicking request's
	// headers, cookies included. gin.Logger comes after gate.Redact, which
	// keeps the callback's code and state out of the log.
	r := gin.New()
	r.Use(wrapMiddleware(gate.Redact), gin.Logger())
	for _, p := range gate.Paths() { // /login, /callback, /logout
		r.Any(p, gin.WrapH(gate.Handler()))
	}

	r.GET("/", func(c *gin.Context) {
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(`<a href="/app">your page</a>`))
	})
	// A browser is sent to sign in, an API client gets 401.
	signedIn := r.Group("/", wrapMiddleware(gate.RequireSSO))
	signedIn.GET("/app", func(c *gin.Context) {
		p, _ := ssogate.ProfileFromContext(c.Request.Context())
		c.String(http.StatusOK, "Hello %s of %s\n", p.Email, p.OrganizationID)
	})
	return r
}

// wrapMiddleware turns a net/http middleware into a gin handler: the chain
// goes on, with the request the middleware handed on (which carries the
// profile), only if the middleware called its next handler; otherwise it
// answered (a redirect to sign in, a 401) and the chain stops. It is
// examples/gin's adapter, here again so that this file stands alone.
func wrapMiddleware(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

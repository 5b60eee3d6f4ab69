// Command chi signs users in with ssogate on a chi router. Copy this file
// into a module of your own; it needs the WORKOS_* variables that
// ssogate.ConfigFromEnv reads.
package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

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
	r := chi.NewRouter()
	r.Use(gate.Redact, middleware.Logger) // the callback's code and state stay out of the log
	gate.Mount(r)                         // /login, /callback, /logout

	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `<a href="/app">your page</a>`)
	})
	r.Group(func(r chi.Router) {
		r.Use(gate.RequireSSO) // a browser is sent to sign in, an API client gets 401
		r.Get("/app", func(w http.ResponseWriter, r *http.Request) {
			p, _ := ssogate.ProfileFromContext(r.Context())
			fmt.Fprintf(w, "Hello %s of %s\n", p.Email, p.OrganizationID)
		})
	})
	return r
}

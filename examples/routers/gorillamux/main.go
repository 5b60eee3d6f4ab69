// Command gorillamux signs users in with ssogate on a gorilla/mux router.
// Copy this file into a module of your own; it needs the WORKOS_*
// variables that ssogate.ConfigFromEnv reads.
package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/gorilla/mux"

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
	r := mux.NewRouter()
	// /login, /callback, /logout: mux's Handle returns the route, so
	// gate.Mount does not take it.
	for _, p := range gate.Paths() {
		r.Handle(p, gate.Handler())
	}
	r.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `<a href="/app">your page</a>`)
	}).Methods(http.MethodGet)

	signedIn := r.PathPrefix("/app").Subrouter()
	signedIn.Use(gate.RequireSSO) // a browser is sent to sign in, an API client gets 401
	signedIn.HandleFunc("", func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context())
		fmt.Fprintf(w, "Hello %s of %s\n", p.Email, p.OrganizationID)
	}).Methods(http.MethodGet)
	return r
}

// Command minimal is the smallest app that signs users in with ssogate: the
// program of the README's "Use it", as it is there. It needs a WorkOS
// environment (or a running "ssogate emulator") in the environment:
//
//	WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... \
//	WORKOS_REDIRECT_URI=http://localhost:8080/callback \
//	WORKOS_COOKIE_PASSWORD="$(go run ./cmd/ssogate secret)" go run ./examples/minimal
package main

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/ssogate/ssogate"
)

func main() {
	// WORKOS_API_KEY (sk_...), WORKOS_CLIENT_ID (client_...), WORKOS_REDIRECT_URI
	// (https://app.example.com/callback), WORKOS_COOKIE_PASSWORD (32+ random bytes).
	cfg, err := ssogate.ConfigFromEnv()
	if err != nil {
		log.Fatal(err) // names the variable that is missing or wrong
	}
	// gate is a *ssogate.Middleware: the handlers and gates of one app.
	gate, err := ssogate.New(cfg)
	if err != nil {
		log.Fatal(err) // names the Config field that is wrong
	}

	mux := http.NewServeMux()
	gate.Mount(mux) // /login, /callback (the RedirectURI's path), /logout
	mux.Handle("/app/", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context())
		fmt.Fprintf(w, "Hello %s of %s", p.Email, p.OrganizationID)
	})))
	// Timeouts, so that slow clients cannot hold connections open.
	srv := &http.Server{Addr: "localhost:8080", Handler: mux,
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.ListenAndServe())
}

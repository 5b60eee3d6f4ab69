package otelssogate_test

import (
	"log"
	"net/http"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/otelssogate"
)

// The snippet of docs/operating.md, as it is there.
var _ = newObservedGate

func newObservedGate(cfg ssogate.Config) *ssogate.Middleware {
	tel, err := otelssogate.New(otelssogate.Config{}) // the global MeterProvider and TracerProvider
	if err != nil {
		log.Fatal(err)
	}
	cfg.Observer = tel.Observer()
	gate, err := ssogate.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tel.Watch(gate); err != nil { // the gauges: revocations in force, caches, readiness
		log.Fatal(err)
	}
	return gate
}

var _ = healthRoute

func healthRoute(gate *ssogate.Middleware, mux *http.ServeMux, staff string) {
	mux.Handle("GET /admin/sso", gate.RequireRole(staff, "admin")(gate.HealthHandler()))
}

package main

import (
	"log"
	"testing"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/ssogate/ssogate/examples/routers/internal/routertest"
)

func TestRoutes(t *testing.T) {
	logs := &routertest.Log{}
	middleware.DefaultLogger = middleware.RequestLogger(&middleware.DefaultLogFormatter{Logger: log.New(logs, "", 0), NoColor: true})
	routertest.Check(t, routes, logs)
}

package main

import (
	"testing"

	"github.com/ssogate/ssogate/examples/routers/internal/routertest"
)

// gorilla/mux has no request logger of its own.
func TestRoutes(t *testing.T) { routertest.Check(t, routes, nil) }

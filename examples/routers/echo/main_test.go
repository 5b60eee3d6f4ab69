package main

import (
	"log/slog"
	"testing"

	"github.com/ssogate/ssogate/examples/routers/internal/routertest"
)

func TestRoutes(t *testing.T) {
	logs := &routertest.Log{}
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil))) // echo's RequestLogger logs through slog's default
	routertest.Check(t, routes, logs)
}

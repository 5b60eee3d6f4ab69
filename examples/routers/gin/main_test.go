package main

import (
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ssogate/ssogate/examples/routers/internal/routertest"
)

func TestRoutes(t *testing.T) {
	gin.SetMode(gin.TestMode) // no route table on stdout
	logs := &routertest.Log{}
	gin.DefaultWriter = logs
	routertest.Check(t, routes, logs)
}

package main

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ssogate/ssogate/examples/internal/exampletest"
	"github.com/ssogate/ssogate/redisstore/redistest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no route table on stdout
	os.Exit(m.Run())
}

// TestRoutes checks the public and gated routes over real HTTP against the
// embedded emulator: signed out, a whole sign-in, the profile and sign-out.
func TestRoutes(t *testing.T) { exampletest.TestRoutes(t, run) }

// TestReplicas runs two replicas of the app on one Redis.
func TestReplicas(t *testing.T) { exampletest.TestReplicas(t, run, redistest.Start(t).URL) }

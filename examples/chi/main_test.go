package main

import (
	"testing"

	"github.com/ssogate/ssogate/examples/internal/exampletest"
	"github.com/ssogate/ssogate/redisstore/redistest"
)

// TestRoutes checks the public and gated routes over real HTTP against the
// embedded emulator: signed out, a whole sign-in, the profile and sign-out.
func TestRoutes(t *testing.T) { exampletest.TestRoutes(t, run) }

// TestReplicas runs two replicas of the app on one Redis.
func TestReplicas(t *testing.T) { exampletest.TestReplicas(t, run, redistest.Start(t).URL) }

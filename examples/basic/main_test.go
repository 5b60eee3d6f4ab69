package main

import (
	"testing"

	"github.com/ssogate/ssogate/examples/internal/exampletest"
	"github.com/ssogate/ssogate/redisstore/redistest"
)

// TestRoutes checks the routes that the chi and gin examples serve the same
// way.
func TestRoutes(t *testing.T) { exampletest.TestRoutes(t, run) }

// TestReplicas runs two replicas of the app on one Redis.
func TestReplicas(t *testing.T) { exampletest.TestReplicas(t, run, redistest.Start(t).URL) }

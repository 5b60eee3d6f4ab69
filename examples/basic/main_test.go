package main

import (
	"testing"

	"github.com/ssogate/ssogate/examples/internal/exampletest"
)

// TestRoutes checks the routes that the chi and gin examples serve the same
// way.
func TestRoutes(t *testing.T) { exampletest.TestRoutes(t, run) }

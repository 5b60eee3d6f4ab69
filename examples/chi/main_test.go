package main

import (
	"testing"

	"github.com/ssogate/ssogate/examples/internal/exampletest"
)

// TestRoutes checks the public and gated routes over real HTTP against the
// embedded emulator: signed out, a whole sign-in, the profile and sign-out.
func TestRoutes(t *testing.T) { exampletest.TestRoutes(t, run) }

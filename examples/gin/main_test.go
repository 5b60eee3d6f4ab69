package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ssogate/ssogate/examples/internal/exampletest"
	"github.com/ssogate/ssogate/redisstore/redistest"
)

// requestLog receives what gin.Logger writes, in every test.
var requestLog = &exampletest.SyncBuffer{}

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode) // no route table on stdout
	gin.DefaultWriter = requestLog
	os.Exit(m.Run())
}

// TestRequestLogHidesCallbackSecrets signs in and reads gin's request log:
// the callback is there, with REDACTED for its code and state.
func TestRequestLogHidesCallbackSecrets(t *testing.T) {
	base := exampletest.Start(t, run, nil)
	exampletest.NewBrowser(t).SignIn(base, base+"/login?organization=org_acme", "alice@acme.com")
	logged := requestLog.String()
	if !strings.Contains(logged, "/callback?code=REDACTED&state=REDACTED") {
		t.Fatalf("the request log has no redacted callback:\n%s", logged)
	}
	for _, m := range regexp.MustCompile(`[?&](code|state)=([^&\s"]*)`).FindAllStringSubmatch(logged, -1) {
		if m[2] != "REDACTED" {
			t.Errorf("the request log holds a %s: %s", m[1], m[0])
		}
	}
}

// TestRoutes checks the public and gated routes over real HTTP against the
// embedded emulator: signed out, a whole sign-in, the profile and sign-out.
func TestRoutes(t *testing.T) { exampletest.TestRoutes(t, run) }

// TestReplicas runs two replicas of the app on one Redis.
func TestReplicas(t *testing.T) { exampletest.TestReplicas(t, run, redistest.Start(t).URL) }

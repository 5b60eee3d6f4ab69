package ssogate_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workostest"
)

// newApp stands for an application's routes, as the README's handler test
// uses them.
func newApp(gate *ssogate.Middleware) http.Handler {
	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("/admin", gate.RequireRole(workostest.AcmeOrganizationID, "admin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	return mux
}

var secret = []byte("a test cookie secret of 32 bytes or more")

// TestAdminNeedsTheRole is the handler test the README shows under "Test
// with the emulator", as it is there.
func TestAdminNeedsTheRole(t *testing.T) {
	idp := workostest.NewServer()
	defer idp.Close()
	app := httptest.NewServer(nil)
	defer app.Close()
	gate, _ := ssogate.New(ssogate.Config{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL,
		RedirectURI: app.URL + "/callback", CookieSecrets: [][]byte{secret}})
	app.Config.Handler = newApp(gate) // the app's real routes, gated by ssogate
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	if err := idp.SignIn(client, app.URL+"/login?organization="+workostest.AcmeOrganizationID, workostest.BobEmail); err != nil {
		t.Fatal(err)
	}
	if res, err := client.Get(app.URL + "/admin"); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("bob (a member) on /admin: got %v, %v; want 403", res, err)
	}
}

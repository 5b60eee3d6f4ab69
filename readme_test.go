package ssogate_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workostest"
)

// newApp stands for your application's routes: here, an admin area for
// the admins of Acme, the emulator's first organization.
func newApp(gate *ssogate.Middleware) http.Handler {
	mux := http.NewServeMux()
	gate.Mount(mux)
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("admin area")) })
	mux.Handle("/admin", gate.RequireRole(workostest.AcmeOrganizationID, "admin")(admin))
	return mux
}

// secret seals the test's cookies: any 32 bytes or more.
var secret = []byte("a test cookie secret of 32 bytes or more")

func TestAdminNeedsTheRole(t *testing.T) {
	idp := workostest.NewServer() // the WorkOS emulator, seeded with Acme, Globex and their users
	defer idp.Close()
	app := httptest.NewServer(nil)
	defer app.Close()
	gate, err := ssogate.New(ssogate.Config{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL,
		RedirectURI: app.URL + "/callback", CookieSecrets: [][]byte{secret}})
	if err != nil {
		t.Fatal(err)
	}
	app.Config.Handler = newApp(gate) // the app's real routes, gated by ssogate

	for email, want := range map[string]int{workostest.AliceEmail: http.StatusOK, workostest.BobEmail: http.StatusForbidden} {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		if err := idp.SignIn(client, app.URL+"/login?organization="+workostest.AcmeOrganizationID, email); err != nil {
			t.Fatal(err)
		}
		res, err := client.Get(app.URL + "/admin")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s on /admin: got %d, want %d", email, res.StatusCode, want)
		}
	}
}

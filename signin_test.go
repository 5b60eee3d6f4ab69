package ssogate

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/ssogate/ssogate/workostest"
)

// TestServerSignIn drives workostest's one-call sign-in against the
// real login flow of an app.
func TestServerSignIn(t *testing.T) {
	f := newFlow(t, []workostest.Option{}) // the hosted sign-in page, no auto sign-in
	newClient := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar}
	}

	t.Run("signs in", func(t *testing.T) {
		c := newClient()
		if err := f.idp.SignIn(c, f.app.URL+"/login?organization="+workostest.AcmeOrganizationID, workostest.BobEmail); err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		res, err := c.Get(f.app.URL + "/api/me")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || string(body) != "hello "+workostest.BobEmail+" of "+workostest.AcmeOrganizationID {
			t.Errorf("/api/me after SignIn: got %d %q, want bob's greeting", res.StatusCode, body)
		}
	})

	tests := []struct {
		name, login, email, want string
		client                   *http.Client
	}{
		{name: "no selector", login: "/login", email: workostest.AliceEmail,
			want: "GET " + "APP" + "/login: got 200 (" /* the email page */},
		{name: "user of another connection", login: "/login?organization=" + workostest.AcmeOrganizationID, email: workostest.HankEmail,
			want: "sent the browser back with access_denied"},
		{name: "unknown organization", login: "/login?organization=org_nowhere", email: workostest.AliceEmail,
			want: "got 404 (Not Found Single sign-on is not set up"},
		{name: "no cookie jar", login: "/login?organization=" + workostest.AcmeOrganizationID, email: workostest.AliceEmail,
			client: &http.Client{}, want: "needs a client with a cookie jar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.client
			if c == nil {
				c = newClient()
			}
			err := f.idp.SignIn(c, f.app.URL+tt.login, tt.email)
			want := strings.ReplaceAll(tt.want, "APP", f.app.URL)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("got %v, want an error saying %q", err, want)
			}
		})
	}

	t.Run("auto sign-in as someone else", func(t *testing.T) {
		f.idp.SetAutoSignIn(workostest.AliceEmail)
		defer f.idp.SetAutoSignIn("")
		err := f.idp.SignIn(newClient(), f.app.URL+"/login?organization="+workostest.AcmeOrganizationID, workostest.BobEmail)
		if err == nil || !strings.Contains(err.Error(), "signs in alice@acme.com automatically") {
			t.Errorf("got %v, want a refusal naming the auto sign-in", err)
		}
	})
	f.wantNoSecrets()
}

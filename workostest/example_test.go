package workostest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workostest"
)

// A whole login with auto sign-in: the authorization request comes straight
// back with a code, which the application exchanges for Alice's profile.
func ExampleNewServer() {
	srv := workostest.NewServer(workostest.WithAutoSignIn(workostest.AliceEmail))
	defer srv.Close()

	// The browser goes to /sso/authorize; stop at the redirect back.
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	authorize := srv.URL + "/sso/authorize?" + url.Values{
		"client_id":     {srv.ClientID},
		"redirect_uri":  {"http://localhost:8080/callback"},
		"response_type": {"code"},
		"organization":  {workostest.AcmeOrganizationID},
		"state":         {"xyz"},
	}.Encode()
	resp, err := client.Get(authorize)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	callback, _ := resp.Location()
	fmt.Println(resp.StatusCode, callback.Path, "state="+callback.Query().Get("state"))

	// The application exchanges the code on its server.
	resp, err = client.PostForm(srv.URL+"/sso/token", url.Values{
		"client_id":     {srv.ClientID},
		"client_secret": {srv.APIKey},
		"grant_type":    {"authorization_code"},
		"code":          {callback.Query().Get("code")},
	})
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var token struct {
		Profile struct {
			Email          string `json:"email"`
			Name           string `json:"name"`
			OrganizationID string `json:"organization_id"`
			Role           struct{ Slug string }
		} `json:"profile"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&token); err != nil {
		panic(err)
	}
	p := token.Profile
	fmt.Println(p.Email, p.Name, p.OrganizationID, p.Role.Slug)
	// Output:
	// 302 /callback state=xyz
	// alice@acme.com Alice Anderson org_acme admin
}

// Injecting a rate limit: the next two connection listings answer 429.
func ExampleServer_Fail() {
	srv := workostest.NewServer()
	defer srv.Close()
	srv.Fail("GET /connections", workostest.Fault{Times: 2, Status: http.StatusTooManyRequests, RetryAfter: "1"})

	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/connections", nil)
		req.Header.Set("Authorization", "Bearer "+srv.APIKey)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("%d Retry-After=%q\n", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	fmt.Println(srv.Count("GET /connections"), "requests")
	// Output:
	// 429 Retry-After="1"
	// 429 Retry-After="1"
	// 200 Retry-After=""
	// 3 requests
}

// SignIn signs a test's client in to an app through its real login wiring
// in one call; here the app is gated by ssogate.
func ExampleServer_SignIn() {
	idp := workostest.NewServer()
	defer idp.Close()
	app := httptest.NewUnstartedServer(nil)
	gate, err := ssogate.New(ssogate.Config{
		APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL,
		RedirectURI:   "http://" + app.Listener.Addr().String() + "/callback",
		CookieSecrets: [][]byte{[]byte("an example secret of at least 32 bytes")},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("/me", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context())
		fmt.Fprint(w, p.Email)
	})))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	if err := idp.SignIn(client, app.URL+"/login?organization="+workostest.AcmeOrganizationID, workostest.BobEmail); err != nil {
		panic(err)
	}
	resp, err := client.Get(app.URL + "/me")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: bob@acme.com
}

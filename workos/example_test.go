package workos_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"

	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// A sign-in with the client alone, against the emulator: the browser goes
// to the authorization URL and comes back with a code, which is exchanged
// once for the user's profile.
func Example() {
	idp := workostest.NewServer(workostest.WithAutoSignIn(workostest.AliceEmail))
	defer idp.Close()
	client, err := workos.NewClient(workos.ClientConfig{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL})
	if err != nil {
		log.Fatal(err)
	}
	verifier := workos.NewPKCEVerifier() // kept, with the state, in the browser's login cookie
	authURL, err := client.AuthorizationURL(workos.AuthorizationURLOptions{
		ConnectionID:  workostest.AcmeConnectionID,
		RedirectURI:   "http://localhost:8080/callback",
		State:         "a-random-state",
		CodeChallenge: workos.PKCEChallenge(verifier),
	})
	if err != nil {
		log.Fatal(err)
	}

	// What the browser does: follow the redirects up to the callback.
	browser := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "localhost:8080" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(authURL)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		log.Fatal(err)
	}
	code := back.Query().Get("code")
	fmt.Println("state:", back.Query().Get("state"))

	pt, err := client.ExchangeCode(context.Background(), code, verifier)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pt.Profile.Email, pt.Profile.OrganizationID, pt.Profile.ConnectionType)
	_, err = client.ExchangeCode(context.Background(), code, verifier)
	fmt.Println("again:", errors.Is(err, workos.ErrInvalidGrant))
	// Output:
	// state: a-random-state
	// alice@acme.com org_acme OktaSAML
	// again: true
}

// AllConnections walks the pages of a listing; a failure ends the walk
// with the error.
func ExampleAllConnections() {
	idp := workostest.NewServer()
	defer idp.Close()
	client, err := workos.NewClient(workos.ClientConfig{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL})
	if err != nil {
		log.Fatal(err)
	}
	opts := workos.ListConnectionsOptions{Limit: 2, Order: workos.OrderAsc}
	for conn, err := range workos.AllConnections(context.Background(), client.ListConnections, opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(conn.ID, conn.ConnectionType, conn.Active())
	}
	fmt.Println("pages:", idp.Count("GET /connections"))
	// Output:
	// conn_acme_okta OktaSAML true
	// conn_globex_oidc GenericOIDC true
	// conn_google_oauth GoogleOAuth true
	// conn_initech_saml GenericSAML false
	// pages: 2
}

// WithObserver lets code that is handed a Client watch the calls it makes,
// here to count failures by route and error code.
func ExampleWithObserver() {
	idp := workostest.NewServer()
	defer idp.Close()
	client, err := workos.NewClient(workos.ClientConfig{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL})
	if err != nil {
		log.Fatal(err)
	}
	ctx := workos.WithObserver(context.Background(), &workos.Observer{
		CallDone: func(_ context.Context, info workos.CallInfo) {
			fmt.Println(info.Route, info.Status, info.Code, info.Attempts)
		},
	})
	_, err = client.ExchangeCode(ctx, "not-a-code", "")
	fmt.Println(errors.Is(err, workos.ErrInvalidGrant))
	_, err = client.GetConnection(ctx, "conn_nope")
	fmt.Println(errors.Is(err, workos.ErrNotFound))
	// Output:
	// POST /sso/token 400 invalid_grant 1
	// true
	// GET /connections/{id} 404 entity_not_found 1
	// true
}

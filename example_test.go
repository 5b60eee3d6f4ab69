package ssogate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// A whole sign-in against the WorkOS emulator: the gated page sends the
// browser to /login, /login to WorkOS, WorkOS (signing Alice in at once)
// back to /callback, and the callback to the page, now with her profile.
func ExampleNew() {
	idp := workostest.NewServer(workostest.WithAutoSignIn(workostest.AliceEmail))
	defer idp.Close()

	app := httptest.NewUnstartedServer(nil)
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        idp.APIKey,
		ClientID:      idp.ClientID,
		BaseURL:       idp.URL,
		RedirectURI:   "http://" + app.Listener.Addr().String() + "/callback",
		CookieSecrets: [][]byte{[]byte("an example secret of at least 32 bytes")},
		// Where /login sends users who do not say; otherwise it asks
		// for their work email.
		DefaultOrganization: workostest.AcmeOrganizationID,
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("/app", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context())
		fmt.Fprintf(w, "Hello %s of %s", p.Email, p.OrganizationID)
	})))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/app", nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	resp, err := browser.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: Hello alice@acme.com of org_acme
}

// RequireSSO answers a signed-out API call with 401 and the login URL,
// rather than a redirect that a script cannot follow.
func ExampleMiddleware_RequireSSO() {
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        "sk_test_example",
		ClientID:      "client_example",
		RedirectURI:   "https://app.example.com/callback",
		CookieSecrets: [][]byte{[]byte("an example secret of at least 32 bytes")},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "secret data")
	}))

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	req.Header.Set("Accept", "application/json")
	api.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))
	fmt.Print(rec.Body.String())
	// Output:
	// 401 no-store
	// {"error":"unauthorized","login_url":"/login?return_to=%2Fapi%2Fme"}
}

func ExampleSafeReturnTo() {
	for _, rt := range []string{"/reports?year=2026", "//evil.example", "/\\evil.example", "https://evil.example/"} {
		p, ok := ssogate.SafeReturnTo(rt)
		fmt.Printf("%q %q %v\n", rt, p, ok)
	}
	// Output:
	// "/reports?year=2026" "/reports?year=2026" true
	// "//evil.example" "" false
	// "/\\evil.example" "" false
	// "https://evil.example/" "" false
}

func ExampleParseEmailDomain() {
	for _, email := range []string{"Jane.Doe@ACME.com", "jane@bücher.example", "Jane <jane@acme.com>", "jane@acme.com@evil.example"} {
		d, err := ssogate.ParseEmailDomain(email)
		fmt.Printf("%q %q %v\n", email, d, err)
	}
	// Output:
	// "Jane.Doe@ACME.com" "acme.com" <nil>
	// "jane@bücher.example" "xn--bcher-kva.example" <nil>
	// "Jane <jane@acme.com>" "" ssogate: invalid email address or domain
	// "jane@acme.com@evil.example" "" ssogate: invalid email address or domain
}

// The cache routes an email domain to its connection, asking WorkOS (here
// the emulator) once and then answering from memory.
func ExampleConnectionCache_Domain() {
	idp := workostest.NewServer()
	defer idp.Close()
	client, err := workos.NewClient(workos.ClientConfig{APIKey: idp.APIKey, ClientID: idp.ClientID, BaseURL: idp.URL})
	if err != nil {
		log.Fatal(err)
	}
	cache, err := ssogate.NewConnectionCache(client, ssogate.CacheConfig{})
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		set, err := cache.Domain(context.Background(), "ACME.com")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(set.OrganizationID, set.Active()[0].ID)
	}
	_, err = cache.Domain(context.Background(), "unknown.example")
	fmt.Println(errors.Is(err, ssogate.ErrNoConnection))
	fmt.Println("WorkOS calls:", idp.Count("GET /connections"))
	// Output:
	// org_acme conn_acme_okta
	// org_acme conn_acme_okta
	// org_acme conn_acme_okta
	// true
	// WorkOS calls: 2
}

// The webhook handler acts only on deliveries signed with the endpoint's
// secret.
func ExampleNewWebhookHandler() {
	const secret = "whsec_example"
	hook, err := ssogate.NewWebhookHandler(ssogate.WebhookConfig{
		Secret: secret,
		OnEvent: func(_ context.Context, ev *workos.Event) error {
			fmt.Println("event:", ev.Event)
			return nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	body := `{"object":"event","id":"event_1","event":"user.created","data":{},"created_at":"2026-03-01T12:00:00Z"}`
	for _, sig := range []string{
		workostest.SignWebhook(secret, time.Now(), []byte(body)),
		workostest.SignWebhook("another secret", time.Now(), []byte(body)),
	} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", strings.NewReader(body))
		req.Header.Set("WorkOS-Signature", sig)
		rec := httptest.NewRecorder()
		hook.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// event: user.created
	// 200
	// 401
}

// Revoke ends sessions on every replica: here, a user's, when they are
// offboarded. A malformed id is refused with an error that names it.
func ExampleMiddleware_Revoke() {
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        "sk_test_example",
		ClientID:      "client_example",
		RedirectURI:   "https://app.example.com/callback",
		CookieSecrets: [][]byte{[]byte("an example secret of at least 32 bytes")},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := gate.Revoke(ctx, ssogate.RevokeUser("prof_01HXYZ")); err != nil {
		log.Fatal(err)
	}
	err = gate.Revoke(ctx, ssogate.RevokeOrganization("acme"))
	fmt.Println(errors.Is(err, ssogate.ErrInvalidRevocation), err)
	// Output: true ssogate: invalid revocation: "acme" is not a valid organization id
}

// RequireRecentLogin guards a sensitive route: a session signed in longer
// ago than allowed is sent to sign in again (prompt=login) through its own
// connection, and an API call gets 401 naming the reason.
func ExampleMiddleware_RequireRecentLogin() {
	idp := workostest.NewServer(workostest.WithAutoSignIn(workostest.AliceEmail))
	defer idp.Close()
	app := httptest.NewUnstartedServer(nil)
	gate, err := ssogate.New(ssogate.Config{
		APIKey:              idp.APIKey,
		ClientID:            idp.ClientID,
		BaseURL:             idp.URL,
		RedirectURI:         "http://" + app.Listener.Addr().String() + "/callback",
		CookieSecrets:       [][]byte{[]byte("an example secret of at least 32 bytes")},
		DefaultOrganization: workostest.AcmeOrganizationID,
		Logger:              slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("/app", gate.RequireSSO(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	// Zero tolerance, so that the example need not wait.
	mux.Handle("POST /billing", gate.RequireRecentLogin(time.Nanosecond)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/app", nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	if _, err := browser.Do(req); err != nil { // signs in
		log.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	resp, err := browser.Post(app.URL+"/billing", "application/json", strings.NewReader("{}"))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.TrimSpace(string(body)))
	// Output: 401 {"error":"recent_login_required","login_url":"/login?connection=conn_acme_okta\u0026prompt=login\u0026return_to=%2Fbilling"}
}

// Authorization gates compose after RequireSSO: here only Acme's admins
// reach /admin. A role is a claim of the user's own organization, so the
// gate names the organization whose admins count. Bob is signed in but a
// member, so his API call gets 403.
func ExampleMiddleware_RequireRole() {
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
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux)
	admin := gate.RequireRole(workostest.AcmeOrganizationID, "admin") // alone, it implies RequireSSO
	mux.Handle("/admin", gate.RequireSSO(admin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "admin area")
	}))))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	for _, email := range []string{workostest.AliceEmail, workostest.BobEmail} {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		if err := idp.SignIn(client, app.URL+"/login?organization="+workostest.AcmeOrganizationID, email); err != nil {
			log.Fatal(err)
		}
		resp, err := client.Get(app.URL + "/admin")
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(email, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	// Output:
	// alice@acme.com 200 admin area
	// bob@acme.com 403 {"error":"forbidden","message":"You do not have access to this page."}
}

// An Observer sees every decision as a typed value: here, how a sign-in
// was routed, what WorkOS was asked, and how the callback ended.
func ExampleObserver() {
	idp := workostest.NewServer(workostest.WithAutoSignIn(workostest.AliceEmail))
	defer idp.Close()

	app := httptest.NewUnstartedServer(nil)
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        idp.APIKey,
		ClientID:      idp.ClientID,
		BaseURL:       idp.URL,
		RedirectURI:   "http://" + app.Listener.Addr().String() + "/callback",
		CookieSecrets: [][]byte{[]byte("an example secret of at least 32 bytes")},
		Logger:        slog.New(slog.DiscardHandler),
		Observer: &ssogate.Observer{
			LoginDone: func(ctx context.Context, info ssogate.LoginInfo) {
				fmt.Println("login:", info.Route, info.ConnectionID, info.Status)
			},
			WorkOSCallDone: func(ctx context.Context, info workos.CallInfo) {
				fmt.Println("workos:", info.Route, info.Status)
			},
			CallbackDone: func(ctx context.Context, info ssogate.CallbackInfo) {
				fmt.Println("callback: signed in", info.SignedIn, "through", info.ConnectionID)
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux)
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(app.URL + "/login?connection=" + workostest.AcmeConnectionID)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	// Output:
	// workos: GET /connections/{id} 200
	// login: connection conn_acme_okta 302
	// workos: POST /sso/token 200
	// callback: signed in true through conn_acme_okta
}

// FollowEvents catches up the Directory Sync and connection events whose
// webhook deliveries never arrived. Its client is the gate's own.
func ExampleMiddleware_FollowEvents() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	apiKey, clientID := os.Getenv("WORKOS_API_KEY"), os.Getenv("WORKOS_CLIENT_ID")
	cfg := ssogate.Config{
		RedirectURI:   os.Getenv("WORKOS_REDIRECT_URI"),
		CookieSecrets: [][]byte{[]byte(os.Getenv("WORKOS_COOKIE_PASSWORD"))},
	}
	client, err := workos.NewClient(workos.ClientConfig{APIKey: apiKey, ClientID: clientID})
	if err != nil {
		log.Fatal(err)
	}
	cfg.Provider = client
	gate, err := ssogate.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	go gate.FollowEvents(ctx, client.ListEvents, 30*time.Second)
	// Serve the app with gate.
}

// AdminPortalHandler sends an organization's admin to WorkOS's Admin
// Portal for that organization, to set up its SSO connection: here Acme's
// alice reaches the emulator's portal, and bob, a member, is refused.
func ExampleMiddleware_AdminPortalHandler() {
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
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("GET /admin/sso/setup", gate.RequireRole(ssogate.AnyOrganization, "admin")(gate.AdminPortalHandler(workos.PortalLinkOptions{Intent: workos.PortalSSO})))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	for _, email := range []string{workostest.AliceEmail, workostest.BobEmail} {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		if err := idp.SignIn(client, app.URL+"/login?organization="+workostest.AcmeOrganizationID, email); err != nil {
			log.Fatal(err)
		}
		resp, err := client.Get(app.URL + "/admin/sso/setup") // follows the redirect to the portal
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(email, resp.StatusCode, strings.Contains(string(body), "Set up single sign-on"))
	}
	// Output:
	// alice@acme.com 200 true
	// bob@acme.com 403 false
}

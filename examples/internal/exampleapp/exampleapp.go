// Package exampleapp holds what the example apps share: reading their
// environment, starting the embedded WorkOS emulator when there are no real
// keys, serving, and the pages and handlers behind their routes. Each example
// keeps its own router wiring; everything else lives here once.
//
// Environment: ADDR (default localhost:8080), WORKOS_API_KEY, WORKOS_CLIENT_ID,
// WORKOS_BASE_URL, WORKOS_REDIRECT_URI (default http://$ADDR/callback),
// WORKOS_COOKIE_PASSWORD (at least 32 bytes; required with a real API key),
// WORKOS_COOKIE_PASSWORD_PREVIOUS and WORKOS_COOKIE_PASSWORD_NEXT (optional, for
// rotation: see docs/production.md),
// WORKOS_WEBHOOK_SECRET (optional: the app then verifies WorkOS's webhook
// deliveries at [WebhookPath]), ADMIN_ORGANIZATION (the organization whose
// admins may open /admin; required with a real API key),
// WORKOS_EVENTS_POLL_INTERVAL (a Go duration, default 30s, 0 to turn it off:
// how often the app reads WorkOS's Events API for the events a webhook
// delivery missed) and REDIS_URL (optional, redis://host:port[/db]:
// replicas of the app with the same WORKOS_COOKIE_PASSWORD then share
// sign-outs, revocations, connection events and the events cursor through
// that Redis). With no
// WORKOS_API_KEY the app signs in through workostest, seeded with
// [workostest.DefaultSeed].
package exampleapp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// Env is what an example's routes need to know about their environment
// beyond the [ssogate.Middleware] they are given.
type Env struct {
	// Emulated reports whether the app signs in through the embedded
	// WorkOS emulator, with no WORKOS_API_KEY set.
	Emulated bool
	// WebhookSecret is the secret webhook deliveries are signed with:
	// WORKOS_WEBHOOK_SECRET, or with the emulator a random one (unless
	// WORKOS_WEBHOOK_SECRET is set) that it signs its events with. Empty
	// when there are real keys and no WORKOS_WEBHOOK_SECRET.
	WebhookSecret string
	// EventsPollInterval is how often the app reads WorkOS's Events API
	// (WORKOS_EVENTS_POLL_INTERVAL, default [DefaultEventsPollInterval]);
	// zero when it does not.
	EventsPollInterval time.Duration
	// AdminOrganization is the organization (org_...) whose admins may
	// open /admin: ADMIN_ORGANIZATION, or with the emulator Acme. A role is
	// a claim of the user's own organization, so the admin gate names
	// the organization it trusts.
	AdminOrganization string
	// Logger is the app's logger.
	Logger *slog.Logger
}

// SetupSSO is what /admin/sso/setup opens WorkOS's Admin Portal for: a
// new SSO connection of the admin's organization.
var SetupSSO = workos.PortalLinkOptions{Intent: workos.PortalSSO}

// RecentLogin is how recent a sign-in /account/security asks for.
const RecentLogin = 5 * time.Minute

// DefaultEventsPollInterval is how often the examples read WorkOS's Events
// API when WORKOS_EVENTS_POLL_INTERVAL is not set.
const DefaultEventsPollInterval = 30 * time.Second

// WebhookPath is where the examples receive WorkOS's webhook deliveries.
// Register https://<your app>/webhooks/workos in the WorkOS dashboard.
const WebhookPath = "/webhooks/workos"

// Routes builds an example's handler from its gate and environment.
type Routes func(gate *ssogate.Middleware, env Env) (http.Handler, error)

// OpenBackplane opens the backplane at a REDIS_URL. The examples pass one
// made with github.com/ssogate/ssogate/redisstore, which lives in a module
// of its own so that no Redis client reaches the library's go.mod.
type OpenBackplane func(url string, logger *slog.Logger) (ssogate.Backplane, io.Closer, error)

// Run serves the handler that routes builds until ctx ends, reading the
// environment through getenv and writing the log and the sign-in
// instructions to out. ready, if not nil, receives the app's base URL once
// it is listening. With REDIS_URL set, open makes the app's backplane.
// Each of configure, if any, may change the [ssogate.Config] before the
// Middleware is made (to add an Observer, say).
func Run(ctx context.Context, getenv func(string) string, out io.Writer, ready chan<- string, routes Routes, open OpenBackplane, configure ...func(*ssogate.Config)) error {
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))

	addr := getenv("ADDR")
	if addr == "" {
		addr = "localhost:8080"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	// With port 0 the system picks one; the app's URL uses the port it got.
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	baseURL := "http://" + net.JoinHostPort(host, port)

	s, err := readEnv(getenv, baseURL)
	if err != nil {
		return err
	}
	var emulatorURL, emulatorKey string
	cfg := s.cfg
	cfg.Logger = logger
	s.env.Logger = logger
	if s.env.Emulated {
		// The emulator sends the app signed connection events, as WorkOS
		// does, when its connections change.
		if s.env.WebhookSecret == "" {
			s.env.WebhookSecret = rand.Text()
		}
		idp := workostest.NewServer(
			workostest.WithLogoutRedirect(baseURL+"/"),
			workostest.WithWebhook(baseURL+WebhookPath, s.env.WebhookSecret),
			// For offboarding by hand: see the instructions printed below.
			workostest.WithAdmin(),
		)
		emulatorURL, emulatorKey = idp.URL, idp.APIKey
		defer idp.Close()
		cfg.APIKey, cfg.ClientID, cfg.BaseURL = idp.APIKey, idp.ClientID, idp.URL
		fmt.Fprintf(out, "No WORKOS_API_KEY: signing in through the WorkOS emulator at %s\n", idp.URL)
	}
	if s.ephemeral {
		logger.Warn("WORKOS_COOKIE_PASSWORD is not set: using a random one, so sessions end when the app restarts")
	}
	if redisURL := getenv("REDIS_URL"); redisURL != "" {
		if s.ephemeral {
			return errors.New("REDIS_URL needs WORKOS_COOKIE_PASSWORD: replicas must share it to accept each other's sessions")
		}
		bp, closer, err := open(redisURL, logger)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		defer closer.Close()
		cfg.Backplane = bp
		fmt.Fprintln(out, "Sharing sign-outs, revocations and connection events through REDIS_URL")
	}

	// The app's own WorkOS client serves the gate and reads the Events API.
	client, err := workos.NewClient(workos.ClientConfig{
		APIKey:   cfg.APIKey,
		ClientID: cfg.ClientID,
		BaseURL:  cfg.BaseURL,
		Logger:   logger,
	})
	if err != nil {
		return err
	}
	cfg.Provider = client
	for _, c := range configure {
		c(&cfg)
	}
	gate, err := ssogate.New(cfg)
	if err != nil {
		return err
	}
	if interval := s.env.EventsPollInterval; interval > 0 {
		// Events a webhook delivery missed (the app was down, a proxy
		// dropped it) still end the sessions they should, within an
		// interval.
		go gate.FollowEvents(ctx, client.ListEvents, interval)
	}
	handler, err := routes(gate, s.env)
	if err != nil {
		return err
	}

	if s.env.Emulated {
		fmt.Fprintf(out, "Open %s and sign in as one of the test users:\n", baseURL)
		for _, u := range workostest.DefaultSeed().Users {
			fmt.Fprintf(out, "  %-18s (%s %s)\n", u.Email, u.FirstName, u.LastName)
		}
		fmt.Fprintf(out, "To offboard bob (deactivate him in Acme's directory: his sessions end on every replica):\n%s\n",
			offboardCommand(emulatorURL, emulatorKey, workostest.BobEmail))
		fmt.Fprintf(out, "To onboard a new customer, in another terminal (create its organization, then open the Admin Portal link it prints within five minutes):\n"+
			"  export WORKOS_API_KEY=%s WORKOS_BASE_URL=%s\n"+
			"  go run ./cmd/ssogate organizations create -name Hooli -domain hooli.example\n"+
			"  go run ./cmd/ssogate portal-link -organization org_... # the id it printed\n", emulatorKey, emulatorURL)
	} else {
		fmt.Fprintf(out, "Open %s\n", baseURL)
	}

	srv := newServer(handler, logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready <- baseURL
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// newServer returns the app's HTTP server, with the timeouts a server
// facing the internet needs: without them a client that sends its headers
// or body a byte a minute (a slow webhook delivery, say) holds a goroutine
// and a connection for ever. WriteTimeout leaves room for a callback's
// WorkOS calls (ssogate.DefaultExchangeTimeout) and the page after them.
func newServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      ssogate.DefaultExchangeTimeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10, // the session cookie and five login states fit many times over
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// offboardCommand is the command line, printed on the emulator, that
// deactivates the user with email in Acme's directory through the admin
// API of the emulator at emulatorURL: the emulator then sends the app the
// signed dsync.user.updated that WorkOS would.
func offboardCommand(emulatorURL, apiKey, email string) string {
	return fmt.Sprintf("  curl -X PATCH -H 'Authorization: Bearer %s' -d '{\"state\":\"inactive\"}' %s%sdirectory_users/%s",
		apiKey, emulatorURL, workostest.AdminPrefix, workostest.DirectoryUserID(workostest.AcmeDirectoryID, email))
}

// settings is what readEnv makes of the environment.
type settings struct {
	// cfg lacks the Logger and, when emulated, the emulator's credentials.
	cfg ssogate.Config
	env Env
	// ephemeral reports that the cookie password is a random one made for
	// this process.
	ephemeral bool
}

// checkEmulatorEnv refuses to start the emulator, as an empty
// WORKOS_API_KEY asks, in an environment that is otherwise a production
// one: such a process would sign anyone in and, through a shared Redis,
// join the real app's fleet. A development environment names no WorkOS
// client or base URL, redirects to this machine, and keeps Redis here.
func checkEmulatorEnv(getenv func(string) string) error {
	const emulated = "WORKOS_API_KEY is empty, so the app would sign anyone in through the built-in WorkOS emulator, but "
	// The variables of a production environment only. WORKOS_COOKIE_PASSWORD
	// is not one: replicas on the emulator share it to share sessions; nor
	// is WORKOS_WEBHOOK_SECRET, with which the emulator signs its events.
	for _, v := range []string{"WORKOS_CLIENT_ID", "WORKOS_BASE_URL", "ADMIN_ORGANIZATION"} {
		if getenv(v) != "" {
			return fmt.Errorf(emulated+"%s is set: set WORKOS_API_KEY to this environment's API key (or unset %s to use the emulator)", v, v)
		}
	}
	// On the emulator, the app listens on this machine only.
	if v := getenv("ADDR"); v != "" {
		if host, _, err := net.SplitHostPort(v); err != nil || !localHost(host) {
			return errors.New(emulated + "ADDR listens beyond this machine: set WORKOS_API_KEY to this environment's API key (or a loopback ADDR, such as localhost:8080, to use the emulator)")
		}
	}
	if v := getenv("WORKOS_REDIRECT_URI"); v != "" {
		if u, err := url.Parse(v); err != nil || !localHost(u.Hostname()) {
			return errors.New(emulated + "WORKOS_REDIRECT_URI points outside this machine: set WORKOS_API_KEY to this environment's API key (or a localhost redirect URI to use the emulator)")
		}
	}
	if v := getenv("REDIS_URL"); v != "" {
		if u, err := url.Parse(v); err != nil || !localHost(u.Hostname()) {
			return errors.New(emulated + "REDIS_URL points outside this machine, where it would join other replicas: set WORKOS_API_KEY to this environment's API key (or a local Redis to use the emulator)")
		}
	}
	return nil
}

// localHost reports whether host is this machine: localhost, a name under
// .localhost, or a loopback address.
func localHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// minCookiePassword is the shortest WORKOS_COOKIE_PASSWORD accepted, as
// [ssogate.Config].CookieSecrets requires.
const minCookiePassword = 32

// readEnv reads the app's settings through getenv for an app served at
// baseURL.
func readEnv(getenv func(string) string, baseURL string) (settings, error) {
	s := settings{
		cfg: ssogate.Config{
			APIKey:      getenv("WORKOS_API_KEY"),
			ClientID:    getenv("WORKOS_CLIENT_ID"),
			BaseURL:     getenv("WORKOS_BASE_URL"),
			RedirectURI: getenv("WORKOS_REDIRECT_URI"),
		},
		env: Env{WebhookSecret: getenv("WORKOS_WEBHOOK_SECRET"), AdminOrganization: getenv("ADMIN_ORGANIZATION")},
	}
	if s.cfg.RedirectURI == "" {
		s.cfg.RedirectURI = baseURL + "/callback"
	}
	s.env.Emulated = s.cfg.APIKey == ""
	if s.env.Emulated {
		if err := checkEmulatorEnv(getenv); err != nil {
			return settings{}, err
		}
	}

	password := getenv("WORKOS_COOKIE_PASSWORD")
	switch {
	case password == "" && !s.env.Emulated:
		return settings{}, errors.New("WORKOS_COOKIE_PASSWORD is required with a real WORKOS_API_KEY (at least 32 random bytes, e.g. openssl rand -base64 32)")
	case password == "":
		// A random password is fine for the emulator: nothing outlives the
		// process anyway.
		password = rand.Text() + rand.Text()
		s.ephemeral = true
	case len(password) < minCookiePassword:
		return settings{}, errors.New("WORKOS_COOKIE_PASSWORD must be at least 32 bytes")
	}
	s.cfg.CookieSecrets = [][]byte{[]byte(password)}
	if prev := getenv("WORKOS_COOKIE_PASSWORD_PREVIOUS"); prev != "" {
		if len(prev) < minCookiePassword {
			return settings{}, errors.New("WORKOS_COOKIE_PASSWORD_PREVIOUS must be at least 32 bytes")
		}
		s.cfg.CookieSecrets = append(s.cfg.CookieSecrets, []byte(prev))
	}
	if next := getenv("WORKOS_COOKIE_PASSWORD_NEXT"); next != "" {
		if len(next) < minCookiePassword {
			return settings{}, errors.New("WORKOS_COOKIE_PASSWORD_NEXT must be at least 32 bytes")
		}
		s.cfg.NextCookieSecrets = [][]byte{[]byte(next)}
	}
	s.env.EventsPollInterval = DefaultEventsPollInterval
	if v := getenv("WORKOS_EVENTS_POLL_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return settings{}, errors.New("WORKOS_EVENTS_POLL_INTERVAL must be a duration such as 30s, or 0 to turn polling off")
		}
		s.env.EventsPollInterval = d
	}
	switch {
	case s.env.AdminOrganization == "" && s.env.Emulated:
		s.env.AdminOrganization = workostest.AcmeOrganizationID
	case s.env.AdminOrganization == "":
		return settings{}, errors.New("ADMIN_ORGANIZATION is required with a real WORKOS_API_KEY: the organization (org_...) whose admins may open /admin")
	case !strings.HasPrefix(s.env.AdminOrganization, "org_"):
		return settings{}, errors.New("ADMIN_ORGANIZATION must be an organization id (org_...)")
	}
	return s, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/ssogate/ssogate/workostest"
)

// runEmulator serves a workostest server on --addr until ctx ends.
func runEmulator(ctx context.Context, args []string, e env) error {
	fs := newFlags(e, "emulator", "emulator [-addr host:port] [-allow-host NAME]... [-seed FILE] [-redirect-uri URI]... [-api-key sk_...] [-client-id client_...] [-webhook URL -webhook-secret S] [-auto-sign-in EMAIL]",
		`  ssogate emulator -addr 127.0.0.1:8788 -seed seed.json -redirect-uri http://localhost:3000/callback
  # then point the app or SDK at it:
  export WORKOS_API_KEY=sk_test_workostest WORKOS_CLIENT_ID=client_workostest WORKOS_BASE_URL=http://127.0.0.1:8788`)
	addr := fs.String("addr", "127.0.0.1:8788", "address to listen on")
	seedFile := fs.String("seed", "", "JSON seed file of organizations, connections and users (default: the built-in seed; see seed.example.json)")
	apiKey := fs.String("api-key", workostest.DefaultAPIKey, "API key the emulator accepts")
	clientID := fs.String("client-id", workostest.DefaultClientID, "client ID the emulator accepts")
	webhook := fs.String("webhook", "", "URL to deliver signed connection events to")
	webhookSecret := fs.String("webhook-secret", "", "secret that signs the webhook deliveries (required with -webhook)")
	autoSignIn := fs.String("auto-sign-in", "", "email of a seeded user to sign in at once, skipping the sign-in page (for scripted tests)")
	var redirects, hosts []string
	fs.Func("allow-host", "a host name the emulator answers to besides loopback ones and -addr's, such as a container's name; repeat for several", func(v string) error {
		if v == "" || strings.ContainsAny(v, "/:@ ") {
			return errors.New("must be a host name without a port")
		}
		hosts = append(hosts, v)
		return nil
	})
	fs.Func("redirect-uri", "a redirect URI /sso/authorize accepts, as registered in the dashboard; repeat for several (default: any)", func(v string) error {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("must be an absolute http or https URL")
		}
		redirects = append(redirects, v)
		return nil
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return usagef("emulator takes no arguments, got %q", fs.Arg(0))
	case !strings.HasPrefix(*apiKey, "sk_"):
		return usagef("-api-key must start with sk_")
	case !strings.HasPrefix(*clientID, "client_"):
		return usagef("-client-id must start with client_")
	case (*webhook == "") != (*webhookSecret == ""):
		return usagef("-webhook and -webhook-secret go together")
	}
	if *webhook != "" {
		if u, err := url.Parse(*webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("-webhook must be an absolute http or https URL")
		}
	}

	seed := workostest.DefaultSeed()
	if *seedFile != "" {
		data, err := os.ReadFile(*seedFile)
		if err != nil {
			return usagef("seed: %v", err)
		}
		if seed, err = workostest.ParseSeed(data); err != nil {
			return usagef("%s: %v", *seedFile, err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return usagef("listening on %s: %v", *addr, err)
	}
	opts := []workostest.Option{
		workostest.WithListener(ln), workostest.WithSeed(seed), workostest.WithAdmin(),
		workostest.WithAPIKey(*apiKey), workostest.WithClientID(*clientID), workostest.WithHosts(hosts...),
	}
	if len(redirects) > 0 {
		opts = append(opts, workostest.WithRedirectURIs(redirects...))
	}
	if *webhook != "" {
		opts = append(opts, workostest.WithWebhook(*webhook, *webhookSecret))
	}
	if *autoSignIn != "" {
		opts = append(opts, workostest.WithAutoSignIn(*autoSignIn))
	}
	srv := workostest.NewServer(opts...)

	w := e.stdout
	if !loopback(ln.Addr()) {
		fmt.Fprintf(e.stderr, "warning: %s is not a loopback address: anyone who can reach it can sign in as any seeded user and drive the admin API with the API key\n\n", ln.Addr())
	}
	fmt.Fprintf(w, "WorkOS emulator at %s (for development and tests only: it signs in anyone)\n\n", srv.URL)
	fmt.Fprintf(w, "export WORKOS_API_KEY=%s\nexport WORKOS_CLIENT_ID=%s\nexport WORKOS_BASE_URL=%s\n\n", srv.APIKey, srv.ClientID, srv.URL)
	fmt.Fprintln(w, "Users:")
	states := map[string]string{}
	for _, c := range seed.Connections {
		states[c.ID] = c.State
	}
	for _, u := range seed.Users {
		note := ""
		if st := states[u.ConnectionID]; st != "" && st != "active" {
			note = " (connection " + st + ": cannot sign in)"
		}
		fmt.Fprintf(w, "  %-22s %-20s %s%s\n", terminalText(u.Email), terminalText(strings.TrimSpace(u.FirstName+" "+u.LastName)), u.ConnectionID, note)
	}
	fmt.Fprintf(w, "\nAdmin API: %s%s (Authorization: Bearer $WORKOS_API_KEY)\n", srv.URL, workostest.AdminPrefix)
	<-ctx.Done()
	srv.Close()
	fmt.Fprintln(w, "Stopped.")
	return nil
}

// loopback reports whether addr is a loopback address.
func loopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

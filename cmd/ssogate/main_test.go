package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workos"
	"github.com/ssogate/ssogate/workostest"
)

// binary is the ssogate command, built once for all tests: they run it as
// a user would, as a subprocess.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ssogate-cmd")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ssogate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what a finished run of the command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// ssogateCmd runs the command with args, environment env (only these
// variables, and PATH), and stdin; it must end within 30 s.
func ssogateCmd(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("ssogate %s did not end within 30 s", strings.Join(args, " "))
	}
	return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

// emulator is a running "ssogate emulator" process.
type emulator struct {
	cmd  *exec.Cmd
	url  string
	out  *syncBuffer
	done chan struct{}
}

// startEmulator starts "ssogate emulator" with args on a random port and
// waits until it prints its URL. It is interrupted when the test ends.
func startEmulator(t *testing.T, args ...string) *emulator {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"emulator", "-addr", "127.0.0.1:0"}, args...)...)
	out := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(out, pw)
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &emulator{cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); pw.Close(); close(e.done) }()
	t.Cleanup(func() { e.cmd.Process.Kill(); <-e.done })
	// The admin API's line comes last: the whole banner is out then.
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		var base string
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "export WORKOS_BASE_URL="); ok {
				base = u
			}
			if strings.HasPrefix(sc.Text(), "Admin API: ") {
				urls <- base
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case e.url = <-urls:
	case <-e.done:
		t.Fatalf("the emulator exited: %s", out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the emulator printed no URL: %s", out.String())
	}
	return e
}

// admin calls the emulator's admin API.
func (e *emulator) admin(t *testing.T, method, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, e.url+workostest.AdminPrefix+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+workostest.DefaultAPIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func (e *emulator) env(extra ...string) map[string]string {
	m := map[string]string{"WORKOS_API_KEY": workostest.DefaultAPIKey, "WORKOS_BASE_URL": e.url}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage:"},
		{[]string{"help"}, 0, "ssogate emulator"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"secret", "-h"}, 0, "Example:"},
		{[]string{"emulator", "-h"}, 0, "Example:"},
		{[]string{"doctor", "-h"}, 0, "Example:"},
		{[]string{"connections", "list", "-h"}, 0, "Example:"},
		{[]string{"connections", "-h"}, 0, "Example:"},
		{[]string{"connections"}, 2, "needs list, get or delete"},
		{[]string{"connections", "purge"}, 2, `unknown subcommand "purge"`},
		{[]string{"organizations", "-h"}, 0, "Example:"},
		{[]string{"organizations"}, 2, "needs list, get or create"},
		{[]string{"portal-link", "-h"}, 0, "Example:"},
		{[]string{"portal-link", "-organization", "org_x"}, 2, "WORKOS_API_KEY is not set"},
		{[]string{"secret", "more"}, 2, "takes no arguments"},
		{[]string{"emulator", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"emulator", "-webhook", "http://x"}, 2, "-webhook and -webhook-secret go together"},
		{[]string{"emulator", "-redirect-uri", "/callback"}, 2, "absolute http or https URL"},
		{[]string{"emulator", "-api-key", "key"}, 2, "must start with sk_"},
		{[]string{"emulator", "-addr", "999.0.0.1:x"}, 2, "listening on"},
		{[]string{"emulator", "-seed", "nowhere.json"}, 2, "no such file"},
		{[]string{"connections", "list"}, 2, "WORKOS_API_KEY is not set"},
		{[]string{"doctor", "-organization", "org_a", "-connection", "conn_b"}, 2, "at most one"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := ssogateCmd(t, nil, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("got exit %d, stdout %q, stderr %q; want exit %d saying %q", r.code, r.stdout, r.stderr, tt.code, tt.want)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	a, b := ssogateCmd(t, nil, "", "secret"), ssogateCmd(t, nil, "", "secret")
	for _, r := range []result{a, b} {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.stdout))
		if r.code != 0 || err != nil || len(raw) != 32 {
			t.Fatalf("got exit %d, %q; want 32 random bytes in base64", r.code, r.stdout)
		}
	}
	if a.stdout == b.stdout {
		t.Error("two secrets are the same")
	}
}

func TestEmulatorBadSeed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "seed.json")
	os.WriteFile(file, []byte(`{"version": 1, "connections": [{"id": "conn_a", "type": "OktaSAML", "organization_id": "org_missing"}]}`), 0o644)
	r := ssogateCmd(t, nil, "", "emulator", "-addr", "127.0.0.1:0", "-seed", file)
	want := file + `: $.connections[0].organization_id: no organization "org_missing"`
	if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Contains(r.stdout, "WORKOS_BASE_URL") {
		t.Errorf("got exit %d, stdout %q, stderr %q; want exit 2 saying %q before serving", r.code, r.stdout, r.stderr, want)
	}
}

// TestEmulatorAndConnections runs the emulator as a process and the
// connections and doctor commands against it, over HTTP.
func TestEmulatorAndConnections(t *testing.T) {
	const redirect = "http://localhost:3000/callback"
	var delivered []string
	var mu sync.Mutex
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := workos.VerifyWebhook(body, r.Header.Get("WorkOS-Signature"), "whsec_test", time.Now(), time.Minute); err != nil {
			t.Errorf("webhook delivery: %v", err)
		}
		var ev struct{ Event string }
		json.Unmarshal(body, &ev)
		mu.Lock()
		delivered = append(delivered, ev.Event)
		mu.Unlock()
	}))
	defer hooks.Close()
	emu := startEmulator(t, "-seed", "seed.example.json", "-redirect-uri", redirect, "-webhook", hooks.URL, "-webhook-secret", "whsec_test")
	for _, want := range []string{"export WORKOS_API_KEY=sk_test_workostest", "export WORKOS_CLIENT_ID=client_workostest", "alice@acme.com", "Admin API: " + emu.url + "/_emulator/"} {
		if !strings.Contains(emu.out.String(), want) {
			t.Errorf("the emulator's output lacks %q:\n%s", want, emu.out.String())
		}
	}

	// A name with a terminal escape sequence is shown without it.
	if got := emu.admin(t, "POST", "connections", `{"id": "conn_evil", "type": "GenericSAML", "name": "Evil\u001b[2J\tName"}`); got != http.StatusCreated {
		t.Fatalf("admin POST connection: got %d", got)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "get", "conn_evil"); r.code != 0 || strings.ContainsAny(r.stdout, "\x1b") || !strings.Contains(r.stdout, "Evil?[2J?Name") {
		t.Errorf("connections get of a hostile name: got exit %d, %q", r.code, r.stdout)
	}
	if got := emu.admin(t, "DELETE", "connections/conn_evil", ""); got != http.StatusNoContent {
		t.Fatalf("admin DELETE: got %d", got)
	}
	list := ssogateCmd(t, emu.env(), "", "connections", "list")
	if list.code != 0 || !strings.Contains(list.stdout, "conn_acme_okta") || !strings.Contains(list.stdout, "4 connection(s)") {
		t.Fatalf("connections list: got exit %d, %q %q", list.code, list.stdout, list.stderr)
	}
	var conns []ssogate.Connection
	r := ssogateCmd(t, emu.env(), "", "connections", "list", "-json", "-organization", "org_acme")
	if err := json.Unmarshal([]byte(r.stdout), &conns); r.code != 0 || err != nil || len(conns) != 1 || conns[0].ID != "conn_acme_okta" {
		t.Errorf("connections list -json -organization org_acme: got exit %d, %q (%v)", r.code, r.stdout, err)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "list", "-domain", "globex.com"); !strings.Contains(r.stdout, "conn_globex_oidc") || strings.Contains(r.stdout, "conn_acme_okta") {
		t.Errorf("connections list -domain globex.com: got %q", r.stdout)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "get", "conn_acme_okta"); r.code != 0 || !strings.Contains(r.stdout, "Acme Okta") {
		t.Errorf("connections get: got exit %d, %q", r.code, r.stdout)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "get", "conn_nope"); r.code != 1 || !strings.Contains(r.stderr, "WorkOS answered 404") || !strings.Contains(r.stderr, "request id req_") {
		t.Errorf("connections get conn_nope: got exit %d, %q; want exit 1 with the status and request id", r.code, r.stderr)
	}
	if r := ssogateCmd(t, emu.env("WORKOS_API_KEY", "sk_wrong"), "", "connections", "list"); r.code != 1 || !strings.Contains(r.stderr, "401") {
		t.Errorf("a refused key: got exit %d, %q; want exit 1 with 401", r.code, r.stderr)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "delete", "conn_globex_oidc"); r.code != 2 || !strings.Contains(r.stderr, "not deleted") {
		t.Errorf("delete without confirmation: got exit %d, %q", r.code, r.stderr)
	}
	if r := ssogateCmd(t, emu.env(), "conn_globex_oidc\n", "connections", "delete", "conn_globex_oidc"); r.code != 0 || !strings.Contains(r.stdout, "Deleted conn_globex_oidc") {
		t.Errorf("delete confirmed: got exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "delete", "-yes", "conn_google_oauth"); r.code != 0 {
		t.Errorf("delete -yes: got exit %d, %q", r.code, r.stderr)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "get", "conn_globex_oidc"); r.code != 1 {
		t.Errorf("the deleted connection: got exit %d, want 1", r.code)
	}

	// The admin API drives the running emulator; a state change is
	// delivered as a signed event.
	if got := emu.admin(t, "PATCH", "connections/conn_acme_okta", `{"state":"inactive"}`); got != http.StatusNoContent {
		t.Fatalf("admin PATCH: got %d", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		if n >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	got := strings.Join(delivered, ",")
	mu.Unlock()
	// conn_evil's deletion, the two by the command, then the state change.
	if got != "connection.deleted,connection.deleted,connection.deleted,connection.deactivated" {
		t.Errorf("deliveries: got %s", got)
	}

	doctorEnv := emu.env("WORKOS_CLIENT_ID", workostest.DefaultClientID, "WORKOS_REDIRECT_URI", redirect,
		"WORKOS_COOKIE_PASSWORD", "Vq3pR8sT1uW4xY7zA0bC3dE6fG9hJ2kL5mN", "WORKOS_WEBHOOK_SECRET", "whsec_doctor")
	emu.admin(t, "PATCH", "connections/conn_acme_okta", `{"state":"active"}`)
	d := ssogateCmd(t, doctorEnv, "", "doctor", "-organization", "org_acme")
	if d.code != 0 || !strings.Contains(d.stdout, "All checks passed.") {
		t.Errorf("doctor: got exit %d:\n%s%s", d.code, d.stdout, d.stderr)
	}
	doctorEnv["WORKOS_REDIRECT_URI"] = "http://localhost:4000/elsewhere"
	doctorEnv["WORKOS_COOKIE_PASSWORD"] = "short"
	bad := ssogateCmd(t, doctorEnv, "", "doctor", "-connection", "conn_acme_okta")
	for _, want := range []string{"FAIL  sign-in          WorkOS answered 400: invalid_redirect_uri", "FAIL  cookie secret    WORKOS_COOKIE_PASSWORD has 5 bytes"} {
		if bad.code != 1 || !strings.Contains(bad.stdout, want) {
			t.Errorf("doctor with a bad redirect URI and secret: got exit %d, want 1 with %q:\n%s", bad.code, want, bad.stdout)
		}
	}
	for _, secret := range []string{workostest.DefaultAPIKey, "Vq3pR8sT1uW4xY7zA0bC3dE6fG9hJ2kL5mN", "whsec_doctor", "short"} {
		if strings.Contains(d.stdout+d.stderr+bad.stdout+bad.stderr, secret) {
			t.Errorf("doctor printed the secret %q", secret)
		}
	}

	// Interrupted, it shuts down and says so.
	emu.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-emu.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the emulator did not stop on SIGINT")
	}
	if code := emu.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(emu.out.String(), "Stopped.") {
		t.Errorf("after SIGINT: exit %d, output %q", code, emu.out.String())
	}
}

// TestEmulatorKilledMidCommand kills the emulator while a listing waits
// for it: the command fails with exit 1 instead of hanging.
func TestEmulatorKilledMidCommand(t *testing.T) {
	emu := startEmulator(t)
	if got := emu.admin(t, "POST", "faults", `{"route": "GET /connections", "delay": "20s", "times": -1}`); got != http.StatusCreated {
		t.Fatalf("admin fault: got %d", got)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		emu.cmd.Process.Kill()
	}()
	r := ssogateCmd(t, emu.env(), "", "connections", "list")
	if r.code != 1 || r.stderr == "" {
		t.Errorf("got exit %d, %q; want exit 1 with an error", r.code, r.stderr)
	}
}

// TestEmulatorRefusesOtherHosts plays a web page on a DNS name that
// rebinds to the emulator's address: its requests carry that name as Host
// and are refused, on the WorkOS API and the admin API alike; a foreign
// Origin is refused on the admin API. -allow-host adds a name, and an
// -addr that is not loopback is warned about.
func TestEmulatorRefusesOtherHosts(t *testing.T) {
	emu := startEmulator(t, "-addr", "0.0.0.0:0", "-allow-host", "emulator.internal")
	// Standard error is copied apart from standard output: wait for it.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(emu.out.String(), "is not a loopback address") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(emu.out.String(), "warning: ") || !strings.Contains(emu.out.String(), "is not a loopback address") {
		t.Errorf("no warning for a non-loopback -addr:\n%s", emu.out.String())
	}
	// The banner says which users cannot sign in.
	for _, line := range strings.Split(emu.out.String(), "\n") {
		if strings.Contains(line, "peter@initech.com") && !strings.HasSuffix(line, "(connection inactive: cannot sign in)") {
			t.Errorf("banner line of peter, whose connection is inactive: %q", line)
		}
		if strings.Contains(line, "alice@acme.com") && strings.Contains(line, "cannot sign in") {
			t.Errorf("banner line of alice: %q", line)
		}
	}
	_, port, _ := strings.Cut(strings.TrimPrefix(emu.url, "http://"), ":")
	call := func(path, host, origin string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, emu.url+path, nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+workostest.DefaultAPIKey)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, path := range []string{"/connections", workostest.AdminPrefix + "requests"} {
		for host, want := range map[string]int{
			"rebind.attacker.example:" + port: http.StatusMisdirectedRequest,
			"localhost:" + port:               http.StatusOK,
			"127.0.0.1:" + port:               http.StatusOK,
			"emulator.internal:" + port:       http.StatusOK,
		} {
			if got := call(path, host, ""); got != want {
				t.Errorf("%s with Host %s: got %d, want %d", path, host, got, want)
			}
		}
	}
	if got := call(workostest.AdminPrefix+"requests", "127.0.0.1:"+port, "http://attacker.example"); got != http.StatusForbidden {
		t.Errorf("admin call with a foreign Origin: got %d, want 403", got)
	}
	if r := ssogateCmd(t, emu.env(), "", "connections", "list"); r.code != 0 {
		t.Errorf("connections list against the emulator: exit %d, %s", r.code, r.stderr)
	}
}

// TestDoctorFailsWhatItShould runs doctor on environments that the
// previous doctor passed or misread: a wrong client ID with no selector
// (it printed ok), with one (it blamed the redirect URI), the emulator's
// well-known credentials against another base URL, a base URL with
// credentials in it or in clear outside this machine.
func TestDoctorFailsWhatItShould(t *testing.T) {
	emu := startEmulator(t)
	const password = "Vq3pR8sT1uW4xY7zA0bC3dE6fG9hJ2kL5mN"
	base := func(extra ...string) map[string]string {
		return emu.env(append([]string{"WORKOS_CLIENT_ID", workostest.DefaultClientID, "WORKOS_REDIRECT_URI", "http://localhost:3000/callback",
			"WORKOS_COOKIE_PASSWORD", password, "WORKOS_WEBHOOK_SECRET", "whsec_doctor"}, extra...)...)
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     []string
		never    []string
	}{
		{
			name: "all good, no selector", env: base(), wantCode: 0,
			want: []string{"ok    client ID        client_workostest, accepted by WorkOS with this API key",
				"skip  sign-in          skipped: name -organization", "All checks made passed; 1 skipped."},
		},
		{
			name: "wrong client ID", env: base("WORKOS_CLIENT_ID", "client_staging"), wantCode: 1,
			want: []string{"FAIL  client ID        WorkOS does not know client_staging with this API key (invalid_client)"},
		},
		{
			name: "wrong client ID with a selector", env: base("WORKOS_CLIENT_ID", "client_staging"), args: []string{"-organization", "org_acme"}, wantCode: 1,
			want:  []string{"FAIL  sign-in          WorkOS answered 400: invalid_client", "(check WORKOS_CLIENT_ID)"},
			never: []string{"registered"},
		},
		{
			name: "the emulator's credentials elsewhere", env: base("WORKOS_BASE_URL", "https://api.workos.example"), wantCode: 1,
			want: []string{"FAIL  API key          WORKOS_API_KEY is the emulator's well-known key", "FAIL  client ID        WORKOS_CLIENT_ID is the emulator's"},
		},
		{
			name: "credentials in the base URL", env: base("WORKOS_BASE_URL", strings.Replace(emu.url, "http://", "http://admin:hunter2@", 1)), wantCode: 1,
			want:  []string{"FAIL  base URL         WORKOS_BASE_URL holds credentials", "skip  API key          skipped: the base URL was refused"},
			never: []string{"hunter2", "admin:"},
		},
		{
			name: "cleartext outside this machine", env: base("WORKOS_BASE_URL", "http://api.workos.example"), wantCode: 1,
			want: []string{"FAIL  base URL         WORKOS_BASE_URL is http outside this machine", "skip  sign-in"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ssogateCmd(t, tt.env, "", append([]string{"doctor"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Errorf("got exit %d, want %d:\n%s%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, never := range append(tt.never, password, "whsec_doctor") {
				if strings.Contains(r.stdout+r.stderr, never) {
					t.Errorf("output holds %q:\n%s", never, r.stdout)
				}
			}
		})
	}
}

// TestOrganizationsAndPortalLink onboards a customer on a running
// emulator from the command line: create the organization, then a portal
// link for its IT admin that opens the emulator's Admin Portal for it.
func TestOrganizationsAndPortalLink(t *testing.T) {
	emu := startEmulator(t)
	r := ssogateCmd(t, emu.env(), "", "organizations", "create", "-json", "-name", "Hooli", "-domain", "Hooli.example", "-external-id", "crm-1")
	var org workos.Organization
	if err := json.Unmarshal([]byte(r.stdout), &org); r.code != 0 || err != nil || !strings.HasPrefix(org.ID, "org_") ||
		len(org.Domains) != 1 || org.Domains[0].Domain != "hooli.example" || org.Domains[0].State != workos.DomainPending {
		t.Fatalf("organizations create: exit %d, %q %q (%v)", r.code, r.stdout, r.stderr, err)
	}
	if r := ssogateCmd(t, emu.env(), "", "organizations", "get", org.ID); r.code != 0 || !strings.Contains(r.stdout, "Hooli") || !strings.Contains(r.stdout, "hooli.example (pending)") {
		t.Errorf("organizations get: exit %d, %q", r.code, r.stdout)
	}
	if r := ssogateCmd(t, emu.env(), "", "organizations", "list", "-domain", "hooli.example"); r.code != 0 || !strings.Contains(r.stdout, org.ID) || !strings.Contains(r.stdout, "1 organization(s)") {
		t.Errorf("organizations list -domain: exit %d, %q", r.code, r.stdout)
	}
	if r := ssogateCmd(t, emu.env(), "", "organizations", "list"); r.code != 0 || !strings.Contains(r.stdout, "4 organization(s)") {
		t.Errorf("organizations list: exit %d, %q", r.code, r.stdout)
	}

	r = ssogateCmd(t, emu.env(), "", "portal-link", "-organization", org.ID)
	link := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(link, emu.url+"/portal?token=") || !strings.Contains(r.stderr, "within five minutes") {
		t.Fatalf("portal-link: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "Hooli") {
		t.Errorf("the portal link: %d %s", res.StatusCode, body)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"organizations", "create"}, 2, "needs -name"},
		{[]string{"organizations", "create", "-name", "X", "-domain", "not a domain"}, 2, "is not a domain"},
		{[]string{"organizations", "create", "-name", "Evil", "-domain", "acme.com"}, 1, "WorkOS answered 409"},
		{[]string{"organizations", "get", "org_nope"}, 1, "WorkOS answered 404"},
		{[]string{"organizations", "get", "nope"}, 2, "one organization id"},
		{[]string{"organizations", "purge"}, 2, `unknown subcommand "purge"`},
		{[]string{"portal-link"}, 2, "needs -organization"},
		{[]string{"portal-link", "-organization", org.ID, "-intent", "everything"}, 2, "is not one of"},
		{[]string{"portal-link", "-organization", "org_nope"}, 1, "WorkOS answered 404"},
	} {
		r := ssogateCmd(t, emu.env(), "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want exit %d saying %q", tt.args, r.code, r.stderr, tt.code, tt.want)
		}
	}
}

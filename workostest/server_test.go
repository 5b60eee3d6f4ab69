package workostest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestDefaults(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name, got, want string
	}{
		{"api key", s.APIKey, "sk_test_workostest"},
		{"client id", s.ClientID, "client_workostest"},
		{"url has no trailing slash", s.URL, strings.TrimSuffix(s.URL, "/")},
		{"url is loopback", s.URL[:len("http://127.0.0.1:")], "http://127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestOptionsCredentials(t *testing.T) {
	s := newTestServer(t, WithAPIKey("sk_custom"), WithClientID("client_custom"))
	if s.APIKey != "sk_custom" || s.ClientID != "client_custom" {
		t.Fatalf("got %q %q, want sk_custom client_custom", s.APIKey, s.ClientID)
	}
	code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
	exchange(t, s, code, "")
}

func TestAPIKeyRequired(t *testing.T) {
	s := newTestServer(t)
	routes := []struct{ method, path string }{
		{"GET", "/connections"},
		{"GET", "/connections/" + AcmeConnectionID},
		{"DELETE", "/connections/" + AcmeConnectionID},
		{"POST", "/sso/logout/authorize"},
	}
	auths := []struct{ name, header string }{
		{"none", ""},
		{"wrong key", "Bearer sk_wrong"},
		{"basic", "Basic " + s.APIKey},
	}
	for _, rt := range routes {
		for _, a := range auths {
			t.Run(rt.method+" "+rt.path+" "+a.name, func(t *testing.T) {
				req, _ := http.NewRequest(rt.method, s.URL+rt.path, nil)
				if a.header != "" {
					req.Header.Set("Authorization", a.header)
				}
				r := do(t, noRedirect(s), req)
				if r.status != http.StatusUnauthorized || r.body != `{"message":"Unauthorized"}` {
					t.Errorf("got %d %s, want 401 {\"message\":\"Unauthorized\"}", r.status, r.body)
				}
			})
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	s := newTestServer(t)
	tests := []struct{ name, method, path string }{
		{"unknown path", "GET", "/nope"},
		{"wrong method", "PUT", "/sso/token"},
		{"user management authorize", "GET", "/user_management/authorize"},
		{"connection without id", "GET", "/connections/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := api(t, s, tt.method, tt.path, "")
			if r.status != http.StatusNotFound {
				t.Errorf("got status %d, want 404", r.status)
			}
			if r.header.Get("X-Request-ID") == "" {
				t.Error("got no X-Request-ID")
			}
		})
	}
}

func TestBodyCap(t *testing.T) {
	s := newTestServer(t)
	big := strings.Repeat("a", maxBodyBytes+1)
	r := postToken(t, s, map[string][]string{"code": {big}}, false)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), `"message"`) {
		t.Errorf("got status %d %s, want 422 with a message, as the spec answers a body it cannot read", r.status, r.body)
	}
}

func TestRequestLog(t *testing.T) {
	s := newTestServer(t)
	api(t, s, http.MethodGet, "/connections?limit=2", "")
	api(t, s, http.MethodGet, "/connections/"+AcmeConnectionID, "")
	api(t, s, http.MethodGet, "/connections/conn_nope", "")
	code := login(t, s, AliceEmail, "connection", AcmeConnectionID)
	exchange(t, s, code, "")

	counts := []struct {
		route string
		want  int
	}{
		{"GET /connections", 1},
		{"GET /connections/{id}", 2},
		{"GET /connections/conn_nope", 1},
		{"GET /sso/authorize", 1},
		{"POST /sso/token", 1},
		{"DELETE /connections/{id}", 0},
	}
	for _, c := range counts {
		t.Run(c.route, func(t *testing.T) {
			if got := s.Count(c.route); got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
		})
	}
	reqs := s.Requests()
	if len(reqs) != 5 {
		t.Fatalf("got %d requests, want 5", len(reqs))
	}
	first := reqs[0]
	if first.Method != "GET" || first.Path != "/connections" || first.Query.Get("limit") != "2" ||
		first.Status != 200 || first.Route != "GET /connections" || first.RequestID == "" || first.Time.IsZero() {
		t.Errorf("got %+v, want GET /connections?limit=2 answered 200", first)
	}
	if reqs[2].Status != 404 {
		t.Errorf("got status %d, want 404", reqs[2].Status)
	}
	// The log is a copy.
	reqs[0].Query.Set("limit", "99")
	if got := s.Requests()[0].Query.Get("limit"); got != "2" {
		t.Errorf("got limit %q after changing the copy, want 2", got)
	}
}

func TestSeedValidation(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"organization without id", func() error { return s.AddOrganization(Organization{}) }},
		{"duplicate organization", func() error { return s.AddOrganization(Organization{ID: AcmeOrganizationID}) }},
		{"connection without id", func() error { return s.AddConnection(Connection{Type: "OktaSAML"}) }},
		{"connection without type", func() error { return s.AddConnection(Connection{ID: "conn_x"}) }},
		{"duplicate connection", func() error { return s.AddConnection(Connection{ID: AcmeConnectionID, Type: "OktaSAML"}) }},
		{"connection of unknown organization", func() error {
			return s.AddConnection(Connection{ID: "conn_x", Type: "OktaSAML", OrganizationID: "org_nope"})
		}},
		{"user without email", func() error { return s.AddUser(User{ConnectionID: AcmeConnectionID}) }},
		{"user of unknown connection", func() error { return s.AddUser(User{Email: "x@x.test", ConnectionID: "conn_nope"}) }},
		{"duplicate user", func() error { return s.AddUser(User{Email: "ALICE@acme.com", ConnectionID: AcmeConnectionID}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || !strings.HasPrefix(err.Error(), "workostest: ") {
				t.Errorf("got %v, want a workostest error", err)
			}
		})
	}

	defer func() {
		if recover() == nil {
			t.Error("NewServer with an invalid seed did not panic")
		}
	}()
	NewServer(WithSeed(Seed{Users: []User{{Email: "x@x.test", ConnectionID: "conn_nope"}}})).Close()
}

func TestAddAtRunTime(t *testing.T) {
	s := newTestServer(t, WithSeed(Seed{}))
	if err := s.AddOrganization(Organization{ID: "org_new", Name: "New Co", Domains: []string{"New.test"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddConnection(Connection{ID: "conn_new", OrganizationID: "org_new", Type: "EntraIdOIDC"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(User{Email: "neo@new.test", ConnectionID: "conn_new", Roles: []string{"viewer", "editor"}}); err != nil {
		t.Fatal(err)
	}
	p := exchange(t, s, login(t, s, "neo@new.test", "organization", "org_new"), "")
	if p.Role == nil || p.Role.Slug != "viewer" || len(p.Roles) != 2 {
		t.Errorf("got role %v roles %v, want viewer and two roles", p.Role, p.Roles)
	}
	if p.FirstName != nil || p.Name != nil {
		t.Errorf("got first_name %v name %v, want null", p.FirstName, p.Name)
	}
	var c wireConnection
	decode(t, api(t, s, http.MethodGet, "/connections/conn_new", "").body, &c)
	if c.Name != "New Co" || len(c.Domains) != 1 || c.Domains[0].Domain != "new.test" {
		t.Errorf("got name %q domains %+v, want New Co with the organization's domain", c.Name, c.Domains)
	}
}

func TestParallelLogins(t *testing.T) {
	s := newTestServer(t)
	users := []struct{ email, conn string }{
		{AliceEmail, AcmeConnectionID}, {BobEmail, AcmeConnectionID},
		{HankEmail, GlobexConnectionID}, {CarolEmail, GoogleConnectionID},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*len(users))
	for i := range 4 {
		for _, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- parallelLogin(s, u.email, u.conn, fmt.Sprint(i))
			}()
		}
	}
	wg.Add(1)
	go func() { // configuration changes at the same time
		defer wg.Done()
		s.AddOrganization(Organization{ID: "org_race"})
		s.SetConnectionState(InitechConnectionID, "active")
		s.Advance(0)
		s.Requests()
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// parallelLogin runs a whole login through the hosted page without
// testing.T, so that it can run on any goroutine.
func parallelLogin(s *Server, email, conn, state string) error {
	c := noRedirect(s)
	resp, err := c.Get(authorizeURL(s, "connection", conn, "state", state))
	if err != nil {
		return err
	}
	body := readAll(resp)
	const marker = `name="request" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		return fmt.Errorf("%s: no sign-in page", email)
	}
	rest := body[i+len(marker):]
	id := rest[:strings.Index(rest, `"`)]
	resp, err = c.PostForm(s.URL+"/sso/authorize/complete", map[string][]string{"request": {id}, "email": {email}})
	if err != nil {
		return err
	}
	readAll(resp)
	loc, err := resp.Location()
	if err != nil {
		return fmt.Errorf("%s: %v", email, err)
	}
	if got := loc.Query().Get("state"); got != state {
		return fmt.Errorf("%s: got state %q, want %q", email, got, state)
	}
	resp, err = c.PostForm(s.URL+"/sso/token", tokenRequestForm(s, loc.Query().Get("code"), ""))
	if err != nil {
		return err
	}
	tok := readAll(resp)
	if resp.StatusCode != 200 || !strings.Contains(tok, `"email":"`+email+`"`) {
		return fmt.Errorf("%s: got %d %s", email, resp.StatusCode, tok)
	}
	return nil
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestHostGuard checks the defence against DNS rebinding: a web page on a
// name that resolves to the emulator's address reaches it with that name
// as Host, and is refused; loopback names, the listening address and the
// hosts given with WithHosts are answered.
func TestHostGuard(t *testing.T) {
	s := newTestServer(t, WithHosts("emulator.internal"), WithAdmin())
	_, port, _ := strings.Cut(strings.TrimPrefix(s.URL, "http://"), ":")
	for _, tt := range []struct {
		host string
		want int
	}{
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"app.localhost:" + port, http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
		{"127.9.9.9", http.StatusOK},
		{"emulator.internal:" + port, http.StatusOK},
		{"EMULATOR.internal", http.StatusOK},
		{"rebind.attacker.example:" + port, http.StatusMisdirectedRequest},
		{"localhost.attacker.example", http.StatusMisdirectedRequest},
		{"10.0.0.1:" + port, http.StatusMisdirectedRequest},
	} {
		for _, path := range []string{"/connections", AdminPrefix + "requests"} {
			req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
			req.Host = tt.host
			req.Header.Set("Authorization", "Bearer "+s.APIKey)
			if r := do(t, noRedirect(s), req); r.status != tt.want {
				t.Errorf("Host %q %s: got %d, want %d", tt.host, path, r.status, tt.want)
			}
		}
	}
	// The refused requests reached no route.
	if n := len(s.Requests()); n != 7 {
		t.Errorf("request log holds %d requests, want the 7 answered", n)
	}
}

// TestAdminRefusesOtherOrigins checks that a web page of another origin
// cannot call the admin API, even with the well-known API key.
func TestAdminRefusesOtherOrigins(t *testing.T) {
	s := newTestServer(t, WithAdmin())
	for _, tt := range []struct {
		name, origin, site string
		want               int
	}{
		{"test code", "", "", http.StatusOK},
		{"the emulator's own origin", s.URL, "same-origin", http.StatusOK},
		{"another origin", "http://attacker.example", "", http.StatusForbidden},
		{"an opaque origin", "null", "", http.StatusForbidden},
		{"a cross-site fetch without Origin", "", "cross-site", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+AdminPrefix+"requests", nil)
		req.Header.Set("Authorization", "Bearer "+s.APIKey)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if tt.site != "" {
			req.Header.Set("Sec-Fetch-Site", tt.site)
		}
		if r := do(t, noRedirect(s), req); r.status != tt.want {
			t.Errorf("%s: got %d %s, want %d", tt.name, r.status, r.body, tt.want)
		}
	}
}

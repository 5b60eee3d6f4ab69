package workostest

import (
	"errors"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

const goodSeed = `{"version": 1,
 "organizations": [{"id": "org_a", "name": "A", "domains": ["a.com"]}],
 "connections": [{"id": "conn_a", "organization_id": "org_a", "type": "OktaSAML"},
                 {"id": "conn_g", "type": "GoogleOAuth", "state": "inactive", "created_at": "2030-01-01T00:00:00Z"}],
 "users": [{"email": "x@a.com", "connection_id": "conn_a", "groups": ["g"], "role": "admin", "custom_attributes": {"n": 1}}]}`

func TestParseSeed(t *testing.T) {
	seed, err := ParseSeed([]byte(goodSeed))
	if err != nil {
		t.Fatalf("ParseSeed: %v", err)
	}
	if len(seed.Organizations) != 1 || len(seed.Connections) != 2 || len(seed.Users) != 1 ||
		seed.Connections[1].State != "inactive" || seed.Connections[1].CreatedAt.Year() != 2030 || seed.Users[0].Role != "admin" || seed.Organizations[0].Domains[0] != "a.com" {
		t.Errorf("got %+v", seed)
	}
	srv := newTestServer(t, WithSeed(seed))
	if err := srv.SetConnectionState("conn_g", "active"); err != nil {
		t.Errorf("the parsed seed did not load: %v", err)
	}
}

func TestParseSeedRefuses(t *testing.T) {
	tests := []struct{ name, seed, path, problem string }{
		{"not json", `{`, "$", "unexpected EOF"},
		{"no version", `{}`, "$.version", "missing"},
		{"other version", `{"version": 2}`, "$.version", "is 2"},
		{"unknown top field", `{"version": 1, "orgs": []}`, "$", `unknown field "orgs"`},
		{"unknown field", `{"version": 1, "organizations": [{"id": "org_a", "nmae": "A"}]}`, "$.organizations[0]", `unknown field "nmae"`},
		{"wrong type", `{"version": 1, "organizations": [{"id": 5}]}`, "$.organizations[0].id", "is a JSON number"},
		{"malformed org id", `{"version": 1, "organizations": [{"id": "acme"}]}`, "$.organizations[0].id", "org_"},
		{"bad character", `{"version": 1, "organizations": [{"id": "org_a b"}]}`, "$.organizations[0].id", "character"},
		{"duplicate org", `{"version": 1, "organizations": [{"id": "org_a"}, {"id": "org_a"}]}`, "$.organizations[1].id", "duplicate id org_a"},
		{"bad domain", `{"version": 1, "organizations": [{"id": "org_a", "domains": ["a.com", "x@y"]}]}`, "$.organizations[0].domains[1]", "not a domain"},
		{"duplicate connection", `{"version": 1, "connections": [{"id": "conn_a", "type": "T"}, {"id": "conn_a", "type": "T"}]}`, "$.connections[1].id", "duplicate id conn_a"},
		{"missing organization", `{"version": 1, "connections": [{"id": "conn_a", "type": "T", "organization_id": "org_x"}]}`, "$.connections[0].organization_id", `no organization "org_x"`},
		{"no type", `{"version": 1, "connections": [{"id": "conn_a"}]}`, "$.connections[0].type", "missing"},
		{"unknown state", `{"version": 1, "connections": [{"id": "conn_a", "type": "T", "state": "on"}]}`, "$.connections[0].state", `"on" is not one of`},
		{"user of a missing connection", `{"version": 1, "users": [{"email": "x@a.com", "connection_id": "conn_x"}]}`, "$.users[0].connection_id", `no connection "conn_x"`},
		{"user without email", `{"version": 1, "connections": [{"id": "conn_a", "type": "T"}], "users": [{"connection_id": "conn_a"}]}`, "$.users[0].email", "missing"},
		{"duplicate user", `{"version": 1, "connections": [{"id": "conn_a", "type": "T"}], "users": [{"email": "x@a.com", "connection_id": "conn_a"}, {"email": "X@a.com", "connection_id": "conn_a"}]}`, "$.users[1].email", "duplicate user"},
		{"trailing data", `{"version": 1} {}`, "$", "data after"},
		{"bad time", `{"version": 1, "connections": [{"id": "conn_a", "type": "T", "created_at": "yesterday"}]}`, "$.connections[0]", "cannot parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSeed([]byte(tt.seed))
			var se *SeedError
			if !errors.As(err, &se) || se.Path != tt.path || !strings.Contains(se.Problem, tt.problem) {
				t.Errorf("got %v, want a SeedError at %s saying %q", err, tt.path, tt.problem)
			}
		})
	}
}

// FuzzParseSeed checks that seed files never panic the parser, and that a
// seed it accepts loads into a server.
func FuzzParseSeed(f *testing.F) {
	f.Add([]byte(goodSeed))
	f.Add([]byte(`{"version": 1, "users": [{"email": "x@a.com", "connection_id": "conn_x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		seed, err := ParseSeed(data)
		if err != nil {
			return
		}
		s := &Server{orgs: map[string]*organization{}, conns: map[string]*connection{}, clock: time.Now}
		if err := s.applySeed(seed); err != nil {
			t.Fatalf("accepted a seed that does not load: %v", err)
		}
	})
}

func TestAdminAPI(t *testing.T) {
	srv := newTestServer(t, WithAdmin())
	call := func(method, path, body, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, res.Body)
		return res.StatusCode, b.String()
	}
	k := srv.APIKey
	dirUser := DirectoryUserID("directory_new", "d@new.com")
	steps := []struct {
		method, path, body, key string
		status                  int
		want                    string
	}{
		{"GET", "/_emulator/requests", "", "", 401, "Unauthorized"},
		{"GET", "/_emulator/requests", "", "sk_wrong", 401, "Unauthorized"},
		{"POST", "/_emulator/organizations", `{"id": "org_new", "name": "New"}`, k, 201, "org_new"},
		{"POST", "/_emulator/organizations", `{"id": "org_new"}`, k, 409, "$.id: "},
		{"POST", "/_emulator/organizations", `{"id": "new"}`, k, 400, "$.id: missing or not an id of the form org_"},
		{"POST", "/_emulator/connections", `{"id": "conn_new", "organization_id": "org_new", "type": "GenericSAML", "domains": ["new.com"]}`, k, 201, "conn_new"},
		// Created now, as WorkOS would stamp it, not at the zero time.
		{"GET", "/connections/conn_new", "", k, 200, `"created_at":"` + srv.Now().UTC().Format("2006-01-02T")},
		{"POST", "/_emulator/connections", `{"id": "conn_x", "typo": 1}`, k, 400, `unknown field \"typo\"`},
		{"POST", "/_emulator/users", `{"email": "n@new.com", "connection_id": "conn_new"}`, k, 201, "n@new.com"},
		{"POST", "/_emulator/users", `{"email": "n@new.com", "connection_id": "conn_none"}`, k, 400, `$.connection_id: no connection \"conn_none\"`},
		{"POST", "/_emulator/users", `{"email": "n@new.com", "connection_id": "conn_new"}`, k, 409, `$.email: `},
		{"POST", "/_emulator/users", `{"email": "nobody", "connection_id": "conn_new"}`, k, 400, `$.email: missing or not an email address`},
		// WorkOS's own field name, as "connections list -json" prints it.
		{"POST", "/_emulator/connections", `{"id": "conn_wk", "organization_id": "org_new", "connection_type": "OktaSAML"}`, k, 201, `"connection_type":"OktaSAML"`},
		{"POST", "/_emulator/connections", `{"id": "conn_wk2", "type": "GenericSAML", "connection_type": "OktaSAML"}`, k, 400, `$.connection_type: \"OktaSAML\" differs from type`},
		{"POST", "/_emulator/connections", `{"id": "conn_nt"}`, k, 400, `$.type: missing`},
		{"POST", "/_emulator/connections", `{"id": "conn_org", "type": "OktaSAML", "organization_id": "org_none"}`, k, 400, `$.organization_id: no organization`},
		{"POST", "/_emulator/connections", `{"id": "conn_st", "type": "OktaSAML", "state": "paused"}`, k, 400, `$.state: \"paused\" is not one of`},
		{"POST", "/_emulator/connections", `{"id": "conn_new", "type": "OktaSAML"}`, k, 409, `$.id: `},
		{"PATCH", "/_emulator/connections/conn_new", `{"state": "paused"}`, k, 400, `$.state: \"paused\" is not one of`},
		{"PATCH", "/_emulator/connections/conn_new", `{"state": "inactive"}`, k, 204, ""},
		{"PATCH", "/_emulator/connections/conn_none", `{"state": "inactive"}`, k, 404, "does not exist"},
		{"POST", "/_emulator/faults", `{"route": "GET /connections/{id}", "status": 503, "retry_after": "2"}`, k, 201, "GET /connections/{id}"},
		{"GET", "/connections/conn_new", "", k, 503, ""},
		{"GET", "/connections/conn_new", "", k, 200, `"state":"inactive"`},
		{"POST", "/_emulator/faults", `{"status": 503}`, k, 400, "$.route: missing"},
		{"POST", "/_emulator/faults", `{"route": "POST /sso/tokens", "status": 503}`, k, 400, `$.route: \"POST /sso/tokens\" is no route of the emulator`},
		{"POST", "/_emulator/faults", `{"route": "GET /connections/conn_acme_okta", "status": 503}`, k, 201, ""},
		{"POST", "/_emulator/faults", `{"route": "GET /_emulator/requests", "status": 503}`, k, 400, `is no route`},
		{"POST", "/_emulator/faults", `{"route": "POST /sso/token", "status": 700}`, k, 400, `$.status: must be an HTTP status`},
		{"POST", "/_emulator/clock", `{"advance": "1h"}`, k, 200, "now"},
		{"POST", "/_emulator/clock", `{"advance": "soon"}`, k, 400, "duration"},
		{"PUT", "/_emulator/auto-sign-in", `{"email": "alice@acme.com"}`, k, 204, ""},
		{"PUT", "/_emulator/auto-sign-in", `{"email": "mallory@acme.com"}`, k, 400, `$.email: no user \"mallory@acme.com\"`},
		{"PUT", "/_emulator/auto-sign-in", `{"email": ""}`, k, 204, ""},
		{"POST", "/_emulator/directories", `{"id": "directory_new", "organization_id": "org_new"}`, k, 201, "directory_new"},
		{"POST", "/_emulator/directories", `{"id": "directory_new", "organization_id": "org_new"}`, k, 409, "$.id: "},
		{"POST", "/_emulator/directories", `{"id": "directory_x", "organization_id": "org_none"}`, k, 400, `$.organization_id: `},
		{"POST", "/_emulator/directory_users", `{"directory_id": "directory_new", "email": "d@new.com"}`, k, 201, `"id":"` + dirUser + `"`},
		{"POST", "/_emulator/directory_users", `{"directory_id": "directory_none", "email": "d@new.com"}`, k, 400, `$.directory_id: `},
		{"GET", "/directory_users/" + dirUser, "", k, 200, `"state":"active"`},
		{"PATCH", "/_emulator/directory_users/" + dirUser, `{"state": "paused"}`, k, 400, `$.state: must be one of`},
		{"PATCH", "/_emulator/directory_users/" + dirUser, `{"state": "inactive"}`, k, 204, ""},
		{"PATCH", "/_emulator/directory_users/directory_user_none", `{"state": "inactive"}`, k, 404, "does not exist"},
		{"GET", "/directory_users/" + dirUser, "", k, 200, `"state":"inactive"`},
		{"DELETE", "/_emulator/directory_users/" + dirUser, "", k, 204, ""},
		{"GET", "/directory_users/" + dirUser, "", k, 404, ""},
		{"DELETE", "/_emulator/directories/directory_new", "", k, 204, ""},
		{"DELETE", "/_emulator/directories/directory_new", "", k, 404, "does not exist"},
		{"GET", "/events?events=dsync.user.updated,dsync.user.deleted,dsync.deleted&organization_id=org_new", "", k, 200,
			`"event":"dsync.user.updated"`},
		{"POST", "/_emulator/organizations", `{"id": "org_dom", "name": "Dom", "domains": ["dom.example"]}`, k, 201, "org_dom"},
		{"PATCH", "/_emulator/organization_domains/dom.example", `{"state": "maybe"}`, k, 400, "$.state: must be verified or failed"},
		{"PATCH", "/_emulator/organization_domains/nowhere.example", `{"state": "verified"}`, k, 404, "no organization holds"},
		{"PATCH", "/_emulator/organization_domains/dom.example", `{"state": "failed"}`, k, 204, ""},
		{"GET", "/organizations/org_dom", "", k, 200, `"state":"failed"`},
		{"DELETE", "/_emulator/connections/conn_new", "", k, 204, ""},
		{"GET", "/connections/conn_new", "", k, 404, ""},
		{"GET", "/_emulator/requests", "", k, 200, `"path":"/connections/conn_new","query":{},"route":"GET /connections/{id}","status":503`},
		{"GET", "/_emulator/nothing", "", k, 404, "no such admin call"},
	}
	for i, st := range steps {
		status, body := call(st.method, st.path, st.body, st.key)
		if status != st.status || !strings.Contains(body, st.want) {
			t.Fatalf("step %d, %s %s: got %d %s, want %d with %q", i, st.method, st.path, status, body, st.status, st.want)
		}
	}
	if srv.Count("GET /_emulator/requests") != 0 {
		t.Error("admin calls reached the request log")
	}
	// Each change sent its event, in order, as WorkOS would.
	var got []string
	for _, e := range srv.Events() {
		if strings.HasPrefix(e, "dsync.") || strings.HasPrefix(e, "organization_domain.") {
			got = append(got, e)
		}
	}
	if want := []string{"dsync.user.created", "dsync.user.updated", "dsync.user.deleted", "dsync.deleted", "organization_domain.verification_failed"}; !slices.Equal(got, want) {
		t.Errorf("dsync events: got %v, want %v", got, want)
	}
}

func TestAdminAPIOff(t *testing.T) {
	srv := newTestServer(t)
	req, _ := http.NewRequest("GET", srv.URL+"/_emulator/requests", nil)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("got %d without WithAdmin, want 404", res.StatusCode)
	}
}

// TestSeedExampleIsDefault pins what the package doc says of
// cmd/ssogate/seed.example.json: it holds the default seed.
func TestSeedExampleIsDefault(t *testing.T) {
	data, err := os.ReadFile("../cmd/ssogate/seed.example.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSeed(data)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSeed()
	// Connections and users of the file take the server's defaults where
	// it leaves them out; compare what a file can say.
	if !reflect.DeepEqual(got.Directories, want.Directories) {
		t.Errorf("directories:\n got %+v\nwant %+v", got.Directories, want.Directories)
	}
	if !reflect.DeepEqual(got.DirectoryUsers, want.DirectoryUsers) {
		t.Errorf("directory users:\n got %+v\nwant %+v", got.DirectoryUsers, want.DirectoryUsers)
	}
	if len(got.Organizations) != len(want.Organizations) || len(got.Connections) != len(want.Connections) || len(got.Users) != len(want.Users) {
		t.Errorf("got %d organizations, %d connections, %d users; want %d, %d, %d",
			len(got.Organizations), len(got.Connections), len(got.Users), len(want.Organizations), len(want.Connections), len(want.Users))
	}
}

package workostest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The contract test drives every route the emulator serves over HTTP and
// holds each answer to what WorkOS's OpenAPI spec (and
// ../shared/workos-api.md, checked against it and the SDKs) says of it:
// the status of success and of each error, the fields an answer must
// carry and their types, error body shapes, cursor and order semantics,
// and event payloads. The checks are written from the spec's facts.

// shape is what an answer's JSON object must hold: for each field, its
// kinds ("string", "number", "bool", "object", "array", "null"), joined
// by "|".
type shape map[string]string

// check holds the JSON object raw to want, and returns it decoded.
func check(t *testing.T, what, raw string, want shape) map[string]any {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		t.Errorf("%s: not a JSON object: %v: %.200s", what, err, raw)
		return nil
	}
	for field, kinds := range want {
		v, ok := obj[field]
		if !ok {
			t.Errorf("%s: no %q (required)", what, field)
			continue
		}
		if k := kindOf(v); !slices.Contains(strings.Split(kinds, "|"), k) {
			t.Errorf("%s: %q is %s, want %s", what, field, k, kinds)
		}
	}
	return obj
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// in fails t unless obj[field] is one of values.
func in(t *testing.T, what string, obj map[string]any, field string, values ...string) {
	t.Helper()
	if v, _ := obj[field].(string); !slices.Contains(values, v) {
		t.Errorf("%s: %q is %q, want one of %v", what, field, v, values)
	}
}

// The answers' shapes, as the spec's schemas require them.
var (
	profileShape = shape{"object": "string", "id": "string", "organization_id": "string|null", "connection_id": "string",
		"connection_type": "string", "idp_id": "string", "email": "string", "first_name": "string|null",
		"last_name": "string|null", "name": "string|null", "raw_attributes": "object"}
	tokenShape      = shape{"token_type": "string", "access_token": "string", "expires_in": "number", "profile": "object"}
	connectionShape = shape{"object": "string", "id": "string", "connection_type": "string", "name": "string",
		"state": "string", "status": "string", "domains": "array", "created_at": "string", "updated_at": "string"}
	listShape      = shape{"object": "string", "data": "array", "list_metadata": "object"}
	cursorsShape   = shape{"before": "string|null", "after": "string|null"}
	oauthErrShape  = shape{"error": "string", "error_description": "string"}
	messageShape   = shape{"message": "string"}
	logoutShape    = shape{"logout_url": "string", "logout_token": "string"}
	eventShape     = shape{"id": "string", "event": "string", "data": "object", "created_at": "string", "object": "string"}
	connEventShape = shape{"object": "string", "id": "string", "state": "string", "name": "string", "connection_type": "string",
		"created_at": "string", "updated_at": "string", "external_key": "string", "status": "string", "domains": "array"}
	deletedEventShape = shape{"object": "string", "id": "string", "state": "string", "name": "string", "connection_type": "string",
		"created_at": "string", "updated_at": "string"}
)

// The callback's error codes and the token endpoint's, as the spec and
// ../shared/workos-api.md list them.
var (
	callbackErrors = []string{"access_denied", "ambiguous_connection_selector", "connection_invalid", "connection_strategy_invalid",
		"connection_unlinked", "invalid_connection_selector", "organization_invalid", "oauth_failed", "server_error"}
	tokenErrors  = []string{"invalid_client", "unauthorized_client", "invalid_grant", "unsupported_grant_type"}
	stateValues  = []string{"draft", "active", "validating", "inactive", "deleting", "requires_type"}
	statusValues = []string{"linked", "unlinked"}
)

func checkConnection(t *testing.T, what string, c map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(c)
	obj := check(t, what, string(raw), connectionShape)
	if obj == nil {
		return
	}
	in(t, what, obj, "object", "connection")
	in(t, what, obj, "state", stateValues...)
	in(t, what, obj, "status", statusValues...)
	for _, d := range obj["domains"].([]any) {
		raw, _ := json.Marshal(d)
		dom := check(t, what+" domain", string(raw), shape{"object": "string", "id": "string", "domain": "string"})
		in(t, what+" domain", dom, "object", "connection_domain")
	}
	for _, f := range []string{"created_at", "updated_at"} {
		if _, err := time.Parse(time.RFC3339, obj[f].(string)); err != nil {
			t.Errorf("%s: %s %q is not an ISO 8601 time", what, f, obj[f])
		}
	}
}

func TestContractAuthorize(t *testing.T) {
	s := newTestServer(t)
	// Success: back to the redirect URI with a code and the state.
	u := location(t, func() response {
		s.SetAutoSignIn(AliceEmail)
		defer s.SetAutoSignIn("")
		return get(t, s, authorizeURL(s, "connection", AcmeConnectionID))
	}())
	if u.Query().Get("code") == "" || u.Query().Get("state") != "st-123" {
		t.Errorf("authorize: got %s, want a code and the state", u)
	}
	// Every selector: connection, organization, provider and the
	// deprecated domain.
	for _, kv := range [][]string{{"connection", AcmeConnectionID}, {"organization", GlobexOrganizationID}, {"provider", "GoogleOAuth"}, {"domain", "acme.com"}} {
		r := get(t, s, authorizeURL(s, kv...))
		if r.status != http.StatusOK && r.status != http.StatusFound {
			t.Errorf("authorize %v: got %d", kv, r.status)
		}
		if r.status == http.StatusFound && location(t, r).Query().Has("error") {
			t.Errorf("authorize %v: refused: %s", kv, location(t, r))
		}
	}
	// Errors: back to the redirect URI with a documented code, a
	// description and the state.
	for _, kv := range [][]string{nil, {"connection", "conn_nope"}, {"organization", "org_nope"}, {"provider", "MySpaceOAuth"}, {"connection", AcmeConnectionID, "provider", "GoogleOAuth"}} {
		q := location(t, get(t, s, authorizeURL(s, kv...))).Query()
		if !slices.Contains(callbackErrors, q.Get("error")) || q.Get("error_description") == "" || q.Get("state") != "st-123" {
			t.Errorf("authorize %v: got %v, want a documented error, a description and the state", kv, q)
		}
	}
}

func TestContractToken(t *testing.T) {
	s := newTestServer(t)
	f := tokenRequestForm(s, login(t, s, AliceEmail, "connection", AcmeConnectionID), "")
	for _, asJSON := range []bool{false, true} {
		if asJSON {
			f = tokenRequestForm(s, login(t, s, AliceEmail, "connection", AcmeConnectionID), "")
		}
		r := postToken(t, s, f, asJSON)
		if r.status != http.StatusOK {
			t.Fatalf("token: got %d %s", r.status, r.body)
		}
		tok := check(t, "token", r.body, tokenShape)
		raw, _ := json.Marshal(tok["profile"])
		p := check(t, "token profile", string(raw), profileShape)
		in(t, "token profile", p, "object", "profile")
		if !strings.HasPrefix(p["id"].(string), "prof_") {
			t.Errorf("profile id %q", p["id"])
		}
		// GET /sso/profile with the access token answers the same profile.
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/sso/profile", nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		pr := do(t, noRedirect(s), req)
		if pr.status != http.StatusOK {
			t.Fatalf("profile: got %d %s", pr.status, pr.body)
		}
		if got := check(t, "profile", pr.body, profileShape); got["id"] != p["id"] {
			t.Errorf("profile: got id %v, want %v", got["id"], p["id"])
		}
	}
	// Errors: 400 with one of the four codes, whatever was wrong.
	bad := []func(url.Values){
		func(f url.Values) { f.Set("client_secret", "sk_wrong") },
		func(f url.Values) { f.Set("client_id", "client_wrong") },
		func(f url.Values) { f.Set("grant_type", "password") },
		func(f url.Values) { f.Set("code", "spent-or-unknown") },
		func(f url.Values) { f.Del("code") },
		func(url.Values) {},
	}
	for i, mutate := range bad {
		f := tokenRequestForm(s, login(t, s, AliceEmail, "connection", AcmeConnectionID), "")
		if i == len(bad)-1 {
			f = url.Values{}
		}
		mutate(f)
		r := postToken(t, s, f, false)
		if r.status != http.StatusBadRequest {
			t.Errorf("token error %d: got %d %s, want 400", i, r.status, r.body)
			continue
		}
		in(t, "token error", check(t, "token error", r.body, oauthErrShape), "error", tokenErrors...)
	}
	// A body that cannot be read: the spec's 422 and a message.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/sso/token", strings.NewReader(`{"client_id":`))
	req.Header.Set("Content-Type", "application/json")
	if r := do(t, noRedirect(s), req); r.status != http.StatusUnprocessableEntity {
		t.Errorf("malformed JSON: got %d %s, want 422", r.status, r.body)
	} else {
		check(t, "malformed JSON", r.body, messageShape)
	}
	// A bad access token: 401.
	req, _ = http.NewRequest(http.MethodGet, s.URL+"/sso/profile", nil)
	req.Header.Set("Authorization", "Bearer nope")
	if r := do(t, noRedirect(s), req); r.status != http.StatusUnauthorized {
		t.Errorf("profile with a bad token: got %d, want 401", r.status)
	}
}

func TestContractConnections(t *testing.T) {
	s := newTestServer(t)
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var made []string
	for i := range 7 {
		id := fmt.Sprintf("conn_contract%d", i)
		if err := s.AddConnection(Connection{ID: id, Type: "GenericSAML", Name: id, CreatedAt: start.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		made = append(made, id)
	}
	list := func(q url.Values) (ids []string, meta map[string]any) {
		t.Helper()
		r := api(t, s, http.MethodGet, "/connections?"+q.Encode(), "")
		if r.status != http.StatusOK {
			t.Fatalf("list %v: got %d %s", q, r.status, r.body)
		}
		l := check(t, "list", r.body, listShape)
		in(t, "list", l, "object", "list")
		raw, _ := json.Marshal(l["list_metadata"])
		meta = check(t, "list_metadata", string(raw), cursorsShape)
		for i, c := range l["data"].([]any) {
			checkConnection(t, fmt.Sprintf("list item %d", i), c.(map[string]any))
			if id := c.(map[string]any)["id"].(string); strings.HasPrefix(id, "conn_contract") {
				ids = append(ids, id)
			}
		}
		return ids, meta
	}
	only := url.Values{"search": {"conn_contract"}, "limit": {"3"}}
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range only {
			q[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	newest := []string{made[6], made[5], made[4], made[3], made[2], made[1], made[0]}
	// desc (the default) and normal list the newest first; asc the oldest.
	for _, tc := range []struct {
		order string
		want  []string
		// on is the parameter that pages on, from the id the metadata
		// names under the same name.
		on string
	}{
		{"", newest, "after"},
		{"desc", newest, "after"},
		{"asc", []string{made[0], made[1], made[2], made[3], made[4], made[5], made[6]}, "after"},
		{"normal", newest, "before"}, // before fetches older records
	} {
		var got []string
		q := with("order", tc.order)
		for page := 0; page < 5; page++ {
			ids, meta := list(q)
			got = append(got, ids...)
			next, _ := meta[tc.on].(string)
			if next == "" {
				break
			}
			// A cursor is an object id: the last item's.
			if next != ids[len(ids)-1] {
				t.Errorf("order %q: cursor %q, want the last item's id %q", tc.order, next, ids[len(ids)-1])
			}
			q = with("order", tc.order, tc.on, next)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("order %q: paged through %v, want %v", tc.order, got, tc.want)
		}
	}
	// Resuming after an id the caller stored works, as on WorkOS.
	if ids, _ := list(with("after", made[4])); !slices.Equal(ids, []string{made[3], made[2], made[1]}) {
		t.Errorf("after=%s: got %v", made[4], ids)
	}
	// Refusals: 422 with a message.
	for _, q := range []string{"limit=0", "limit=101", "order=sideways", "connection_type=MySpaceSAML", "after=conn_never_was", "before=a&after=b"} {
		r := api(t, s, http.MethodGet, "/connections?"+q, "")
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("list %s: got %d, want 422", q, r.status)
			continue
		}
		check(t, "list "+q, r.body, messageShape)
	}
	// One connection; unknown ones are 404 with a message.
	r := api(t, s, http.MethodGet, "/connections/"+AcmeConnectionID, "")
	if r.status != http.StatusOK {
		t.Fatalf("get: got %d", r.status)
	}
	var c map[string]any
	json.Unmarshal([]byte(r.body), &c)
	checkConnection(t, "get", c)
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		if r := api(t, s, method, "/connections/conn_nope", ""); r.status != http.StatusNotFound {
			t.Errorf("%s unknown: got %d, want 404", method, r.status)
		} else {
			check(t, method+" unknown", r.body, messageShape)
		}
	}
	// Delete: 200 or 204, an empty body.
	if r := api(t, s, http.MethodDelete, "/connections/"+made[0], ""); (r.status != http.StatusOK && r.status != http.StatusNoContent) || r.body != "" {
		t.Errorf("delete: got %d %q, want 200 or 204 and no body", r.status, r.body)
	}
}

func TestContractLogout(t *testing.T) {
	s := newTestServer(t)
	r := api(t, s, http.MethodPost, "/sso/logout/authorize", `{"profile_id":"`+ProfileID(GlobexConnectionID, HankEmail)+`"}`)
	if r.status != http.StatusOK {
		t.Fatalf("logout authorize: got %d %s", r.status, r.body)
	}
	la := check(t, "logout authorize", r.body, logoutShape)
	for body, want := range map[string]int{
		`{"profile_id":"` + ProfileID(AcmeConnectionID, AliceEmail) + `"}`: http.StatusBadRequest, // SAML: connection_invalid
		`{}`:                         http.StatusBadRequest,
		`{"profile_id":"prof_nope"}`: http.StatusNotFound,
	} {
		r := api(t, s, http.MethodPost, "/sso/logout/authorize", body)
		switch {
		case r.status != want:
			t.Errorf("logout authorize %s: got %d, want %d", body, r.status, want)
		case want == http.StatusBadRequest:
			in(t, "logout authorize "+body, check(t, "logout authorize", r.body, oauthErrShape), "error", "connection_invalid", "unauthorized_client")
		default:
			check(t, "logout authorize "+body, r.body, messageShape)
		}
	}
	// The browser's logout: a redirect or page once; then, as for a token
	// unknown or missing, 404 with a message.
	u := la["logout_url"].(string)
	if r := get(t, s, u); r.status != http.StatusOK && r.status != http.StatusFound {
		t.Errorf("logout: got %d", r.status)
	}
	for _, u := range []string{u, s.URL + "/sso/logout?token=nope", s.URL + "/sso/logout"} {
		if r := get(t, s, u); r.status != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", u, r.status)
		} else {
			check(t, u, r.body, messageShape)
		}
	}
}

func TestContractEvents(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	s := newTestServer(t, WithWebhook(rc.URL, testSecret))
	if err := s.SetConnectionState(AcmeConnectionID, "inactive"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConnectionState(InitechConnectionID, "active"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(GoogleConnectionID); err != nil {
		t.Fatal(err)
	}
	s.FlushWebhooks()
	got := rc.received()
	if len(got) != 3 {
		t.Fatalf("got %d events, want 3", len(got))
	}
	for _, d := range got {
		ev := check(t, "event", string(d.body), eventShape)
		in(t, "event", ev, "object", "event")
		name, _ := ev["event"].(string)
		raw, _ := json.Marshal(ev["data"])
		want := connEventShape
		if name == "connection.deleted" {
			want = deletedEventShape
		}
		data := check(t, name, string(raw), want)
		in(t, name, data, "object", "connection")
	}
}

func TestContractUnknownRoute(t *testing.T) {
	s := newTestServer(t)
	r := api(t, s, http.MethodGet, "/no/such/route", "")
	if r.status != http.StatusNotFound {
		t.Fatalf("got %d, want 404", r.status)
	}
	check(t, "unknown route", r.body, messageShape)
}

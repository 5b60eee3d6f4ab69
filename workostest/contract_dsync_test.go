package workostest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The shapes of Directory Sync's objects and of the Events API's list, as
// the spec's Directory, DirectoryUser, DirectoryGroup and EventList
// schemas require them.
var (
	directoryShape = shape{"object": "string", "id": "string", "organization_id": "string", "external_key": "string",
		"type": "string", "state": "string", "name": "string", "created_at": "string", "updated_at": "string"}
	directoryUserShape = shape{"object": "string", "id": "string", "directory_id": "string", "organization_id": "string",
		"idp_id": "string", "email": "string|null", "state": "string", "raw_attributes": "object",
		"custom_attributes": "object", "created_at": "string", "updated_at": "string"}
	directoryGroupShape = shape{"object": "string", "id": "string", "idp_id": "string", "directory_id": "string",
		"organization_id": "string", "name": "string", "created_at": "string", "updated_at": "string"}
	dsyncDeletedShape = shape{"object": "string", "id": "string", "organization_id": "string", "type": "string",
		"state": "string", "name": "string", "created_at": "string", "updated_at": "string"}
	// The Directory Sync API answers users with their groups; events
	// carry them without.
	directoryUserWithGroupsShape = func() shape {
		s := maps.Clone(directoryUserShape)
		s["groups"] = "array"
		return s
	}()
	eventListShape = shape{"object": "string", "data": "array", "list_metadata": "object"}
)

// listOf gets a list route and checks its envelope and every item's shape.
func listOf(t *testing.T, s *Server, path string, item shape) ([]map[string]any, map[string]any) {
	t.Helper()
	r := api(t, s, http.MethodGet, path, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	l := check(t, path, r.body, listShape)
	in(t, path, l, "object", "list")
	raw, _ := json.Marshal(l["list_metadata"])
	meta := check(t, path+" list_metadata", string(raw), cursorsShape)
	var items []map[string]any
	for i, v := range l["data"].([]any) {
		raw, _ := json.Marshal(v)
		items = append(items, check(t, fmt.Sprintf("%s item %d", path, i), string(raw), item))
	}
	return items, meta
}

func ids(items []map[string]any) []string {
	var out []string
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	return out
}

func TestContractDirectories(t *testing.T) {
	s := newTestServer(t)
	dirs, _ := listOf(t, s, "/directories?order=asc", directoryShape)
	if got := ids(dirs); !slices.Equal(got, []string{AcmeDirectoryID, GlobexDirectoryID}) {
		t.Errorf("directories: %v", got)
	}
	for _, d := range dirs {
		in(t, "directory", d, "object", "directory")
		in(t, "directory", d, "state", "linked", "validating", "invalid_credentials", "unlinked", "deleting")
	}
	if d, _ := listOf(t, s, "/directories?organization_id=org_globex", directoryShape); !slices.Equal(ids(d), []string{GlobexDirectoryID}) {
		t.Errorf("directories of Globex: %v", ids(d))
	}
	r := api(t, s, http.MethodGet, "/directories/"+AcmeDirectoryID, "")
	check(t, "directory", r.body, directoryShape)
	if r := api(t, s, http.MethodGet, "/directories/directory_nope", ""); r.status != http.StatusNotFound {
		t.Errorf("unknown directory: %d, want 404", r.status)
	}

	users, _ := listOf(t, s, "/directory_users?directory="+AcmeDirectoryID+"&order=asc", directoryUserWithGroupsShape)
	alice := DirectoryUserID(AcmeDirectoryID, AliceEmail)
	if got := ids(users); !slices.Equal(got, []string{alice, DirectoryUserID(AcmeDirectoryID, BobEmail)}) {
		t.Errorf("Acme's directory users: %v", got)
	}
	for _, u := range users {
		in(t, "directory user", u, "object", "directory_user")
		in(t, "directory user", u, "state", "active", "inactive")
		in(t, "directory user", u, "organization_id", AcmeOrganizationID)
	}
	// Alice's directory IdP id is her SSO profile's: one IdP does both.
	r = postToken(t, s, tokenRequestForm(s, login(t, s, AliceEmail, "connection", AcmeConnectionID), ""), false)
	var tok struct {
		Profile struct {
			IdPID string `json:"idp_id"`
		} `json:"profile"`
	}
	decode(t, r.body, &tok)
	if ssoIdP := tok.Profile.IdPID; ssoIdP == "" || users[0]["idp_id"] != ssoIdP {
		t.Errorf("alice's directory idp_id %v, SSO idp_id %q: want equal", users[0]["idp_id"], ssoIdP)
	}
	byIdP, _ := listOf(t, s, "/directory_users?directory="+AcmeDirectoryID+"&idp_id="+url.QueryEscape(tok.Profile.IdPID), directoryUserShape)
	byEmail, _ := listOf(t, s, "/directory_users?directory="+GlobexDirectoryID+"&email=hank@globex.com", directoryUserShape)
	if !slices.Equal(ids(byIdP), []string{alice}) || len(byEmail) != 1 || byEmail[0]["idp_id"] != GlobexDirectoryIdPID {
		t.Errorf("by idp_id: %v; by email: %v", ids(byIdP), byEmail)
	}
	for q, want := range map[string]int{
		"/directory_users":                                    http.StatusUnprocessableEntity, // directory or group is required
		"/directory_users?idp_id=x":                           http.StatusUnprocessableEntity, // only with directory
		"/directory_users?directory=directory_nope":           http.StatusNotFound,
		"/directory_users?directory=directory_acme&limit=101": http.StatusUnprocessableEntity,
		"/directory_users/directory_user_nope":                http.StatusNotFound,
		"/directory_groups":                                   http.StatusUnprocessableEntity,
	} {
		if r := api(t, s, http.MethodGet, q, ""); r.status != want {
			t.Errorf("GET %s: %d, want %d", q, r.status, want)
		} else if want == http.StatusUnprocessableEntity {
			check(t, q, r.body, shape{"message": "string", "code": "string", "errors": "array"})
		}
	}
	r = api(t, s, http.MethodGet, "/directory_users/"+alice, "")
	check(t, "directory user", r.body, directoryUserShape)

	groups, _ := listOf(t, s, "/directory_groups?directory="+AcmeDirectoryID+"&order=asc", directoryGroupShape)
	if len(groups) != 2 || groups[0]["name"] != "engineering" || groups[1]["name"] != "admins" {
		t.Errorf("Acme's groups: %v", groups)
	}
	bobs, _ := listOf(t, s, "/directory_groups?user="+DirectoryUserID(AcmeDirectoryID, BobEmail), directoryGroupShape)
	if len(bobs) != 1 || bobs[0]["name"] != "engineering" {
		t.Errorf("bob's groups: %v", bobs)
	}
	inGroup, _ := listOf(t, s, "/directory_users?group="+groups[1]["id"].(string), directoryUserShape)
	if !slices.Equal(ids(inGroup), []string{alice}) {
		t.Errorf("admins: %v", ids(inGroup))
	}
	if r := api(t, s, http.MethodGet, "/directory_groups/"+groups[0]["id"].(string), ""); r.status != http.StatusOK {
		t.Errorf("a group by id: %d", r.status)
	}

	// Paging: object-id cursors, as for connections.
	page1, meta := listOf(t, s, "/directory_users?directory="+AcmeDirectoryID+"&order=asc&limit=1", directoryUserShape)
	if meta["after"] != alice || meta["before"] != nil {
		t.Errorf("first page %v: list_metadata %v", ids(page1), meta)
	}
	page2, meta := listOf(t, s, "/directory_users?directory="+AcmeDirectoryID+"&order=asc&limit=1&after="+alice, directoryUserShape)
	if !slices.Equal(ids(page2), []string{DirectoryUserID(AcmeDirectoryID, BobEmail)}) || meta["after"] != nil {
		t.Errorf("second page %v: list_metadata %v", ids(page2), meta)
	}
}

func TestContractDirectoryEvents(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	s := newTestServer(t, WithWebhook(rc.URL, testSecret))
	bob := DirectoryUserID(AcmeDirectoryID, BobEmail)
	if err := s.SetDirectoryUserState(bob, "inactive"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDirectoryUser(DirectoryUserID(AcmeDirectoryID, AliceEmail)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDirectory(GlobexDirectoryID); err != nil {
		t.Fatal(err)
	}
	s.FlushWebhooks()
	got := rc.received()
	var names []string
	for _, d := range got {
		ev := check(t, "event", string(d.body), eventShape)
		name, _ := ev["event"].(string)
		names = append(names, name)
		raw, _ := json.Marshal(ev["data"])
		switch name {
		case "dsync.user.updated":
			data := check(t, name, string(raw), directoryUserShape)
			in(t, name, data, "state", "inactive")
			if prev, _ := data["previous_attributes"].(map[string]any); prev["state"] != "active" {
				t.Errorf("%s: previous_attributes %v, want state active", name, data["previous_attributes"])
			}
		case "dsync.user.deleted":
			data := check(t, name, string(raw), directoryUserShape)
			if _, ok := data["groups"]; ok {
				t.Errorf("%s carries groups", name)
			}
		case "dsync.deleted":
			data := check(t, name, string(raw), dsyncDeletedShape)
			in(t, name, data, "object", "directory")
			for _, f := range []string{"external_key", "domains"} {
				if _, ok := data[f]; ok {
					t.Errorf("dsync.deleted carries %s", f)
				}
			}
		}
	}
	if want := []string{"dsync.user.updated", "dsync.user.deleted", "dsync.deleted"}; !slices.Equal(names, want) {
		t.Errorf("webhooks: %v, want %v", names, want)
	}
	if r := api(t, s, http.MethodGet, "/directory_users?directory="+GlobexDirectoryID, ""); r.status != http.StatusNotFound {
		t.Errorf("users of a deleted directory: %d, want 404", r.status)
	}

	// GET /events lists what the webhook sent, oldest first, whatever the
	// order, with the same ids and bodies.
	all := "dsync.user.updated,dsync.user.deleted,dsync.deleted,connection.deactivated"
	for _, q := range []string{"events=" + url.QueryEscape(all), "events=dsync.user.updated&events=dsync.user.deleted&events=dsync.deleted",
		"events[]=dsync.user.updated&events[]=dsync.user.deleted&events[]=dsync.deleted&order=desc"} {
		r := api(t, s, http.MethodGet, "/events?"+q, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET /events?%s: %d %s", q, r.status, r.body)
		}
		l := check(t, "events", r.body, eventListShape)
		raw, _ := json.Marshal(l["list_metadata"])
		meta := check(t, "events list_metadata", string(raw), shape{"after": "string|null"})
		if _, ok := meta["before"]; ok {
			t.Errorf("events list_metadata has before")
		}
		data := l["data"].([]any)
		if len(data) != len(got) {
			t.Fatalf("GET /events?%s: %d events, want %d", q, len(data), len(got))
		}
		for i, v := range data {
			b, _ := json.Marshal(v)
			var sent map[string]any
			json.Unmarshal(got[i].body, &sent)
			sb, _ := json.Marshal(sent)
			if string(b) != string(sb) {
				t.Errorf("event %d: listed %s, sent %s", i, b, sb)
			}
		}
	}
	r := api(t, s, http.MethodGet, "/events?events=dsync.user.deleted,dsync.deleted&limit=1", "")
	var page struct {
		Data         []struct{ ID string }
		ListMetadata struct{ After *string } `json:"list_metadata"`
	}
	json.Unmarshal([]byte(r.body), &page)
	if len(page.Data) != 1 || page.ListMetadata.After == nil || *page.ListMetadata.After != page.Data[0].ID {
		t.Fatalf("a full page: %s", r.body)
	}
	r = api(t, s, http.MethodGet, "/events?events=dsync.user.deleted,dsync.deleted&limit=1&after="+*page.ListMetadata.After, "")
	json.Unmarshal([]byte(r.body), &page)
	if len(page.Data) != 1 || page.ListMetadata.After != nil {
		t.Errorf("the last page: %s", r.body)
	}
	if r := api(t, s, http.MethodGet, "/events?events=dsync.deleted&organization_id="+AcmeOrganizationID, ""); strings.Contains(r.body, "dsync.deleted") {
		t.Errorf("organization_id filter: %s", r.body)
	}
	future := url.QueryEscape(s.Now().Add(time.Hour).Format(time.RFC3339))
	if r := api(t, s, http.MethodGet, "/events?events=dsync.deleted&range_start="+future, ""); strings.Contains(r.body, "dsync.deleted") {
		t.Errorf("range_start filter: %s", r.body)
	}
	for q, want := range map[string]int{
		"/events":                       http.StatusUnprocessableEntity, // events is required
		"/events?events=x&limit=0":      http.StatusUnprocessableEntity,
		"/events?events=x&after=nope":   http.StatusUnprocessableEntity,
		"/events?events=x&range_end=no": http.StatusUnprocessableEntity,
	} {
		if r := api(t, s, http.MethodGet, q, ""); r.status != want {
			t.Errorf("GET %s: %d, want %d", q, r.status, want)
		}
	}
}

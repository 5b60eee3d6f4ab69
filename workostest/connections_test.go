package workostest

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

type wireConnection struct {
	Object         string `json:"object"`
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	ConnectionType string `json:"connection_type"`
	Name           string `json:"name"`
	State          string `json:"state"`
	Status         string `json:"status"`
	Domains        []struct {
		Object string `json:"object"`
		ID     string `json:"id"`
		Domain string `json:"domain"`
	} `json:"domains"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

type wireList struct {
	Object       string           `json:"object"`
	Data         []wireConnection `json:"data"`
	ListMetadata struct {
		Before *string `json:"before"`
		After  *string `json:"after"`
	} `json:"list_metadata"`
}

func listIDs(t *testing.T, s *Server, q url.Values) ([]string, wireList) {
	t.Helper()
	r := api(t, s, http.MethodGet, "/connections?"+q.Encode(), "")
	if r.status != http.StatusOK {
		t.Fatalf("got status %d, want 200; body %s", r.status, r.body)
	}
	var l wireList
	decode(t, r.body, &l)
	ids := []string{}
	for _, c := range l.Data {
		ids = append(ids, c.ID)
	}
	return ids, l
}

func TestGetConnection(t *testing.T) {
	s := newTestServer(t)
	r := api(t, s, http.MethodGet, "/connections/"+AcmeConnectionID, "")
	if r.status != http.StatusOK {
		t.Fatalf("got status %d, want 200", r.status)
	}
	var c wireConnection
	decode(t, r.body, &c)
	if c.Object != "connection" || c.ID != AcmeConnectionID || c.OrganizationID != AcmeOrganizationID ||
		c.ConnectionType != "OktaSAML" || c.Name != "Acme Okta" || c.State != "active" || c.Status != "linked" {
		t.Errorf("got %+v, want the Acme Okta connection, active and linked", c)
	}
	if len(c.Domains) != 1 || c.Domains[0].Object != "connection_domain" || c.Domains[0].Domain != "acme.com" || c.Domains[0].ID == "" {
		t.Errorf("got domains %+v, want one connection_domain acme.com", c.Domains)
	}
	if c.CreatedAt != "2026-01-15T12:00:00.000Z" {
		t.Errorf("got created_at %q, want 2026-01-15T12:00:00.000Z", c.CreatedAt)
	}

	r = api(t, s, http.MethodGet, "/connections/"+InitechConnectionID, "")
	decode(t, r.body, &c)
	if c.State != "inactive" || c.Status != "unlinked" {
		t.Errorf("got state %q status %q, want inactive unlinked", c.State, c.Status)
	}

	r = api(t, s, http.MethodGet, "/connections/conn_nope", "")
	if r.status != http.StatusNotFound {
		t.Errorf("got status %d, want 404", r.status)
	}
	var e struct{ Message string }
	decode(t, r.body, &e)
	if e.Message == "" {
		t.Error("404 has no message")
	}
}

func TestDeleteConnection(t *testing.T) {
	s := newTestServer(t)
	r := api(t, s, http.MethodDelete, "/connections/"+GlobexConnectionID, "")
	if r.status != http.StatusNoContent || r.body != "" {
		t.Errorf("got %d %q, want 204 and no body", r.status, r.body)
	}
	if r := api(t, s, http.MethodGet, "/connections/"+GlobexConnectionID, ""); r.status != http.StatusNotFound {
		t.Errorf("after delete: got status %d, want 404", r.status)
	}
	if r := api(t, s, http.MethodDelete, "/connections/"+GlobexConnectionID, ""); r.status != http.StatusNotFound {
		t.Errorf("second delete: got status %d, want 404", r.status)
	}
	u := location(t, get(t, s, authorizeURL(s, "connection", GlobexConnectionID)))
	if got := u.Query().Get("error"); got != "connection_invalid" {
		t.Errorf("authorize after delete: got error %q, want connection_invalid", got)
	}
}

func TestListConnectionsFilters(t *testing.T) {
	s := newTestServer(t)
	if err := s.AddConnection(Connection{ID: "conn_gh", Name: "GitHub", Type: "GitHubOAuth", CreatedAt: seedEpoch.Add(4 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    url.Values
		want []string
	}{
		{"all, newest first", nil, []string{"conn_gh", InitechConnectionID, GoogleConnectionID, GlobexConnectionID, AcmeConnectionID}},
		{"asc", url.Values{"order": {"asc"}}, []string{AcmeConnectionID, GlobexConnectionID, GoogleConnectionID, InitechConnectionID, "conn_gh"}},
		// WorkOS's spec: normal is descending too.
		{"normal", url.Values{"order": {"normal"}}, []string{"conn_gh", InitechConnectionID, GoogleConnectionID, GlobexConnectionID, AcmeConnectionID}},
		{"type", url.Values{"connection_type": {"OktaSAML"}}, []string{AcmeConnectionID}},
		{"github wire spelling", url.Values{"connection_type": {"GithubOAuth"}}, []string{"conn_gh"}},
		{"domain", url.Values{"domain": {"Globex.com"}}, []string{GlobexConnectionID}},
		{"organization", url.Values{"organization_id": {InitechOrganizationID}}, []string{InitechConnectionID}},
		{"search", url.Values{"search": {"oKTa"}}, []string{AcmeConnectionID}},
		{"search none", url.Values{"search": {"zzz"}}, []string{}},
		{"combined", url.Values{"organization_id": {AcmeOrganizationID}, "connection_type": {"GenericOIDC"}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, l := listIDs(t, s, tt.q)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if l.Object != "list" {
				t.Errorf("got object %q, want list", l.Object)
			}
			if l.ListMetadata.Before != nil || l.ListMetadata.After != nil {
				t.Errorf("got cursors %v %v, want null null", l.ListMetadata.Before, l.ListMetadata.After)
			}
		})
	}
}

func TestListConnectionsValidation(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name      string
		q         string
		wantField string
	}{
		{"limit zero", "limit=0", "limit"},
		{"limit too big", "limit=101", "limit"},
		{"limit not a number", "limit=ten", "limit"},
		{"bad order", "order=random", "order"},
		{"a cursor that is no object's id", "after=conn_never_was", "after"},
		{"a before that is no object's id", "before=cur_opaque", "before"},
		{"github spelled as in objects", "connection_type=GitHubOAuth", "connection_type"},
		{"a connection type outside the spec's list", "connection_type=MySpaceSAML", "connection_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := api(t, s, http.MethodGet, "/connections?"+tt.q, "")
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("got status %d, want 422", r.status)
			}
			var e struct {
				Message string
				Code    string
				Errors  []struct{ Field, Code string }
			}
			decode(t, r.body, &e)
			if e.Message == "" || len(e.Errors) != 1 || e.Errors[0].Field != tt.wantField || e.Errors[0].Code == "" {
				t.Errorf("got %+v, want a message and one error on %s", e, tt.wantField)
			}
		})
	}
	for _, limit := range []string{"1", "100"} {
		if r := api(t, s, http.MethodGet, "/connections?limit="+limit, ""); r.status != http.StatusOK {
			t.Errorf("limit=%s: got status %d, want 200", limit, r.status)
		}
	}
}

func TestListConnectionsPaging(t *testing.T) {
	s := newTestServer(t, WithSeed(Seed{}))
	var want []string
	for i := range 25 {
		id := fmt.Sprintf("conn_%02d", i)
		// Pairs share a creation time, so ties are broken by id.
		if err := s.AddConnection(Connection{ID: id, Type: "GenericSAML", CreatedAt: seedEpoch.Add(time.Duration(i/2) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
	}
	for _, order := range []string{"desc", "asc"} {
		t.Run(order, func(t *testing.T) {
			wantOrder := want
			if order == "asc" {
				wantOrder = nil
				for i := len(want) - 1; i >= 0; i-- {
					wantOrder = append(wantOrder, want[i])
				}
			}
			// Forwards with after.
			var got []string
			var afters []string
			q := url.Values{"limit": {"10"}, "order": {order}}
			for pages := 0; ; pages++ {
				if pages > 5 {
					t.Fatal("paging does not end")
				}
				ids, l := listIDs(t, s, q)
				got = append(got, ids...)
				if (pages == 0) != (l.ListMetadata.Before == nil) {
					t.Errorf("page %d: got before %v", pages, l.ListMetadata.Before)
				}
				if l.ListMetadata.After == nil {
					break
				}
				afters = append(afters, *l.ListMetadata.After)
				q.Set("after", *l.ListMetadata.After)
			}
			if !reflect.DeepEqual(got, wantOrder) {
				t.Fatalf("got %v, want %v", got, wantOrder)
			}
			// Backwards from the last page with before.
			_, last := listIDs(t, s, q)
			ids, l := listIDs(t, s, url.Values{"limit": {"10"}, "order": {order}, "before": {*last.ListMetadata.Before}})
			if !reflect.DeepEqual(ids, wantOrder[10:20]) {
				t.Errorf("before: got %v, want %v", ids, wantOrder[10:20])
			}
			if l.ListMetadata.After == nil || *l.ListMetadata.After != afters[1] {
				t.Errorf("before: got after %v, want %s", l.ListMetadata.After, afters[1])
			}
		})
	}
}

func TestListConnectionsCursorSurvivesDelete(t *testing.T) {
	s := newTestServer(t)
	_, l := listIDs(t, s, url.Values{"limit": {"2"}})
	if err := s.DeleteConnection(GoogleConnectionID); err != nil { // the last item of page one
		t.Fatal(err)
	}
	ids, _ := listIDs(t, s, url.Values{"limit": {"2"}, "after": {*l.ListMetadata.After}})
	if want := []string{GlobexConnectionID, AcmeConnectionID}; !reflect.DeepEqual(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
}

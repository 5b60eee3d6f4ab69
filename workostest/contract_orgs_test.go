package workostest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The shapes of the Organizations API's objects, as the spec's
// Organization and OrganizationDomainStandAlone schemas require them.
var (
	organizationShape = shape{"object": "string", "id": "string", "name": "string", "domains": "array",
		"metadata": "object", "external_id": "string|null", "created_at": "string", "updated_at": "string"}
	orgDomainShape = shape{"object": "string", "id": "string", "organization_id": "string", "domain": "string",
		"state": "string", "verification_strategy": "string", "created_at": "string", "updated_at": "string"}
)

func TestContractOrganizations(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	s := newTestServer(t, WithWebhook(rc.URL, testSecret))

	// The seed's organizations, newest first, each with its domains
	// verified.
	items, _ := listOf(t, s, "/organizations", organizationShape)
	if got, want := ids(items), []string{InitechOrganizationID, GlobexOrganizationID, AcmeOrganizationID}; !slices.Equal(got, want) {
		t.Errorf("GET /organizations: %v, want %v", got, want)
	}
	acme := check(t, "acme", api(t, s, http.MethodGet, "/organizations/"+AcmeOrganizationID, "").body, organizationShape)
	in(t, "acme", acme, "object", "organization")
	raw, _ := json.Marshal(acme["domains"].([]any)[0])
	d := check(t, "acme's domain", string(raw), orgDomainShape)
	in(t, "acme's domain", d, "state", "verified")
	in(t, "acme's domain", d, "domain", "acme.com")
	if acme["external_id"] != nil {
		t.Errorf("a seeded organization has external_id %v, want null", acme["external_id"])
	}
	byDomain, _ := listOf(t, s, "/organizations?domains=globex.com,nowhere.example", organizationShape)
	if got := ids(byDomain); !slices.Equal(got, []string{GlobexOrganizationID}) {
		t.Errorf("GET /organizations?domains=globex.com: %v", got)
	}

	// Create, read by id and external id, update, delete.
	r := api(t, s, http.MethodPost, "/organizations", `{"name":"Hooli","domain_data":[{"domain":"Hooli.com","state":"pending"}],"external_id":"crm-42","metadata":{"tier":"gold"}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /organizations: %d %s", r.status, r.body)
	}
	hooli := check(t, "created", r.body, organizationShape)
	id := hooli["id"].(string)
	if !strings.HasPrefix(id, "org_") || hooli["external_id"] != "crm-42" || hooli["metadata"].(map[string]any)["tier"] != "gold" {
		t.Errorf("created: %v", hooli)
	}
	raw, _ = json.Marshal(hooli["domains"].([]any)[0])
	d = check(t, "hooli's domain", string(raw), orgDomainShape)
	in(t, "hooli's domain", d, "domain", "hooli.com")
	in(t, "hooli's domain", d, "state", "pending")
	in(t, "hooli's domain", d, "verification_strategy", "dns")
	if d["verification_token"] == "" || d["verification_prefix"] == "" {
		t.Errorf("a pending dns domain has no verification record: %v", d)
	}
	if r := api(t, s, http.MethodGet, "/organizations/external_id/crm-42", ""); r.status != http.StatusOK || !strings.Contains(r.body, id) {
		t.Errorf("GET by external id: %d %s", r.status, r.body)
	}
	r = api(t, s, http.MethodPut, "/organizations/"+id, `{"name":"Hooli XYZ","domain_data":[{"domain":"hooli.com","state":"verified"}]}`)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"name":"Hooli XYZ"`) || !strings.Contains(r.body, `"state":"verified"`) {
		t.Errorf("PUT: %d %s", r.status, r.body)
	}

	for _, tt := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodPost, "/organizations", `{}`, http.StatusUnprocessableEntity},
		{http.MethodPost, "/organizations", `{"name":"x",`, http.StatusBadRequest},
		{http.MethodPost, "/organizations", `{"name":"Evil","domain_data":[{"domain":"acme.com","state":"verified"}]}`, http.StatusConflict},
		{http.MethodPost, "/organizations", `{"name":"Again","external_id":"crm-42"}`, http.StatusConflict},
		{http.MethodPost, "/organizations", `{"name":"x","domain_data":[{"domain":"x.com","state":"maybe"}]}`, http.StatusUnprocessableEntity},
		{http.MethodGet, "/organizations/org_nope", "", http.StatusNotFound},
		{http.MethodGet, "/organizations/external_id/nope", "", http.StatusNotFound},
		{http.MethodPut, "/organizations/org_nope", `{"name":"x"}`, http.StatusNotFound},
		{http.MethodPut, "/organizations/" + id, `{"name":""}`, http.StatusUnprocessableEntity},
		{http.MethodDelete, "/organizations/org_nope", "", http.StatusNotFound},
	} {
		r := api(t, s, tt.method, tt.path, tt.body)
		if r.status != tt.status {
			t.Errorf("%s %s %s: %d %s, want %d", tt.method, tt.path, tt.body, r.status, r.body, tt.status)
		}
		if r.status >= 400 {
			check(t, tt.path, r.body, shape{"message": "string"})
		}
	}

	// Organization domains.
	r = api(t, s, http.MethodPost, "/organization_domains", `{"organization_id":"`+id+`","domain":"hooli.xyz"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /organization_domains: %d %s", r.status, r.body)
	}
	xyz := check(t, "domain", r.body, orgDomainShape)
	in(t, "domain", xyz, "state", "pending")
	did := xyz["id"].(string)
	if r := api(t, s, http.MethodPost, "/organization_domains", `{"organization_id":"`+id+`","domain":"hooli.xyz"}`); r.status != http.StatusConflict {
		t.Errorf("a taken domain: %d", r.status)
	}
	if r := api(t, s, http.MethodPost, "/organization_domains", `{"organization_id":"org_nope","domain":"n.example"}`); r.status != http.StatusNotFound {
		t.Errorf("an unknown organization's domain: %d", r.status)
	}
	if r := api(t, s, http.MethodPost, "/organization_domains/"+did+"/verify", ""); r.status != http.StatusCreated {
		t.Errorf("verify: %d %s", r.status, r.body)
	}
	if err := s.SetDomainState("hooli.xyz", "verified"); err != nil {
		t.Fatal(err)
	}
	if r := api(t, s, http.MethodGet, "/organization_domains/"+did, ""); !strings.Contains(r.body, `"state":"verified"`) {
		t.Errorf("after verification: %s", r.body)
	}
	if r := api(t, s, http.MethodDelete, "/organization_domains/"+did, ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE domain: %d", r.status)
	}
	if r := api(t, s, http.MethodGet, "/organization_domains/"+did, ""); r.status != http.StatusNotFound {
		t.Errorf("a deleted domain: %d", r.status)
	}
	if r := api(t, s, http.MethodDelete, "/organizations/"+id, ""); r.status != http.StatusAccepted {
		t.Errorf("DELETE: %d", r.status)
	}
	if r := api(t, s, http.MethodGet, "/organizations/"+id, ""); r.status != http.StatusNotFound {
		t.Errorf("a deleted organization: %d", r.status)
	}

	// Every change sent its event, signed, and GET /events lists them.
	s.FlushWebhooks()
	var names []string
	for _, d := range rc.received() {
		ev := check(t, "event", string(d.body), eventShape)
		names = append(names, ev["event"].(string))
	}
	want := []string{"organization.created", "organization.updated", "organization_domain.created",
		"organization_domain.verified", "organization_domain.deleted", "organization.deleted"}
	if !slices.Equal(names, want) {
		t.Errorf("webhooks: %v, want %v", names, want)
	}
	if r := api(t, s, http.MethodGet, "/events?events="+strings.Join(want, ","), ""); strings.Count(r.body, `"object":"event"`) != len(want) {
		t.Errorf("GET /events: %s", r.body)
	}
}

var portalLinkRE = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/portal\?token=[A-Z2-7]{26}$`)

func TestContractPortalLink(t *testing.T) {
	s := newTestServer(t)
	r := api(t, s, http.MethodPost, "/portal/generate_link", `{"organization":"org_acme","intent":"sso","success_url":"https://app.example.com/admin"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("POST /portal/generate_link: %d %s", r.status, r.body)
	}
	link := check(t, "link", r.body, shape{"link": "string"})["link"].(string)
	if !portalLinkRE.MatchString(link) {
		t.Errorf("link %q", link)
	}
	for _, tt := range []struct {
		body   string
		status int
	}{
		{`{"organization":"org_nope"}`, http.StatusNotFound},
		{`{"organization":"org_acme","intent":"everything"}`, http.StatusUnprocessableEntity},
		{`{}`, http.StatusUnprocessableEntity},
		{`{"organization":"org_acme","success_url":"javascript:alert(1)"}`, http.StatusUnprocessableEntity},
		{`not json`, http.StatusBadRequest},
	} {
		r := api(t, s, http.MethodPost, "/portal/generate_link", tt.body)
		if r.status != tt.status {
			t.Errorf("generate_link %s: %d %s, want %d", tt.body, r.status, r.body, tt.status)
		}
		check(t, tt.body, r.body, shape{"message": "string"})
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/portal/generate_link", strings.NewReader(`{"organization":"org_acme"}`))
	if r := do(t, noRedirect(s), req); r.status != http.StatusUnauthorized {
		t.Errorf("generate_link without the API key: %d", r.status)
	}
}

// TestPortal runs the portal's page as an IT admin would: the link opens
// once, within five minutes; activating makes an active connection with
// the admin's domain and first user, sends connection.activated, and the
// user can sign in through it.
func TestPortal(t *testing.T) {
	rc := newReceiver(t, http.StatusOK)
	s := newTestServer(t, WithWebhook(rc.URL, testSecret))
	c := noRedirect(s)
	newLink := func(body string) string {
		t.Helper()
		r := api(t, s, http.MethodPost, "/portal/generate_link", body)
		if r.status != http.StatusCreated {
			t.Fatalf("generate_link: %d %s", r.status, r.body)
		}
		var out struct{ Link string }
		json.Unmarshal([]byte(r.body), &out)
		return out.Link
	}
	get := func(u string) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		return do(t, c, req)
	}
	post := func(form url.Values) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/portal/complete", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return do(t, c, req)
	}
	session := regexp.MustCompile(`name="session" value="([A-Z2-7]+)"`)

	// Expired: five minutes on the server clock.
	stale := newLink(`{"organization":"org_acme"}`)
	s.Advance(5*time.Minute + time.Second)
	if r := get(stale); r.status != http.StatusGone || !strings.Contains(r.body, "expired") {
		t.Errorf("an expired link: %d %s", r.status, r.body)
	}
	if r := get(s.URL + "/portal?token=NOPE"); r.status != http.StatusNotFound {
		t.Errorf("an unknown link: %d", r.status)
	}

	link := newLink(`{"organization":"org_initech","success_url":"https://app.example.com/admin"}`)
	page := get(link)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Initech") || page.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("the portal: %d %s", page.status, page.body)
	}
	if r := get(link); r.status != http.StatusGone || !strings.Contains(r.body, "already used") {
		t.Errorf("a link opened twice: %d", r.status)
	}
	sess := session.FindStringSubmatch(page.body)[1]
	form := url.Values{"session": {sess}, "provider": {"OktaSAML"}, "domain": {"initrode.example"},
		"email": {"samir@initrode.example"}, "first_name": {"Samir"}, "last_name": {"Nagheenanajar"}}

	// A user outside the domain, or a domain another organization holds,
	// is refused and changes nothing.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("email", "samir@gmail.com")
	if r := post(bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "at initrode.example") {
		t.Errorf("a first user outside the domain: %d %s", r.status, r.body)
	}
	bad.Set("email", "x@acme.com")
	bad.Set("domain", "acme.com")
	if r := post(bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "another organization") {
		t.Errorf("another organization's domain: %d %s", r.status, r.body)
	}

	r := post(form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "https://app.example.com/admin" {
		t.Fatalf("activate: %d %s", r.status, r.body)
	}
	if r := post(form); r.status != http.StatusGone {
		t.Errorf("the form sent twice: %d", r.status)
	}
	s.FlushWebhooks()
	got := rc.received()
	if len(got) != 1 || !strings.Contains(string(got[0].body), `"event":"connection.activated"`) || !strings.Contains(string(got[0].body), "initrode.example") {
		t.Fatalf("webhooks: %d, want connection.activated of the new connection", len(got))
	}
	// The new connection routes its domain, and its user signs in.
	conns, _ := listOf(t, s, "/connections?organization_id="+InitechOrganizationID+"&order=asc", connectionShape)
	active := slices.IndexFunc(conns, func(c map[string]any) bool { return c["state"] == "active" })
	if active < 0 {
		t.Fatalf("no active connection of Initech: %v", conns)
	}
	u := authorizeURL(s, "connection", conns[active]["id"].(string))
	if r := get(u); r.status != http.StatusOK || !strings.Contains(r.body, "samir@initrode.example") {
		t.Errorf("the sign-in page of the new connection: %d %s", r.status, r.body)
	}
}

// TestPortalRefusesOtherSites: a form another site's page posts to the
// portal is refused, even with the session of a page the admin opened.
func TestPortalRefusesOtherSites(t *testing.T) {
	s := newTestServer(t)
	r := api(t, s, http.MethodPost, "/portal/generate_link", `{"organization":"org_initech"}`)
	var out struct{ Link string }
	json.Unmarshal([]byte(r.body), &out)
	page := get(t, s, out.Link)
	sess := regexp.MustCompile(`name="session" value="([A-Z2-7]+)"`).FindStringSubmatch(page.body)[1]
	form := url.Values{"session": {sess}, "provider": {"OktaSAML"}, "domain": {"initrode.example"}, "email": {"x@initrode.example"}}
	for _, h := range [][2]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/portal/complete", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(h[0], h[1])
		if r := do(t, noRedirect(s), req); r.status != http.StatusForbidden {
			t.Errorf("a post with %s: %s: %d, want 403", h[0], h[1], r.status)
		}
	}
	// The portal's own page, whose Referrer-Policy makes Origin null.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/portal/complete", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "null")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := do(t, noRedirect(s), req); r.status != http.StatusOK {
		t.Errorf("the portal's own post: %d %s", r.status, r.body)
	}
}

// TestPortalLinksForgotten: links that can no longer be used are not kept.
func TestPortalLinksForgotten(t *testing.T) {
	s := newTestServer(t)
	for range 3 {
		api(t, s, http.MethodPost, "/portal/generate_link", `{"organization":"org_acme"}`)
	}
	s.Advance(portalLinkLifetime + time.Second)
	api(t, s, http.MethodPost, "/portal/generate_link", `{"organization":"org_acme"}`)
	s.mu.Lock()
	n := len(s.portals)
	s.mu.Unlock()
	if n != 1 {
		t.Errorf("the server keeps %d links, want the one still usable", n)
	}
}

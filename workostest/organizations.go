package workostest

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// organization is an organization as the server keeps it: the seed's
// fields, and what the Organizations API adds.
type organization struct {
	Organization
	// domains are the API's view of Domains, in the same order.
	domains              []*orgDomain
	metadata             map[string]string
	externalID           string
	createdAt, updatedAt time.Time
}

// orgDomain is an organization domain.
type orgDomain struct {
	id, domain, state, strategy, token string
	createdAt, updatedAt               time.Time
}

type organizationJSON struct {
	Object     string            `json:"object"`
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Domains    []orgDomainJSON   `json:"domains"`
	Metadata   map[string]string `json:"metadata"`
	ExternalID *string           `json:"external_id"`
	CreatedAt  string            `json:"created_at"`
	UpdatedAt  string            `json:"updated_at"`
}

type orgDomainJSON struct {
	Object               string `json:"object"`
	ID                   string `json:"id"`
	OrganizationID       string `json:"organization_id"`
	Domain               string `json:"domain"`
	State                string `json:"state"`
	VerificationStrategy string `json:"verification_strategy"`
	VerificationPrefix   string `json:"verification_prefix,omitempty"`
	VerificationToken    string `json:"verification_token,omitempty"`
	CreatedAt            string `json:"created_at"`
	UpdatedAt            string `json:"updated_at"`
}

func organizationJSONOf(o *organization) organizationJSON {
	out := organizationJSON{Object: "organization", ID: o.ID, Name: o.Name, Domains: []orgDomainJSON{},
		Metadata: maps.Clone(o.metadata), CreatedAt: formatTime(o.createdAt), UpdatedAt: formatTime(o.updatedAt)}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if o.externalID != "" {
		out.ExternalID = &o.externalID
	}
	for _, d := range o.domains {
		out.Domains = append(out.Domains, orgDomainJSONOf(o.ID, d))
	}
	return out
}

func orgDomainJSONOf(orgID string, d *orgDomain) orgDomainJSON {
	out := orgDomainJSON{Object: "organization_domain", ID: d.id, OrganizationID: orgID, Domain: d.domain, State: d.state,
		VerificationStrategy: d.strategy, CreatedAt: formatTime(d.createdAt), UpdatedAt: formatTime(d.updatedAt)}
	if d.strategy == "dns" {
		out.VerificationPrefix, out.VerificationToken = "workos-verify", d.token
	}
	return out
}

// syncDomains makes the organization's Domains, which route sign-ins,
// the names of its domains.
func (o *organization) syncDomains() {
	o.Domains = nil
	for _, d := range o.domains {
		o.Domains = append(o.Domains, d.domain)
	}
}

// domainOwnerLocked returns the organization holding domain, if any.
func (s *Server) domainOwnerLocked(domain string) (*organization, *orgDomain) {
	for _, id := range s.orgOrder {
		o := s.orgs[id]
		for _, d := range o.domains {
			if d.domain == domain {
				return o, d
			}
		}
	}
	return nil, nil
}

// findDomainLocked returns the organization domain with this id.
func (s *Server) findDomainLocked(id string) (*organization, *orgDomain) {
	for _, oid := range s.orgOrder {
		o := s.orgs[oid]
		for _, d := range o.domains {
			if d.id == id {
				return o, d
			}
		}
	}
	return nil, nil
}

func (s *Server) listOrganizations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var domains []string
	for _, v := range append(q["domains"], q["domains[]"]...) {
		for d := range strings.SplitSeq(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				domains = append(domains, d)
			}
		}
	}
	search := strings.ToLower(q.Get("search"))
	s.mu.Lock()
	var all []organizationJSON
	for _, id := range s.orgOrder {
		o := s.orgs[id]
		if search != "" && !strings.Contains(strings.ToLower(o.Name), search) {
			continue
		}
		if len(domains) > 0 && !slices.ContainsFunc(o.Domains, func(d string) bool { return slices.Contains(domains, d) }) {
			continue
		}
		all = append(all, organizationJSONOf(o))
	}
	s.mu.Unlock()
	writePage(w, q, all, func(o organizationJSON) string { return o.ID })
}

// organizationBody is the body of POST and PUT /organizations.
type organizationBody struct {
	Name       *string `json:"name"`
	DomainData []struct {
		Domain string `json:"domain"`
		State  string `json:"state"`
	} `json:"domain_data"`
	Domains    []string          `json:"domains"` // deprecated: pending domains
	Metadata   map[string]string `json:"metadata"`
	ExternalID *string           `json:"external_id"`
}

// readJSON decodes a JSON body, answering 400 if it is not one.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "The request body is not valid JSON."})
		return false
	}
	return true
}

// checkOrganizationBody checks a body, as for creating (name required)
// or updating, and returns the field errors.
func checkOrganizationBody(b *organizationBody, create bool) []fieldErrorJSON {
	var errs []fieldErrorJSON
	if create && (b.Name == nil || strings.TrimSpace(*b.Name) == "") || b.Name != nil && strings.TrimSpace(*b.Name) == "" {
		errs = append(errs, fieldErrorJSON{Field: "name", Code: "name is required"})
	}
	for _, d := range b.DomainData {
		if !validDomain(d.Domain) {
			errs = append(errs, fieldErrorJSON{Field: "domain_data", Code: "domain must be a domain such as acme.com"})
		}
		if d.State != "pending" && d.State != "verified" {
			errs = append(errs, fieldErrorJSON{Field: "domain_data", Code: "state must be one of pending, verified"})
		}
	}
	for _, d := range b.Domains {
		if !validDomain(d) {
			errs = append(errs, fieldErrorJSON{Field: "domains", Code: "domain must be a domain such as acme.com"})
		}
	}
	if len(b.Metadata) > 50 {
		errs = append(errs, fieldErrorJSON{Field: "metadata", Code: "metadata may have at most 50 keys"})
	}
	for k, v := range b.Metadata {
		if len(k) > 40 || len(v) > 600 {
			errs = append(errs, fieldErrorJSON{Field: "metadata", Code: "metadata keys have at most 40 characters and values 600"})
			break
		}
	}
	if b.ExternalID != nil && len(*b.ExternalID) > 128 {
		errs = append(errs, fieldErrorJSON{Field: "external_id", Code: "external_id has at most 128 characters"})
	}
	return errs
}

// validDomain reports whether d looks like a domain name.
func validDomain(d string) bool {
	return d != "" && len(d) <= 253 && !strings.ContainsAny(d, " @/:\\") && strings.Contains(d, ".") &&
		!strings.HasPrefix(d, ".") && !strings.HasSuffix(d, ".")
}

// applyOrganizationBodyLocked applies a checked body to o, answering the
// conflict it meets (a domain or external id another organization holds)
// without changing anything.
func (s *Server) applyOrganizationBodyLocked(o *organization, b *organizationBody) (ok bool, conflict string) {
	var next []*orgDomain
	if b.DomainData != nil || b.Domains != nil {
		now := s.nowLocked().Round(0)
		add := func(domain, state string) {
			domain = strings.ToLower(domain)
			if slices.ContainsFunc(next, func(d *orgDomain) bool { return d.domain == domain }) {
				return
			}
			if i := slices.IndexFunc(o.domains, func(d *orgDomain) bool { return d.domain == domain }); i >= 0 {
				d := *o.domains[i]
				if state == "verified" {
					d.state, d.strategy, d.updatedAt = "verified", "manual", now
				}
				next = append(next, &d)
				return
			}
			d := &orgDomain{id: "org_domain_" + rand.Text(), domain: domain, state: state, strategy: "manual", createdAt: now, updatedAt: now}
			if state == "pending" {
				d.strategy, d.token = "dns", rand.Text()
			}
			next = append(next, d)
		}
		for _, d := range b.DomainData {
			add(d.Domain, d.State)
		}
		for _, d := range b.Domains {
			add(d, "pending")
		}
		for _, d := range next {
			if owner, _ := s.domainOwnerLocked(d.domain); owner != nil && owner != o {
				return false, "The domain " + d.domain + " belongs to another organization."
			}
		}
	}
	if b.ExternalID != nil && *b.ExternalID != "" {
		for _, id := range s.orgOrder {
			if other := s.orgs[id]; other != o && other.externalID == *b.ExternalID {
				return false, "An organization with this external_id already exists."
			}
		}
	}
	if b.Name != nil {
		o.Name = strings.TrimSpace(*b.Name)
	}
	if b.DomainData != nil || b.Domains != nil {
		o.domains = next
		o.syncDomains()
	}
	if b.Metadata != nil {
		o.metadata = maps.Clone(b.Metadata)
	}
	if b.ExternalID != nil {
		o.externalID = *b.ExternalID
	}
	return true, ""
}

func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request) {
	var b organizationBody
	if !readJSON(w, r, &b) {
		return
	}
	if errs := checkOrganizationBody(&b, true); len(errs) > 0 {
		validationFailed(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked().Round(0)
	o := &organization{Organization: Organization{ID: "org_" + rand.Text()}, createdAt: now, updatedAt: now}
	if ok, conflict := s.applyOrganizationBodyLocked(o, &b); !ok {
		writeJSON(w, http.StatusConflict, map[string]string{"message": conflict})
		return
	}
	s.orgs[o.ID] = o
	s.orgOrder = append(s.orgOrder, o.ID)
	out := organizationJSONOf(o)
	s.emitLocked("organization.created", out)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	o := s.orgs[id]
	var out organizationJSON
	if o != nil {
		out = organizationJSONOf(o)
	}
	s.mu.Unlock()
	if o == nil {
		notFound(w, "Organization", id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getOrganizationByExternalID(w http.ResponseWriter, r *http.Request) {
	ext := r.PathValue("external_id")
	s.mu.Lock()
	var out *organizationJSON
	for _, id := range s.orgOrder {
		if o := s.orgs[id]; o.externalID != "" && o.externalID == ext {
			j := organizationJSONOf(o)
			out = &j
			break
		}
	}
	s.mu.Unlock()
	if out == nil {
		notFound(w, "Organization", ext)
		return
	}
	writeJSON(w, http.StatusOK, *out)
}

func (s *Server) updateOrganization(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var b organizationBody
	if !readJSON(w, r, &b) {
		return
	}
	if errs := checkOrganizationBody(&b, false); len(errs) > 0 {
		validationFailed(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[id]
	if o == nil {
		notFound(w, "Organization", id)
		return
	}
	if ok, conflict := s.applyOrganizationBodyLocked(o, &b); !ok {
		writeJSON(w, http.StatusConflict, map[string]string{"message": conflict})
		return
	}
	o.updatedAt = s.nowLocked().Round(0)
	out := organizationJSONOf(o)
	s.emitLocked("organization.updated", out)
	writeJSON(w, http.StatusOK, out)
}

// deleteOrganization deletes an organization with its domains, and, as
// the emulator's own choice, its connections and directories, each with
// its event, so that nothing is left naming an organization that is gone.
func (s *Server) deleteOrganization(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[id]
	if o == nil {
		notFound(w, "Organization", id)
		return
	}
	for _, cid := range slices.Clone(s.connOrder) {
		if c := s.conns[cid]; c != nil && c.OrganizationID == id {
			s.deleteConnectionLocked(cid)
		}
	}
	for _, did := range slices.Clone(s.dirOrder) {
		if d := s.dirs[did]; d != nil && d.OrganizationID == id {
			s.deleteDirectoryLocked(did)
		}
	}
	out := organizationJSONOf(o)
	delete(s.orgs, id)
	s.orgOrder = slices.DeleteFunc(s.orgOrder, func(x string) bool { return x == id })
	s.emitLocked("organization.deleted", out)
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) createOrganizationDomain(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Domain         string `json:"domain"`
		OrganizationID string `json:"organization_id"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	var errs []fieldErrorJSON
	if !validDomain(b.Domain) {
		errs = append(errs, fieldErrorJSON{Field: "domain", Code: "domain must be a domain such as acme.com"})
	}
	if b.OrganizationID == "" {
		errs = append(errs, fieldErrorJSON{Field: "organization_id", Code: "organization_id is required"})
	}
	if len(errs) > 0 {
		validationFailed(w, errs)
		return
	}
	domain := strings.ToLower(b.Domain)
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[b.OrganizationID]
	if o == nil {
		notFound(w, "Organization", b.OrganizationID)
		return
	}
	if owner, _ := s.domainOwnerLocked(domain); owner != nil {
		writeJSON(w, http.StatusConflict, map[string]string{"message": "The domain " + domain + " is already in use."})
		return
	}
	now := s.nowLocked().Round(0)
	d := &orgDomain{id: "org_domain_" + rand.Text(), domain: domain, state: "pending", strategy: "dns", token: rand.Text(), createdAt: now, updatedAt: now}
	o.domains = append(o.domains, d)
	o.syncDomains()
	out := orgDomainJSONOf(o.ID, d)
	s.emitLocked("organization_domain.created", out)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getOrganizationDomain(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, ok := s.orgDomainJSON(id)
	if !ok {
		notFound(w, "Organization domain", id)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// orgDomainJSON returns the organization domain with this id, as the API
// answers it.
func (s *Server) orgDomainJSON(id string) (orgDomainJSON, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, d := s.findDomainLocked(id)
	if d == nil {
		return orgDomainJSON{}, false
	}
	return orgDomainJSONOf(o.ID, d), true
}

// verifyOrganizationDomain serves POST /organization_domains/{id}/verify:
// the emulator has no DNS to look at, so the domain keeps its state (see
// [Server.SetDomainState] to decide it).
func (s *Server) verifyOrganizationDomain(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, ok := s.orgDomainJSON(id)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Organization domain not found: '" + id + "'."})
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) deleteOrganizationDomain(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	o, d := s.findDomainLocked(id)
	if d == nil {
		notFound(w, "Organization domain", id)
		return
	}
	o.domains = slices.DeleteFunc(o.domains, func(x *orgDomain) bool { return x == d })
	o.syncDomains()
	s.emitLocked("organization_domain.deleted", orgDomainJSONOf(o.ID, d))
	w.WriteHeader(http.StatusNoContent)
}

// SetDomainState decides an organization domain's verification, as
// WorkOS's DNS check would: "verified" sends organization_domain.verified,
// "failed" organization_domain.verification_failed (reason
// domain_verification_period_expired). It fails for an unknown domain
// (by name, such as "acme.com") or another state.
func (s *Server) SetDomainState(domain, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, d := s.domainOwnerLocked(strings.ToLower(domain))
	if d == nil {
		return errorf("no organization holds the domain %q", domain)
	}
	return s.setDomainStateLocked(o, d, state)
}

func (s *Server) setDomainStateLocked(o *organization, d *orgDomain, state string) error {
	switch state {
	case "verified":
		d.state, d.updatedAt = "verified", s.nowLocked().Round(0)
		s.emitLocked("organization_domain.verified", orgDomainJSONOf(o.ID, d))
	case "failed":
		d.state, d.updatedAt = "failed", s.nowLocked().Round(0)
		s.emitLocked("organization_domain.verification_failed", map[string]any{
			"reason": "domain_verification_period_expired", "organization_domain": orgDomainJSONOf(o.ID, d)})
	default:
		return errorf("a domain's state is set to verified or failed, not %q", state)
	}
	return nil
}

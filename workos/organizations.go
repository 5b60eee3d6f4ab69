package workos

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Organization is a customer of the app, whose users sign in through its
// connections.
type Organization struct {
	ID      string               `json:"id"`
	Name    string               `json:"name"`
	Domains []OrganizationDomain `json:"domains"`
	// Metadata holds up to 50 keys (each up to 40 characters) of values up
	// to 600 characters, for the app's own use.
	Metadata map[string]string `json:"metadata"`
	// ExternalID is the app's own id of the organization, if it set one.
	ExternalID string    `json:"external_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// OrganizationDomainState is the verification state of an organization's
// domain. Unknown states may appear.
type OrganizationDomainState string

// The organization domain states.
const (
	DomainPending        OrganizationDomainState = "pending"
	DomainVerified       OrganizationDomainState = "verified"
	DomainFailed         OrganizationDomainState = "failed"
	DomainUnverified     OrganizationDomainState = "unverified"
	DomainLegacyVerified OrganizationDomainState = "legacy_verified"
)

// OrganizationDomain is an email domain of an organization, verified or
// on its way to be.
type OrganizationDomain struct {
	ID             string                  `json:"id"`
	OrganizationID string                  `json:"organization_id"`
	Domain         string                  `json:"domain"`
	State          OrganizationDomainState `json:"state"`
	// VerificationStrategy is "dns" (a TXT record VerificationPrefix holds
	// with the value VerificationToken) or "manual".
	VerificationStrategy string    `json:"verification_strategy"`
	VerificationPrefix   string    `json:"verification_prefix"`
	VerificationToken    string    `json:"verification_token"`
	CreatedAt            time.Time `json:"created_at"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// OrganizationList is a page of organizations.
type OrganizationList struct {
	Data         []Organization `json:"data"`
	ListMetadata ListMetadata   `json:"list_metadata"`
}

// DomainData is a domain given to an organization when it is created or
// updated: State is pending (WorkOS verifies it) or verified (the app
// vouches for it).
type DomainData struct {
	Domain string                  `json:"domain"`
	State  OrganizationDomainState `json:"state"`
}

// OrganizationOptions are the fields of an organization to create or
// update. Name is required to create one; on an update, nil and empty
// fields are left as they are.
type OrganizationOptions struct {
	Name       string            `json:"name,omitempty"`
	DomainData []DomainData      `json:"domain_data,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	ExternalID string            `json:"external_id,omitempty"`
}

// ListOrganizationsOptions filter and page a listing of organizations:
// Domains keeps those with any of the domains. Zero values are not sent.
type ListOrganizationsOptions struct {
	Domains []string
	Search  string
	Page
}

// CreateOrganization creates an organization (POST /organizations). A
// domain another organization holds answers an [*APIError] with status 409.
func (c *Client) CreateOrganization(ctx context.Context, opts OrganizationOptions) (*Organization, error) {
	if strings.TrimSpace(opts.Name) == "" {
		return nil, invalidOptions("Name is required")
	}
	if err := checkDomainData(opts.DomainData); err != nil {
		return nil, err
	}
	var o Organization
	if err := c.do(ctx, &call{route: "POST /organizations", method: http.MethodPost, path: "/organizations", json: opts}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// GetOrganization returns the organization with the given id
// (GET /organizations/{id}).
func (c *Client) GetOrganization(ctx context.Context, id string) (*Organization, error) {
	var o Organization
	if err := c.get(ctx, "organizations", "organization", id, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// GetOrganizationByExternalID returns the organization the app gave this
// external id (GET /organizations/external_id/{external_id}).
func (c *Client) GetOrganizationByExternalID(ctx context.Context, externalID string) (*Organization, error) {
	if externalID == "" {
		return nil, invalidOptions("an external id is required")
	}
	path, err := objectPath("organizations/external_id", "organization's external", externalID)
	if err != nil {
		return nil, err
	}
	var o Organization
	if err := c.do(ctx, &call{route: "GET /organizations/external_id/{external_id}", method: http.MethodGet, path: path}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// ListOrganizations returns one page of organizations
// (GET /organizations). Use [Client.AllOrganizations] to walk every page.
func (c *Client) ListOrganizations(ctx context.Context, opts ListOrganizationsOptions) (*OrganizationList, error) {
	q := url.Values{}
	if len(opts.Domains) > 0 {
		// The spec's form style without explode: one comma-joined value.
		q.Set("domains", strings.Join(opts.Domains, ","))
	}
	setNonEmpty(q, "search", opts.Search)
	var l OrganizationList
	if err := c.list(ctx, "organizations", q, opts.Page, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// AllOrganizations walks every organization that opts selects, page by
// page: see [All].
func (c *Client) AllOrganizations(ctx context.Context, opts ListOrganizationsOptions) iter.Seq2[Organization, error] {
	return All(opts.Page, func(p Page) ([]Organization, ListMetadata, error) {
		opts.Page = p
		l, err := c.ListOrganizations(ctx, opts)
		if err != nil {
			return nil, ListMetadata{}, err
		}
		return l.Data, l.ListMetadata, nil
	})
}

// UpdateOrganization changes an organization (PUT /organizations/{id}).
func (c *Client) UpdateOrganization(ctx context.Context, id string, opts OrganizationOptions) (*Organization, error) {
	path, err := objectPath("organizations", "organization", id)
	if err != nil {
		return nil, err
	}
	if err := checkDomainData(opts.DomainData); err != nil {
		return nil, err
	}
	var o Organization
	if err := c.do(ctx, &call{route: "PUT /organizations/{id}", method: http.MethodPut, path: path, json: opts, idempotent: true}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// DeleteOrganization deletes an organization (DELETE /organizations/{id}).
func (c *Client) DeleteOrganization(ctx context.Context, id string) error {
	path, err := objectPath("organizations", "organization", id)
	if err != nil {
		return err
	}
	return c.do(ctx, &call{route: "DELETE /organizations/{id}", method: http.MethodDelete, path: path}, nil)
}

// CreateOrganizationDomain adds a domain to an organization, pending
// verification (POST /organization_domains).
func (c *Client) CreateOrganizationDomain(ctx context.Context, organizationID, domain string) (*OrganizationDomain, error) {
	if organizationID == "" || domain == "" {
		return nil, invalidOptions("an organization id and a domain are required")
	}
	var d OrganizationDomain
	body := map[string]string{"organization_id": organizationID, "domain": domain}
	if err := c.do(ctx, &call{route: "POST /organization_domains", method: http.MethodPost, path: "/organization_domains", json: body}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// GetOrganizationDomain returns an organization domain
// (GET /organization_domains/{id}); poll it for its verification state.
func (c *Client) GetOrganizationDomain(ctx context.Context, id string) (*OrganizationDomain, error) {
	var d OrganizationDomain
	if err := c.get(ctx, "organization_domains", "organization domain", id, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// VerifyOrganizationDomain asks WorkOS to check a domain's DNS record now
// (POST /organization_domains/{id}/verify).
func (c *Client) VerifyOrganizationDomain(ctx context.Context, id string) (*OrganizationDomain, error) {
	path, err := objectPath("organization_domains", "organization domain", id)
	if err != nil {
		return nil, err
	}
	var d OrganizationDomain
	if err := c.do(ctx, &call{route: "POST /organization_domains/{id}/verify", method: http.MethodPost, path: path + "/verify"}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeleteOrganizationDomain removes a domain from its organization
// (DELETE /organization_domains/{id}).
func (c *Client) DeleteOrganizationDomain(ctx context.Context, id string) error {
	path, err := objectPath("organization_domains", "organization domain", id)
	if err != nil {
		return err
	}
	return c.do(ctx, &call{route: "DELETE /organization_domains/{id}", method: http.MethodDelete, path: path}, nil)
}

// checkDomainData checks the domains given to an organization.
func checkDomainData(ds []DomainData) error {
	for _, d := range ds {
		if d.Domain == "" {
			return invalidOptions("every DomainData needs a Domain")
		}
		if d.State != DomainPending && d.State != DomainVerified {
			return invalidOptions("a DomainData's State is pending or verified")
		}
	}
	return nil
}

// PortalIntent is what an Admin Portal session sets up.
type PortalIntent string

// The Admin Portal intents.
const (
	PortalSSO                PortalIntent = "sso"
	PortalDirectorySync      PortalIntent = "dsync"
	PortalDomainVerification PortalIntent = "domain_verification"
	PortalAuditLogs          PortalIntent = "audit_logs"
	PortalLogStreams         PortalIntent = "log_streams"
	PortalCertificateRenewal PortalIntent = "certificate_renewal"
	PortalBringYourOwnKey    PortalIntent = "bring_your_own_key"
)

// Known reports whether i is one of the intents above. GeneratePortalLink
// sends any intent and leaves it to WorkOS, which may know newer ones.
func (i PortalIntent) Known() bool {
	switch i {
	case PortalSSO, PortalDirectorySync, PortalDomainVerification, PortalAuditLogs, PortalLogStreams,
		PortalCertificateRenewal, PortalBringYourOwnKey:
		return true
	}
	return false
}

// PortalLinkOptions ask for an Admin Portal link: Organization is
// required; Intent defaults to WorkOS's (sso).
type PortalLinkOptions struct {
	Organization string       `json:"organization"`
	Intent       PortalIntent `json:"intent,omitempty"`
	// ReturnURL is where the portal's logo leads, and SuccessURL where
	// the admin goes once done; both default to the dashboard's settings.
	ReturnURL  string `json:"return_url,omitempty"`
	SuccessURL string `json:"success_url,omitempty"`
	// ITContactEmails are up to 20 addresses given access to the portal.
	ITContactEmails []string `json:"it_contact_emails,omitempty"`
}

// GeneratePortalLink returns a link to an Admin Portal session for an
// organization's IT admin (POST /portal/generate_link). The link expires
// five minutes after it is issued and is a bearer capability: generate it
// when the admin clicks, redirect at once, and never email, log or cache
// it. An unknown organization answers an [*APIError] matching [ErrNotFound].
func (c *Client) GeneratePortalLink(ctx context.Context, opts PortalLinkOptions) (string, error) {
	if opts.Organization == "" {
		return "", invalidOptions("Organization is required")
	}
	if len(opts.ITContactEmails) > 20 {
		return "", invalidOptions("at most 20 ITContactEmails")
	}
	var out struct {
		Link string `json:"link"`
	}
	if err := c.do(ctx, &call{route: "POST /portal/generate_link", method: http.MethodPost, path: "/portal/generate_link", json: opts}, &out); err != nil {
		return "", err
	}
	if out.Link == "" {
		return "", &APIError{Method: http.MethodPost, Path: "/portal/generate_link", Message: "the answer holds no link"}
	}
	return out.Link, nil
}

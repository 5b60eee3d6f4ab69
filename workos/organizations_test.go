package workos

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ssogate/ssogate/workostest"
)

func TestEmulatorOrganizations(t *testing.T) {
	ctx := context.Background()
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)

	var all []string
	for o, err := range c.AllOrganizations(ctx, ListOrganizationsOptions{Page: Page{Limit: 2, Order: OrderAsc}}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, o.ID)
	}
	if want := []string{workostest.AcmeOrganizationID, workostest.GlobexOrganizationID, workostest.InitechOrganizationID}; !slices.Equal(all, want) {
		t.Errorf("AllOrganizations: %v, want %v", all, want)
	}
	byDomain, err := c.ListOrganizations(ctx, ListOrganizationsOptions{Domains: []string{"globex.com", "acme.com"}})
	if err != nil || len(byDomain.Data) != 2 {
		t.Errorf("ListOrganizations by domains: %+v, %v", byDomain, err)
	}

	o, err := c.CreateOrganization(ctx, OrganizationOptions{Name: "Hooli", ExternalID: "crm-7",
		DomainData: []DomainData{{Domain: "hooli.com", State: DomainPending}}, Metadata: map[string]string{"tier": "gold"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.ID, "org_") || o.Name != "Hooli" || o.ExternalID != "crm-7" || o.Metadata["tier"] != "gold" ||
		len(o.Domains) != 1 || o.Domains[0].State != DomainPending || o.Domains[0].VerificationToken == "" || o.CreatedAt.IsZero() {
		t.Errorf("CreateOrganization: %+v", o)
	}
	if got, err := c.GetOrganizationByExternalID(ctx, "crm-7"); err != nil || got.ID != o.ID {
		t.Errorf("GetOrganizationByExternalID: %+v, %v", got, err)
	}
	up, err := c.UpdateOrganization(ctx, o.ID, OrganizationOptions{Name: "Hooli XYZ"})
	if err != nil || up.Name != "Hooli XYZ" || len(up.Domains) != 1 {
		t.Errorf("UpdateOrganization (the name only): %+v, %v", up, err)
	}
	d, err := c.CreateOrganizationDomain(ctx, o.ID, "hooli.xyz")
	if err != nil || d.State != DomainPending || d.OrganizationID != o.ID {
		t.Fatalf("CreateOrganizationDomain: %+v, %v", d, err)
	}
	if _, err := c.VerifyOrganizationDomain(ctx, d.ID); err != nil {
		t.Errorf("VerifyOrganizationDomain: %v", err)
	}
	if err := srv.SetDomainState("hooli.xyz", "verified"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetOrganizationDomain(ctx, d.ID); err != nil || got.State != DomainVerified {
		t.Errorf("GetOrganizationDomain after verification: %+v, %v", got, err)
	}
	if err := c.DeleteOrganizationDomain(ctx, d.ID); err != nil {
		t.Errorf("DeleteOrganizationDomain: %v", err)
	}
	if err := c.DeleteOrganization(ctx, o.ID); err != nil {
		t.Errorf("DeleteOrganization: %v", err)
	}
	if _, err := c.GetOrganization(ctx, o.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetOrganization after delete: %v, want ErrNotFound", err)
	}

	// Refused before any call, or by WorkOS with a typed error.
	for _, err := range []error{
		func() error { _, err := c.CreateOrganization(ctx, OrganizationOptions{}); return err }(),
		func() error {
			_, err := c.CreateOrganization(ctx, OrganizationOptions{Name: "x", DomainData: []DomainData{{Domain: "x.com", State: "maybe"}}})
			return err
		}(),
		func() error { _, err := c.GetOrganization(ctx, ""); return err }(),
		func() error { _, err := c.GeneratePortalLink(ctx, PortalLinkOptions{}); return err }(),
	} {
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("got %v, want ErrInvalidOptions", err)
		}
	}
	_, err = c.CreateOrganization(ctx, OrganizationOptions{Name: "Evil", DomainData: []DomainData{{Domain: "acme.com", State: DomainVerified}}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 409 {
		t.Errorf("an organization with another's domain: %v, want a 409 APIError", err)
	}
}

func TestEmulatorPortalLink(t *testing.T) {
	ctx := context.Background()
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)
	link, err := c.GeneratePortalLink(ctx, PortalLinkOptions{Organization: workostest.AcmeOrganizationID, Intent: PortalSSO,
		SuccessURL: "https://app.example.com/admin"})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(link); err != nil || !strings.HasPrefix(link, srv.URL+"/portal?") || u.Query().Get("token") == "" {
		t.Errorf("link %q", link)
	}
	if _, err := c.GeneratePortalLink(ctx, PortalLinkOptions{Organization: "org_nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown organization: %v, want ErrNotFound", err)
	}
	if _, err := c.GeneratePortalLink(ctx, PortalLinkOptions{Organization: workostest.AcmeOrganizationID, Intent: "everything"}); !errors.Is(err, ErrValidation) {
		t.Errorf("an unknown intent: %v, want ErrValidation", err)
	}
	// The link is a secret: no error repeats it.
	if _, err := c.GeneratePortalLink(ctx, PortalLinkOptions{Organization: "org_nope"}); err != nil && strings.Contains(err.Error(), "token=") {
		t.Errorf("an error holds a link: %v", err)
	}
}

func TestPortalIntentKnown(t *testing.T) {
	for _, i := range []PortalIntent{PortalSSO, PortalDirectorySync, PortalDomainVerification, PortalAuditLogs, PortalLogStreams, PortalCertificateRenewal, PortalBringYourOwnKey} {
		if !i.Known() {
			t.Errorf("%s is not known", i)
		}
	}
	for _, i := range []PortalIntent{"", "SSO", "everything"} {
		if i.Known() {
			t.Errorf("%q is known", i)
		}
	}
}

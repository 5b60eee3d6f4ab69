package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ssogate/ssogate/workos"
)

const organizationsSynopsis = `organizations list [-domain D] [-json]
       ssogate organizations get [-json] ID
       ssogate organizations create -name NAME [-domain D]... [-verified] [-external-id ID] [-json]

It reads WORKOS_API_KEY and WORKOS_BASE_URL (default https://api.workos.com).`

const organizationsExample = `  WORKOS_API_KEY=sk_... ssogate organizations create -name Hooli -domain hooli.com
  ssogate organizations list -domain hooli.com
  ssogate organizations get -json org_01H...`

// domainFlags collects repeated -domain flags.
type domainFlags []string

func (d *domainFlags) String() string { return strings.Join(*d, ",") }
func (d *domainFlags) Set(v string) error {
	*d = append(*d, strings.ToLower(strings.TrimSpace(v)))
	return nil
}

// runOrganizations lists, shows or creates organizations.
func runOrganizations(ctx context.Context, args []string, e env) error {
	sub, done, err := subcommand(e, "organizations", args, organizationsSynopsis, organizationsExample, "list", "get", "create")
	if done || err != nil {
		return err
	}
	fs := newFlags(e, "organizations "+sub, organizationsSynopsis, organizationsExample)
	asJSON := fs.Bool("json", false, "print JSON, for scripts")
	var domains domainFlags
	fs.Var(&domains, "domain", "list: only organizations with this domain; create: a domain of the new organization (repeat for several)")
	name := fs.String("name", "", "create: the organization's name")
	verified := fs.Bool("verified", false, "create: the domains are verified already (you vouch for them), not pending WorkOS's check")
	externalID := fs.String("external-id", "", "create: your own id of the organization")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	client, err := newClient(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	switch sub {
	case "list":
		if fs.NArg() != 0 {
			return usagef("organizations list takes no arguments, got %q", fs.Arg(0))
		}
		var orgs []workos.Organization
		for o, err := range client.AllOrganizations(ctx, workos.ListOrganizationsOptions{Domains: domains, Page: workos.Page{Limit: 100}}) {
			if err != nil {
				return workosError(err)
			}
			orgs = append(orgs, o)
		}
		if *asJSON {
			return printJSON(e, orgs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tDOMAINS")
		for _, o := range orgs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", terminalText(o.ID), terminalText(o.Name), terminalText(dash(orgDomains(o))))
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "%d organization(s)\n", len(orgs))
		return nil
	case "get":
		if fs.NArg() != 1 || !strings.HasPrefix(fs.Arg(0), "org_") {
			return usagef("organizations get takes one organization id (org_...)")
		}
		o, err := client.GetOrganization(ctx, fs.Arg(0))
		if err != nil {
			return workosError(err)
		}
		return printOrganization(e, o, *asJSON)
	default: // create
		if fs.NArg() != 0 {
			return usagef("organizations create takes flags only, got %q", fs.Arg(0))
		}
		if strings.TrimSpace(*name) == "" {
			return usagef("organizations create needs -name")
		}
		state := workos.DomainPending
		if *verified {
			state = workos.DomainVerified
		}
		opts := workos.OrganizationOptions{Name: strings.TrimSpace(*name), ExternalID: *externalID}
		for _, d := range domains {
			if d == "" || strings.ContainsAny(d, " @/:") || !strings.Contains(d, ".") {
				return usagef("%q is not a domain such as acme.com", d)
			}
			opts.DomainData = append(opts.DomainData, workos.DomainData{Domain: d, State: state})
		}
		o, err := client.CreateOrganization(ctx, opts)
		if err != nil {
			return workosError(err)
		}
		return printOrganization(e, o, *asJSON)
	}
}

func printOrganization(e env, o *workos.Organization, asJSON bool) error {
	if asJSON {
		return printJSON(e, o)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, row := range [][2]string{
		{"ID", o.ID}, {"Name", o.Name}, {"External ID", dash(o.ExternalID)},
		{"Created", o.CreatedAt.Format(time.RFC3339)},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], terminalText(row[1]))
	}
	for _, d := range o.Domains {
		fmt.Fprintf(tw, "Domain\t%s (%s)\n", terminalText(d.Domain), terminalText(string(d.State)))
	}
	return tw.Flush()
}

func orgDomains(o workos.Organization) string {
	var ds []string
	for _, d := range o.Domains {
		ds = append(ds, d.Domain)
	}
	return strings.Join(ds, ",")
}

const portalLinkSynopsis = `portal-link -organization org_... [-intent sso|dsync|domain_verification|...] [-success-url URL]

It prints a link to WorkOS's Admin Portal for the organization's IT admin. The
link expires five minutes after it is made and lets whoever holds it set up
the organization: open it at once, and never email or paste it anywhere.
It reads WORKOS_API_KEY and WORKOS_BASE_URL (default https://api.workos.com).`

const portalLinkExample = `  WORKOS_API_KEY=sk_... ssogate portal-link -organization org_01H... -intent sso`

// runPortalLink prints an Admin Portal link.
func runPortalLink(ctx context.Context, args []string, e env) error {
	fs := newFlags(e, "portal-link", portalLinkSynopsis, portalLinkExample)
	org := fs.String("organization", "", "the organization to set up (org_...)")
	intent := fs.String("intent", "sso", "what to set up: sso, dsync, domain_verification, audit_logs, log_streams, certificate_renewal or bring_your_own_key")
	success := fs.String("success-url", "", "where the portal sends the admin once done (default: the dashboard's setting)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() != 0:
		return usagef("portal-link takes flags only, got %q", fs.Arg(0))
	case !strings.HasPrefix(*org, "org_"):
		return usagef("portal-link needs -organization org_...")
	}
	if !workos.PortalIntent(*intent).Known() {
		return usagef("-intent %q is not one of sso, dsync, domain_verification, audit_logs, log_streams, certificate_renewal, bring_your_own_key", *intent)
	}
	client, err := newClient(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	link, err := client.GeneratePortalLink(ctx, workos.PortalLinkOptions{Organization: *org, Intent: workos.PortalIntent(*intent), SuccessURL: *success})
	if err != nil {
		return workosError(err)
	}
	fmt.Fprintln(e.stdout, terminalText(link))
	fmt.Fprintln(e.stderr, "Open it within five minutes; it works once and must not be shared.")
	return nil
}

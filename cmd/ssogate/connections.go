package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workos"
)

const connectionsSynopsis = `connections list [-organization org_...] [-domain D] [-type T] [-json]
       ssogate connections get [-json] ID
       ssogate connections delete [-yes] ID

It reads WORKOS_API_KEY and WORKOS_BASE_URL (default https://api.workos.com).`

const connectionsExample = `  WORKOS_API_KEY=sk_... ssogate connections list -organization org_01H...
  ssogate connections get -json conn_01H...
  ssogate connections delete conn_01H...`

// runConnections lists, shows or deletes connections.
func runConnections(ctx context.Context, args []string, e env) error {
	sub, done, err := subcommand(e, "connections", args, connectionsSynopsis, connectionsExample, "list", "get", "delete")
	if done || err != nil {
		return err
	}
	fs := newFlags(e, "connections "+sub, connectionsSynopsis, connectionsExample)
	asJSON := fs.Bool("json", false, "print JSON, for scripts")
	org := fs.String("organization", "", "list: only this organization's connections")
	domain := fs.String("domain", "", "list: only connections of this email domain")
	typ := fs.String("type", "", "list: only this connection type, such as OktaSAML")
	yes := fs.Bool("yes", false, "delete: do not ask for confirmation")
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
			return usagef("connections list takes no arguments, got %q", fs.Arg(0))
		}
		opts := workos.ListConnectionsOptions{OrganizationID: *org, Domain: *domain, ConnectionType: workos.ConnectionType(*typ), Limit: 100}
		var conns []ssogate.Connection
		for c, err := range workos.AllConnections(ctx, client.ListConnections, opts) {
			if err != nil {
				return workosError(err)
			}
			conns = append(conns, c)
		}
		if *asJSON {
			return printJSON(e, conns)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTYPE\tSTATE\tORGANIZATION\tDOMAINS")
		for _, c := range conns {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", terminalText(c.ID), terminalText(c.Name), terminalText(string(c.ConnectionType)),
				terminalText(string(c.State)), terminalText(dash(c.OrganizationID)), terminalText(dash(domains(c))))
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "%d connection(s)\n", len(conns))
		return nil
	case "get":
		id, err := oneID(fs.Args(), "get")
		if err != nil {
			return err
		}
		c, err := client.GetConnection(ctx, id)
		if err != nil {
			return workosError(err)
		}
		if *asJSON {
			return printJSON(e, c)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, row := range [][2]string{
			{"ID", c.ID}, {"Name", c.Name}, {"Type", string(c.ConnectionType)}, {"State", string(c.State)},
			{"Organization", dash(c.OrganizationID)}, {"Domains", dash(domains(*c))},
			{"Created", c.CreatedAt.Format(time.RFC3339)}, {"Updated", c.UpdatedAt.Format(time.RFC3339)},
		} {
			fmt.Fprintf(tw, "%s\t%s\n", row[0], terminalText(row[1]))
		}
		return tw.Flush()
	default: // delete
		id, err := oneID(fs.Args(), "delete")
		if err != nil {
			return err
		}
		if !*yes {
			fmt.Fprintf(e.stderr, "Delete connection %s? Its users can no longer sign in. Type the id to confirm: ", id)
			line, _ := bufio.NewReader(e.stdin).ReadString('\n')
			if strings.TrimSpace(line) != id {
				return usagef("not deleted: the confirmation did not match (use -yes in scripts)")
			}
		}
		if err := client.DeleteConnection(ctx, id); err != nil {
			return workosError(err)
		}
		fmt.Fprintf(e.stdout, "Deleted %s.\n", id)
		return nil
	}
}

// newClient makes a WorkOS client from WORKOS_API_KEY and WORKOS_BASE_URL.
func newClient(e env) (*workos.Client, error) {
	key := e.getenv("WORKOS_API_KEY")
	if key == "" {
		return nil, usagef("WORKOS_API_KEY is not set")
	}
	c, err := workos.NewClient(workos.ClientConfig{
		APIKey:  key,
		BaseURL: e.getenv("WORKOS_BASE_URL"),
		// The connections API takes no client ID; the client wants one
		// for authorization URLs, which these commands never make.
		ClientID: "client_unused",
		// Someone is waiting at a terminal: three quick retries, not the
		// library's patient five.
		Retry: workos.RetryPolicy{MaxRetries: 3, MinBackoff: 200 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxRetryAfter: 10 * time.Second},
	})
	if err != nil {
		var ce *ssogate.ConfigError
		if errors.As(err, &ce) {
			return nil, usagef("%s", strings.NewReplacer("ClientConfig.APIKey", "WORKOS_API_KEY", "ClientConfig.BaseURL", "WORKOS_BASE_URL").Replace(ce.Field+": "+ce.Problem))
		}
		return nil, err
	}
	return c, nil
}

// workosError describes a failed WorkOS call with its status, code and
// request id, which WorkOS support asks for.
func workosError(err error) error {
	var ae *workos.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := fmt.Sprintf("WorkOS answered %d", ae.StatusCode)
	if ae.Code != "" {
		msg += " " + ae.Code
	}
	if ae.Message != "" {
		msg += ": " + ae.Message
	}
	if ae.RequestID != "" {
		msg += " (request id " + ae.RequestID + ")"
	}
	return errors.New(msg)
}

func oneID(args []string, sub string) (string, error) {
	if len(args) != 1 {
		return "", usagef("connections %s takes one connection id (conn_...)", sub)
	}
	if !strings.HasPrefix(args[0], "conn_") {
		return "", usagef("%q is not a connection id (conn_...)", args[0])
	}
	return args[0], nil
}

// printJSON prints v as indented JSON, with what a terminal would act on
// escaped (see terminalJSON).
func printJSON(e env, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(append(terminalJSON(b), '\n'))
	return err
}

func domains(c ssogate.Connection) string {
	var ds []string
	for _, d := range c.Domains {
		ds = append(ds, d.Domain)
	}
	return strings.Join(ds, ",")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

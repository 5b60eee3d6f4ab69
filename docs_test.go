package ssogate_test

import (
	"context"
	"expvar"
	"io/fs"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/ssogate/ssogate"
)

// The snippets of docs/, as they are there: TestDocSnippetsCompile checks
// that each Go snippet of the README and docs/ stands in a Go file of the
// repository, which the build then compiles.
var _ = []any{staffRoutes, webhookRoute, offboard, auditConfig, refusalsByReason}

// staff is your own company's organization in WorkOS.
const staff = "org_01HSTAFF"

func staffRoutes(gate *ssogate.Middleware, h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	gate.Mount(mux)
	mux.Handle("/admin", gate.RequireRole(staff, "admin")(h))                      // your admins only
	mux.Handle("/reports", gate.RequireGroup(staff, "finance", "executives")(h))   // your finance people
	mux.Handle("/acme", gate.RequireOrganization("org_acme")(h))                   // one customer's users
	mux.Handle("/settings", gate.RequireRole(ssogate.AnyOrganization, "admin")(h)) // each tenant's admins, for their own tenant
	mux.Handle("/beta", gate.RequireProfile("beta testers", func(p *ssogate.Profile) bool {
		return p.CustomAttributes["beta"] == true // needs KeepCustomAttributes
	})(h))
	return mux
}

func auditConfig(cfg ssogate.Config) ssogate.Config {
	cfg.AuditLog = slog.New(slog.NewJSONHandler(os.Stdout, nil)) // default: Config.Logger
	cfg.ClientIP = func(r *http.Request) string {
		return r.Header.Get("X-Real-IP") // set by your proxy, which overwrites the client's
	}
	return cfg
}

func refusalsByReason(cfg ssogate.Config, refusals *expvar.Map) ssogate.Config {
	cfg.Observer = &ssogate.Observer{
		SessionRefused: func(ctx context.Context, info ssogate.RefusalInfo) {
			refusals.Add(string(info.Reason), 1) // no_session, expired, idle, revoked, step_up, forbidden...
		},
	}
	return cfg
}

func webhookRoute(gate *ssogate.Middleware, mux *http.ServeMux) {
	hook, err := ssogate.NewWebhookHandler(ssogate.WebhookConfig{
		Secret: os.Getenv("WORKOS_WEBHOOK_SECRET"),
		Cache:  gate.Connections(),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("POST /webhooks/workos", hook)
}

func offboard(ctx context.Context, gate *ssogate.Middleware, profileID string, session *ssogate.Session) error {
	// Each kind ends sessions on every replica, at once; one call may hold several.
	return gate.Revoke(ctx,
		ssogate.RevokeUser(profileID),             // offboarding: every session of this user (prof_...)
		ssogate.RevokeOrganization("org_01HACME"), // a customer leaves
		ssogate.RevokeConnection("conn_01HOKTA"),  // an identity provider is compromised
		ssogate.RevokeSession(session.ID),         // one device
	)
}

// TestDocSnippetsCompile checks that every Go snippet of README.md and
// docs/ stands, line for line (indentation aside), in a Go file of the
// repository: the build of its module then compiles it as shown, and a
// snippet that drifts from the code fails here.
func TestDocSnippetsCompile(t *testing.T) {
	docs, _ := filepath.Glob("docs/*.md")
	docs = append(docs, "README.md")
	var sources []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources = append(sources, normalizeSnippet(string(b)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snippet := regexp.MustCompile("(?s)```go\n(.*?)```")
	n := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range snippet.FindAllStringSubmatch(string(b), -1) {
			n++
			want := normalizeSnippet(m[1])
			if !slices.ContainsFunc(sources, func(src string) bool { return strings.Contains(src, want) }) {
				t.Errorf("%s: this snippet stands in no Go file of the repository, so nothing compiles it:\n%s", doc, m[1])
			}
		}
	}
	if n < 8 {
		t.Errorf("found %d Go snippets in README.md and docs/, want the 8 or more there are", n)
	}
}

// normalizeSnippet trims every line and drops blank ones, with a newline
// before and after each, so that whole lines compare.
func normalizeSnippet(s string) string {
	var b strings.Builder
	b.WriteByte('\n')
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestDocLinks checks that every relative link of README.md and docs/
// names a file or folder of the repository.
func TestDocLinks(t *testing.T) {
	docs, _ := filepath.Glob("docs/*.md")
	docs = append(docs, "README.md", "CHANGELOG.md")
	link := regexp.MustCompile(`\]\(([^)#]+)(#[^)]*)?\)`)
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(doc), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", doc, target)
			}
		}
	}
}

package ssogate_test

import (
	"context"
	"expvar"
	"go/parser"
	"go/token"
	"io/fs"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workostest"
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

// The Go examples of the doc comments, as they are there:
// TestDocSnippetsCompile checks that each stands in a Go file too.
var _ = []any{docCommentRoutes, emulatorSignIn}

// chiRouter is what the doc examples use of a chi router (this module
// does not import chi).
type chiRouter interface {
	Use(middlewares ...func(http.Handler) http.Handler)
	With(middlewares ...func(http.Handler) http.Handler) chiRouter
	Post(pattern string, h http.HandlerFunc)
}

func docCommentRoutes(r chiRouter, h http.HandlerFunc, appHandler http.Handler) {
	const staffOrg = "org_01HSTAFF"
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        os.Getenv("WORKOS_API_KEY"),
		ClientID:      os.Getenv("WORKOS_CLIENT_ID"),
		RedirectURI:   "https://app.example.com/callback",
		CookieSecrets: [][]byte{[]byte(os.Getenv("WORKOS_COOKIE_PASSWORD"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gate.Mount(mux) // /login, /callback, /logout
	mux.Handle("/app/", gate.RequireSSO(appHandler))

	r.Use(gate.RequireSSO, gate.RequireRole(staffOrg, "admin"))
	mux.Handle("GET /admin/sso", gate.RequireRole(staffOrg, "admin")(gate.HealthHandler()))
	r.With(gate.RequireRecentLogin(5*time.Minute)).Post("/billing", h)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := gate.Ready(); err != nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	})
}

func emulatorSignIn(t *testing.T, idp *workostest.Server, client *http.Client, app *httptest.Server) {
	if err := idp.SignIn(client, app.URL+"/login?organization="+workostest.AcmeOrganizationID, workostest.AliceEmail); err != nil {
		t.Fatal(err)
	}
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
	// Each doc's count, so that a snippet that goes missing is noticed.
	if n != docSnippets {
		t.Errorf("found %d Go snippets in README.md and docs/, want %d: update docSnippets if one was meant to go", n, docSnippets)
	}

	// The Go examples of doc comments (what go doc shows as code), in every
	// package of the repository.
	examples := 0
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, block := range docCommentExamples(string(b)) {
			examples++
			if strings.Contains(block, "...") {
				t.Errorf("%s: a doc example elides code (...), so nothing can compile it; write it whole:\n%s", path, block)
				continue
			}
			want := normalizeSnippet(block)
			if !slices.ContainsFunc(sources, func(src string) bool { return strings.Contains(src, want) }) {
				t.Errorf("%s: this doc example stands in no Go file of the repository outside comments, so nothing compiles it:\n%s", path, block)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if examples != docCommentGoExamples {
		t.Errorf("found %d Go examples in doc comments, want %d: update docCommentGoExamples if one was meant to go", examples, docCommentGoExamples)
	}
}

// How many Go snippets README.md and docs/ hold, and how many Go examples
// the doc comments do: TestDocSnippetsCompile fails when one disappears.
const (
	docSnippets          = 17
	docCommentGoExamples = 14
)

// goStatements reports whether code parses as Go statements, with the
// elisions (...) doc examples sometimes have taken out.
func goStatements(code string) bool {
	for _, c := range []string{code, strings.ReplaceAll(strings.ReplaceAll(code, "..., ", ""), "...", "")} {
		if _, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc _() {\n"+c+"\n}\n", 0); err == nil {
			return true
		}
	}
	return false
}

// docCommentExamples returns the Go code blocks of src's comments: runs of
// comment lines indented by a tab, dedented, that parse as Go statements
// (not a shell command, a route table or a data layout) and call
// something.
func docCommentExamples(src string) []string {
	var out []string
	var block []string
	flush := func() {
		if len(block) > 0 {
			code := strings.Join(block, "\n")
			if strings.Contains(code, "(") && goStatements(code) {
				out = append(out, code)
			}
		}
		block = nil
	}
	for line := range strings.Lines(src) {
		line = strings.TrimRight(strings.TrimLeft(line, " \t"), "\n")
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			block = append(block, code)
			continue
		}
		flush()
	}
	flush()
	return out
}

// normalizeSnippet trims every line and drops blank ones, with a newline
// before and after each, so that whole lines compare.
func normalizeSnippet(s string) string {
	var b strings.Builder
	b.WriteByte('\n')
	for line := range strings.Lines(s) {
		// Whole-line comments do not compile: only code compares, so that
		// text found in a comment counts for nothing.
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "//") {
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

// TestFiguresRerun checks that every command of docs/development.md's
// table of figures is one that .ci/figures runs, so that the one command
// there re-runs them all.
func TestFiguresRerun(t *testing.T) {
	doc, err := os.ReadFile("docs/development.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(".ci/figures")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(doc), "| figures | where | command |")
	table, _, _ = strings.Cut(table, "\n\n")
	cmd := regexp.MustCompile("`((?:go|[A-Z_]+=\\S+ go) [^`]+)`")
	rows := 0
	for _, row := range strings.Split(table, "\n") {
		if !strings.HasPrefix(row, "| ") || strings.HasPrefix(row, "|---") {
			continue
		}
		rows++
		for _, m := range cmd.FindAllStringSubmatch(row, -1) {
			// The table escapes | for Markdown; the script sets the
			// environment with env.
			want := strings.ReplaceAll(m[1], `\|`, "|")
			fields := strings.Fields(want)
			if strings.Contains(fields[0], "=") {
				fields = append([]string{"env"}, fields...)
			}
			if !strings.Contains(string(script), strings.Join(fields, " ")) {
				t.Errorf("docs/development.md's figure command %q is not one that .ci/figures runs", m[1])
			}
		}
	}
	if rows < 15 {
		t.Errorf("found %d rows in docs/development.md's table of figures, want its 15", rows)
	}
}

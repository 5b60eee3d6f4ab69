package exampleapp

import (
	"html/template"
	"log/slog"
	"net/http"

	"github.com/ssogate/ssogate"
)

// Home returns the public home page, with sign-in links to the emulator's
// test organizations when emulated.
func Home(emulated bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		render(w, homePage, struct{ Emulated bool }{emulated})
	}
}

// AppPage shows the signed-in user's profile. It goes behind
// [ssogate.Middleware.RequireSSO], which puts the session in the context.
func AppPage(w http.ResponseWriter, r *http.Request) { renderSession(w, r, appPage) }

// AdminPage is the admin area, for users with the admin role. It goes
// behind [ssogate.Middleware.RequireRole], which answers everyone else 403.
func AdminPage(w http.ResponseWriter, r *http.Request) {
	p, ok := ssogate.ProfileFromContext(r.Context())
	if !ok {
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	render(w, adminPage, p)
}

// SecurityPage is the account's security settings, a sensitive page behind
// [ssogate.Middleware.RequireRecentLogin]: it needs a sign-in, within
// [RecentLogin], that asked the identity provider to authenticate anew.
func SecurityPage(w http.ResponseWriter, r *http.Request) { renderSession(w, r, securityPage) }

// renderSession renders t with the request's session.
func renderSession(w http.ResponseWriter, r *http.Request, t *template.Template) {
	s, ok := ssogate.SessionFromContext(r.Context())
	if !ok {
		// Only a route left ungated gets here.
		http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
		return
	}
	render(w, t, s)
}

// Ready returns the readiness probe: 200, or 503 while the gate cannot
// serve sessions (see [ssogate.Middleware.Ready]).
func Ready(gate *ssogate.Middleware) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := gate.Ready(); err != nil {
			// Why, for whoever probes it: the backplane's reason (during a
			// Redis outage, Redis's error, with its address).
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	}
}

// render writes one of the example's pages, which no other site may frame
// (a signed-in page under another site's clicks) or have sniffed.
func render(w http.ResponseWriter, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	if err := t.Execute(w, data); err != nil {
		slog.Error("render", "err", err)
	}
}

const style = `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d2433}
a.button,button{display:inline-block;margin:.25rem 0;padding:.5rem 1rem;border:0;border-radius:6px;background:#3b5bdb;color:#fff;text-decoration:none;font:inherit;cursor:pointer}
input{font:inherit;padding:.45rem;border:1px solid #c5cad3;border-radius:6px}
dt{font-weight:600}dd{margin:0 0 .5rem}</style>`

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssogate example</title>` + style + `</head><body>
<h1>ssogate example</h1>
<p>This page is public. <a href="/app">/app</a> and <a href="/api/me">/api/me</a> need a sign-in;
<a href="/admin">/admin</a> needs the admin role too (alice@acme.com has it, bob@acme.com does not).</p>
{{if .Emulated}}<p>Signing in through the built-in WorkOS emulator. Test users: alice@acme.com, bob@acme.com, hank@globex.com, carol@gmail.com.</p>
<p><a class="button" href="/login?organization=org_acme&amp;return_to=/app">Sign in with Acme (Okta SAML)</a></p>
<p><a class="button" href="/login?organization=org_globex&amp;return_to=/app">Sign in with Globex (OIDC)</a></p>
<p><a class="button" href="/login?provider=GoogleOAuth&amp;return_to=/app">Sign in with Google</a></p>{{end}}
<form method="get" action="/login"><input type="hidden" name="return_to" value="/app">
<label>Work email <input type="email" name="email" required placeholder="you@company.com"></label>
<button type="submit">Continue with SSO</button></form>
</body></html>`))

var appPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title>` + style + `</head><body>
<h1>Signed in as {{.Profile.Email}}</h1>
<dl>
<dt>Name</dt><dd>{{.Profile.FirstName}} {{.Profile.LastName}}</dd>
<dt>Email</dt><dd id="email">{{.Profile.Email}}</dd>
<dt>Profile</dt><dd>{{.Profile.ID}}</dd>
<dt>Organization</dt><dd>{{.Profile.OrganizationID}}</dd>
<dt>Connection</dt><dd>{{.Profile.ConnectionID}} ({{.Profile.ConnectionType}})</dd>
{{with .Profile.Role}}<dt>Role</dt><dd>{{.Slug}}</dd>{{end}}
{{with .Profile.Groups}}<dt>Groups</dt><dd>{{range $i, $g := .}}{{if $i}}, {{end}}{{$g}}{{end}}</dd>{{end}}
<dt>Session expires</dt><dd>{{.ExpiresAt.Format "2006-01-02 15:04 MST"}}</dd>
</dl>
<p><a href="/">Home</a> · <a href="/admin">Admin area</a> · <a href="/account/security">Security settings</a></p>
<form method="post" action="/logout"><button type="submit" id="signout">Sign out</button></form>
</body></html>`))

var adminPage = template.Must(template.New("admin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Admin area</title>` + style + `</head><body>
<h1>Admin area</h1>
<p>Signed in as {{.Email}}, with the admin role.</p>
<p><a href="/admin/sso">Sign-in health per connection</a></p>
<p><a href="/admin/sso/setup">Set up SSO</a>: a new connection for your organization, in WorkOS's Admin Portal</p>
<p><a href="/app">Back to the app</a></p>
</body></html>`))

var securityPage = template.Must(template.New("security").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Security settings</title>` + style + `</head><body>
<h1>Security settings</h1>
<p>Signed in as {{.Profile.Email}}. Your identity provider confirmed it is you at
<span id="authenticated-at">{{.AuthenticatedAt.Format "2006-01-02 15:04:05 MST"}}</span>; this page asks for that again after five minutes.</p>
<p><a href="/app">Back to the app</a></p>
</body></html>`))

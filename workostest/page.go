package workostest

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// signInPage is what the hosted sign-in page shows.
type signInPage struct {
	RequestID    string
	Title        string // the organization or connection name
	IdP          string // "Okta", "Google", ...
	Logo         string // the IdP's first letter
	Connection   string
	Type         string
	ReturnTo     string // host of the redirect URI
	Users        []pageUser
	HasLoginHint bool
}

type pageUser struct {
	Email    string
	Name     string
	Initials string
	Hinted   bool
}

// idpNames maps connection types to the identity provider's name, for the
// "Sign in with ..." heading.
var idpNames = map[string]string{
	"OktaSAML": "Okta", "GenericSAML": "SAML", "GenericOIDC": "OpenID Connect",
	"EntraIdOIDC": "Microsoft Entra ID", "AzureSAML": "Microsoft Entra ID", "ADFSSAML": "AD FS",
	"GoogleSAML": "Google Workspace", "OneLoginSAML": "OneLogin", "PingFederateSAML": "PingFederate",
	"JumpCloudSAML": "JumpCloud", "TestIdp": "Test Identity Provider",
	"GoogleOAuth": "Google", "MicrosoftOAuth": "Microsoft", "GitHubOAuth": "GitHub",
	"GitLabOAuth": "GitLab", "AppleOAuth": "Apple", "BitbucketOAuth": "Bitbucket",
	"IntuitOAuth": "Intuit", "LinkedInOAuth": "LinkedIn", "SalesforceOAuth": "Salesforce",
	"SlackOAuth": "Slack", "VercelOAuth": "Vercel", "VercelMarketplaceOAuth": "Vercel", "XeroOAuth": "Xero",
}

func idpName(connType string) string {
	if n, ok := idpNames[connType]; ok {
		return n
	}
	for _, suffix := range []string{"SAML", "OIDC", "OAuth"} {
		if n, ok := strings.CutSuffix(connType, suffix); ok && n != "" {
			return n
		}
	}
	return connType
}

func (s *Server) signInPageLocked(id string, p *pendingAuth, c *connection) signInPage {
	page := signInPage{
		RequestID:  id,
		Title:      c.Name,
		IdP:        idpName(c.Type),
		Connection: c.ID,
		Type:       c.Type,
	}
	if r := []rune(page.IdP); len(r) > 0 {
		page.Logo = string(r[0])
	}
	if o := s.orgs[c.OrganizationID]; o != nil {
		page.Title = o.Name
	}
	if u, err := url.Parse(p.redirectURI); err == nil {
		page.ReturnTo = u.Host
	}
	for _, u := range s.usersOfLocked(c.ID) {
		name := strings.TrimSpace(u.FirstName + " " + u.LastName)
		pu := pageUser{Email: u.Email, Name: name, Initials: initials(u), Hinted: p.loginHint != "" && strings.EqualFold(p.loginHint, u.Email)}
		page.HasLoginHint = page.HasLoginHint || pu.Hinted
		page.Users = append(page.Users, pu)
	}
	return page
}

func initials(u User) string {
	var b strings.Builder
	for _, part := range []string{u.FirstName, u.LastName} {
		if r := []rune(part); len(r) > 0 {
			b.WriteString(strings.ToUpper(string(r[0])))
		}
	}
	if b.Len() == 0 {
		if r := []rune(u.Email); len(r) > 0 {
			b.WriteString(strings.ToUpper(string(r[0])))
		}
	}
	return b.String()
}

// pageHeaders keep the emulator's pages out of caches and frames. There is
// no form-action directive: browsers apply it to the redirect that follows
// the form, which goes to the application.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

func render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "workostest: rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	pageHeaders(w)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func renderSignIn(w http.ResponseWriter, page signInPage) {
	render(w, http.StatusOK, "signin", page)
}

func renderError(w http.ResponseWriter, status int, code, desc string) {
	render(w, status, "error", map[string]string{"Code": code, "Description": desc})
}

func renderSignedOut(w http.ResponseWriter) {
	render(w, http.StatusOK, "signedout", nil)
}

var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
 font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 background:linear-gradient(160deg,#eef2f7 0%,#dfe6f0 100%);color:#1f2933}
.card{width:100%;max-width:420px;margin:24px;background:#fff;border-radius:14px;
 box-shadow:0 10px 30px rgba(15,23,42,.12),0 1px 3px rgba(15,23,42,.08);padding:32px 32px 24px}
.logo{width:48px;height:48px;border-radius:12px;background:#4f46e5;color:#fff;display:flex;
 align-items:center;justify-content:center;font-weight:700;font-size:22px;margin:0 auto 16px}
h1{font-size:20px;text-align:center;margin:0 0 4px}
.sub{text-align:center;color:#52606d;font-size:14px;margin:0 0 24px}
form{margin:0}
.user{display:flex;align-items:center;gap:12px;width:100%;padding:12px 14px;margin:0 0 10px;
 background:#fff;border:1px solid #d3dae3;border-radius:10px;font:inherit;text-align:left;cursor:pointer}
.user:hover,.user:focus{border-color:#4f46e5;background:#f5f5ff;outline:none}
.user.hint{border-color:#4f46e5;box-shadow:0 0 0 3px rgba(79,70,229,.18)}
.avatar{flex:none;width:36px;height:36px;border-radius:50%;background:#e0e7ff;color:#3730a3;
 display:flex;align-items:center;justify-content:center;font-weight:600;font-size:14px}
.who{display:flex;flex-direction:column;min-width:0}
.name{font-weight:600;font-size:15px}
.email{color:#52606d;font-size:13px;overflow:hidden;text-overflow:ellipsis}
.cancel{display:block;width:100%;padding:10px;margin-top:8px;background:none;border:0;
 color:#52606d;font:inherit;font-size:14px;cursor:pointer}
.cancel:hover{color:#1f2933;text-decoration:underline}
.empty{color:#52606d;font-size:14px;text-align:center;padding:12px 0}
.foot{margin-top:20px;padding-top:14px;border-top:1px solid #edf0f4;color:#7b8794;font-size:12px;text-align:center}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.err{color:#b42318}
</style>
</head>
<body>
{{end}}

{{define "signin"}}{{template "head" (printf "Sign in with %s" .IdP)}}
<main class="card">
 <div class="logo" aria-hidden="true">{{.Logo}}</div>
 <h1>Sign in with {{.IdP}}</h1>
 <p class="sub">to continue to <strong>{{.Title}}</strong>{{if .ReturnTo}} at {{.ReturnTo}}{{end}}</p>
 <form method="post" action="/sso/authorize/complete">
  <input type="hidden" name="request" value="{{.RequestID}}">
  {{range .Users}}
  <button class="user{{if .Hinted}} hint{{end}}" type="submit" name="email" value="{{.Email}}"{{if .Hinted}} autofocus{{end}}>
   <span class="avatar" aria-hidden="true">{{.Initials}}</span>
   <span class="who">{{if .Name}}<span class="name">{{.Name}}</span>{{end}}<span class="email">{{.Email}}</span></span>
  </button>
  {{else}}
  <p class="empty">No test users can sign in through this connection.</p>
  {{end}}
  <button class="cancel" type="submit" name="action" value="cancel">Cancel</button>
 </form>
 <p class="foot">WorkOS emulator &middot; {{.Type}} connection <code>{{.Connection}}</code></p>
</main>
</body>
</html>
{{end}}

{{define "error"}}{{template "head" "Sign-in error"}}
<main class="card">
 <div class="logo" aria-hidden="true">!</div>
 <h1>Something went wrong</h1>
 <p class="sub err"><code>{{.Code}}</code></p>
 <p class="sub">{{.Description}}</p>
 <p class="foot">WorkOS emulator</p>
</main>
</body>
</html>
{{end}}

{{define "signedout"}}{{template "head" "Signed out"}}
<main class="card">
 <div class="logo" aria-hidden="true">&#10003;</div>
 <h1>You have been signed out</h1>
 <p class="sub">Your identity provider session has ended. You can close this window.</p>
 <p class="foot">WorkOS emulator</p>
</main>
</body>
</html>
{{end}}
`))

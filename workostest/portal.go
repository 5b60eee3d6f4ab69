package workostest

import (
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// portalLinkLifetime is how long a portal link can be opened after it is
// issued, as on WorkOS; portalSessionLifetime how long the page it opened
// can be completed.
const (
	portalLinkLifetime    = 5 * time.Minute
	portalSessionLifetime = 30 * time.Minute
)

// portalIntents are the intents POST /portal/generate_link takes.
var portalIntents = []string{"sso", "dsync", "audit_logs", "log_streams", "domain_verification", "certificate_renewal", "bring_your_own_key"}

// portalProviders are the identity providers the emulator's portal sets
// up, by connection type.
var portalProviders = []struct{ Type, Name string }{
	{"OktaSAML", "Okta (SAML)"},
	{"AzureSAML", "Microsoft Entra ID (SAML)"},
	{"GoogleOAuth", "Google (OAuth)"},
	{"GenericOIDC", "Any OpenID Connect provider"},
}

// portalLink is an Admin Portal link and the session it opens.
type portalLink struct {
	org, intent, successURL string
	expires                 time.Time // of the link
	// session is the secret of the page the link opened ("" until it was
	// opened), and sessionExpires its end; done once it completed.
	session        string
	sessionExpires time.Time
	done           bool
}

// generatePortalLink serves POST /portal/generate_link.
func (s *Server) generatePortalLink(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Organization    string   `json:"organization"`
		Intent          string   `json:"intent"`
		ReturnURL       string   `json:"return_url"`
		SuccessURL      string   `json:"success_url"`
		ITContactEmails []string `json:"it_contact_emails"`
	}
	if !readJSON(w, r, &b) {
		return
	}
	var errs []fieldErrorJSON
	if b.Organization == "" {
		errs = append(errs, fieldErrorJSON{Field: "organization", Code: "organization is required"})
	}
	b.Intent = strings.TrimSpace(b.Intent)
	if b.Intent == "" {
		b.Intent = "sso"
	}
	if !slices.Contains(portalIntents, b.Intent) {
		errs = append(errs, fieldErrorJSON{Field: "intent", Code: "intent must be one of " + strings.Join(portalIntents, ", ")})
	}
	for _, f := range []struct{ name, v string }{{"return_url", b.ReturnURL}, {"success_url", b.SuccessURL}} {
		if f.v == "" {
			continue
		}
		if u, err := url.Parse(f.v); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			errs = append(errs, fieldErrorJSON{Field: f.name, Code: f.name + " must be an absolute http or https URL"})
		}
	}
	if len(b.ITContactEmails) > 20 {
		errs = append(errs, fieldErrorJSON{Field: "it_contact_emails", Code: "at most 20 it_contact_emails"})
	}
	if len(errs) > 0 {
		validationFailed(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orgs[b.Organization] == nil {
		notFound(w, "Organization", b.Organization)
		return
	}
	// Links that can no longer be opened or completed are forgotten, so
	// that a long-running emulator does not keep every link it issued.
	now := s.nowLocked()
	for t, l := range s.portals {
		if l.done || !now.Before(l.expires) && (l.session == "" || !now.Before(l.sessionExpires)) {
			delete(s.portals, t)
		}
	}
	token := rand.Text()
	s.portals[token] = &portalLink{org: b.Organization, intent: b.Intent, successURL: b.SuccessURL, expires: s.nowLocked().Add(portalLinkLifetime)}
	writeJSON(w, http.StatusCreated, map[string]string{"link": s.URL + "/portal?token=" + token})
}

// portalPage is what the portal's page shows.
type portalPage struct {
	Session      string
	Organization string
	Intent       string
	Providers    []struct{ Type, Name string }
	Domains      []orgDomainJSON
	Error        string
	// The admin's last input, shown again with an error.
	Provider, Domain, Email, FirstName, LastName string
}

// openPortal serves GET /portal?token=...: a link opens its page once,
// within five minutes of its issue.
func (s *Server) openPortal(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.portals[token]
	switch {
	case l == nil:
		renderPortalError(w, http.StatusNotFound, "This setup link is not valid. Ask the application for a new one.")
		return
	case l.session != "":
		renderPortalError(w, http.StatusGone, "This setup link was already used. Ask the application for a new one.")
		return
	case !s.nowLocked().Before(l.expires):
		renderPortalError(w, http.StatusGone, "This setup link expired: links last five minutes. Ask the application for a new one.")
		return
	}
	o := s.orgs[l.org]
	if o == nil {
		renderPortalError(w, http.StatusNotFound, "This organization no longer exists.")
		return
	}
	l.session, l.sessionExpires = rand.Text(), s.nowLocked().Add(portalSessionLifetime)
	render(w, http.StatusOK, "portal", s.portalPageLocked(l, o))
}

func (s *Server) portalPageLocked(l *portalLink, o *organization) portalPage {
	p := portalPage{Session: l.session, Organization: o.Name, Intent: l.intent, Providers: portalProviders}
	for _, d := range o.domains {
		p.Domains = append(p.Domains, orgDomainJSONOf(o.ID, d))
	}
	return p
}

// completePortal serves POST /portal/complete: the admin's setup.
func (s *Server) completePortal(w http.ResponseWriter, r *http.Request) {
	// The session secret in the form is what lets a post in; this keeps
	// out posts another site's page sends. The portal's own page sends
	// Origin null (its Referrer-Policy is no-referrer) or its own origin.
	if o := r.Header.Get("Origin"); o != "" && o != "null" && o != "http://"+r.Host || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		renderPortalError(w, http.StatusForbidden, "The setup form must be sent from the portal's own page.")
		return
	}
	if err := r.ParseForm(); err != nil {
		renderPortalError(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	var l *portalLink
	for _, x := range s.portals {
		if x.session != "" && x.session == f.Get("session") {
			l = x
		}
	}
	if l == nil || l.done || !s.nowLocked().Before(l.sessionExpires) {
		renderPortalError(w, http.StatusGone, "This setup session is over. Ask the application for a new link.")
		return
	}
	o := s.orgs[l.org]
	if o == nil {
		renderPortalError(w, http.StatusNotFound, "This organization no longer exists.")
		return
	}
	switch l.intent {
	case "sso":
		page := s.portalPageLocked(l, o)
		page.Provider, page.Domain, page.Email = f.Get("provider"), strings.ToLower(strings.TrimSpace(f.Get("domain"))), strings.TrimSpace(f.Get("email"))
		page.FirstName, page.LastName = strings.TrimSpace(f.Get("first_name")), strings.TrimSpace(f.Get("last_name"))
		if msg := s.activateSSOLocked(o, page); msg != "" {
			page.Error = msg
			render(w, http.StatusUnprocessableEntity, "portal", page)
			return
		}
	case "domain_verification":
		_, d := s.findDomainLocked(f.Get("domain_id"))
		if d == nil || !slices.Contains(o.domains, d) {
			renderPortalError(w, http.StatusBadRequest, "No such domain of this organization.")
			return
		}
		if err := s.setDomainStateLocked(o, d, f.Get("state")); err != nil {
			renderPortalError(w, http.StatusBadRequest, "A domain is marked verified or failed.")
			return
		}
	default:
		renderPortalError(w, http.StatusBadRequest, "The emulator's portal sets up sso and domain_verification only.")
		return
	}
	l.done = true
	if l.successURL != "" {
		http.Redirect(w, r, l.successURL, http.StatusSeeOther)
		return
	}
	render(w, http.StatusOK, "portaldone", o.Name)
}

// activateSSOLocked makes the connection the portal's form describes, with
// its first user, and sends connection.activated; it returns what is wrong
// with the form, if anything.
func (s *Server) activateSSOLocked(o *organization, p portalPage) string {
	i := slices.IndexFunc(portalProviders, func(x struct{ Type, Name string }) bool { return x.Type == p.Provider })
	switch {
	case i < 0:
		return "Choose an identity provider."
	case !validDomain(p.Domain):
		return "Enter your company's email domain, such as acme.com."
	case !strings.HasSuffix(strings.ToLower(p.Email), "@"+p.Domain) || strings.Count(p.Email, "@") != 1:
		return "Enter a first user's email address at " + p.Domain + "."
	}
	if owner, _ := s.domainOwnerLocked(p.Domain); owner != nil && owner != o {
		return "The domain " + p.Domain + " belongs to another organization."
	}
	now := s.nowLocked().Round(0)
	c := Connection{ID: "conn_" + rand.Text(), OrganizationID: o.ID, Name: o.Name + " " + idpName(p.Provider),
		Type: p.Provider, State: "inactive", Domains: []string{p.Domain}, CreatedAt: now}
	if err := s.addConnectionLocked(c); err != nil {
		return "The connection could not be made: " + err.Error()
	}
	if !slices.Contains(o.Domains, p.Domain) {
		// The admin named it and proved nothing: WorkOS would verify it.
		o.domains = append(o.domains, &orgDomain{id: "org_domain_" + rand.Text(), domain: p.Domain, state: "pending",
			strategy: "dns", token: rand.Text(), createdAt: now, updatedAt: now})
		o.syncDomains()
	}
	s.users = append(s.users, User{Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, ConnectionID: c.ID})
	// Activating sends connection.activated, as WorkOS does once the IdP
	// is configured.
	s.conns[c.ID].State = "active"
	s.emitLocked("connection.activated", connectionEventOf(s.conns[c.ID]))
	return ""
}

func renderPortalError(w http.ResponseWriter, status int, msg string) {
	render(w, status, "portalerror", msg)
}

func init() {
	template.Must(pages.Parse(`
{{define "portal"}}{{template "head" "Set up single sign-on"}}
<main class="card">
 <div class="logo" aria-hidden="true">W</div>
 <h1>{{if eq .Intent "domain_verification"}}Verify your domains{{else}}Set up single sign-on{{end}}</h1>
 <p class="sub">for <strong>{{.Organization}}</strong></p>
 {{with .Error}}<p class="sub err" role="alert">{{.}}</p>{{end}}
 {{if eq .Intent "sso"}}
 <form method="post" action="/portal/complete">
  <input type="hidden" name="session" value="{{.Session}}">
  <p><label>Identity provider<br><select name="provider" required>
   {{range .Providers}}<option value="{{.Type}}"{{if eq .Type $.Provider}} selected{{end}}>{{.Name}}</option>{{end}}
  </select></label></p>
  <p><label>Email domain<br><input name="domain" value="{{.Domain}}" placeholder="acme.com" required></label></p>
  <p><label>A first user's email<br><input name="email" type="email" value="{{.Email}}" required></label></p>
  <p><label>First name<br><input name="first_name" value="{{.FirstName}}"></label></p>
  <p><label>Last name<br><input name="last_name" value="{{.LastName}}"></label></p>
  <button class="user" type="submit">Activate the connection</button>
 </form>
 {{else if eq .Intent "domain_verification"}}
 {{range .Domains}}
 <form method="post" action="/portal/complete">
  <input type="hidden" name="session" value="{{$.Session}}">
  <input type="hidden" name="domain_id" value="{{.ID}}">
  <p><strong>{{.Domain}}</strong>: {{.State}}</p>
  <button class="user" type="submit" name="state" value="verified">Mark {{.Domain}} verified</button>
  <button class="cancel" type="submit" name="state" value="failed">Mark {{.Domain}} failed</button>
 </form>
 {{else}}<p class="empty">This organization has no domains.</p>{{end}}
 {{else}}
 <p class="empty">The emulator's portal sets up sso and domain_verification; {{.Intent}} is WorkOS's own.</p>
 {{end}}
 <p class="foot">WorkOS emulator &middot; Admin Portal</p>
</main>
</body>
</html>
{{end}}

{{define "portalerror"}}{{template "head" "Setup link"}}
<main class="card">
 <div class="logo" aria-hidden="true">!</div>
 <h1>This link cannot be used</h1>
 <p class="sub">{{.}}</p>
 <p class="foot">WorkOS emulator &middot; Admin Portal</p>
</main>
</body>
</html>
{{end}}

{{define "portaldone"}}{{template "head" "Single sign-on is set up"}}
<main class="card">
 <div class="logo" aria-hidden="true">&#10003;</div>
 <h1 id="portal-done">Done</h1>
 <p class="sub">{{.}} is set up. You can close this page.</p>
 <p class="foot">WorkOS emulator &middot; Admin Portal</p>
</main>
</body>
</html>
{{end}}
`))
}

package workostest

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Ids and emails of [DefaultSeed].
const (
	// AcmeOrganizationID is the organization "Acme" (domain acme.com).
	AcmeOrganizationID = "org_acme"
	// AcmeConnectionID is Acme's active OktaSAML connection.
	AcmeConnectionID = "conn_acme_okta"
	// AliceEmail is Alice Anderson of Acme: groups engineering and admins, role admin.
	AliceEmail = "alice@acme.com"
	// BobEmail is Bob Baker of Acme: group engineering, role member.
	BobEmail = "bob@acme.com"

	// GlobexOrganizationID is the organization "Globex" (domain globex.com).
	GlobexOrganizationID = "org_globex"
	// GlobexConnectionID is Globex's active GenericOIDC connection.
	GlobexConnectionID = "conn_globex_oidc"
	// HankEmail is Hank Scorpio of Globex, role owner.
	HankEmail = "hank@globex.com"

	// GoogleConnectionID is an active GoogleOAuth connection with no
	// organization, selected by provider=GoogleOAuth.
	GoogleConnectionID = "conn_google_oauth"
	// CarolEmail is Carol Chen, who signs in with Google.
	CarolEmail = "carol@gmail.com"

	// InitechOrganizationID is the organization "Initech" (domain initech.com).
	InitechOrganizationID = "org_initech"
	// InitechConnectionID is Initech's only connection, a GenericSAML
	// connection in state inactive.
	InitechConnectionID = "conn_initech_saml"
	// PeterEmail is Peter Gibbons of Initech, who cannot sign in while the
	// Initech connection is inactive.
	PeterEmail = "peter@initech.com"
)

// Seed is the data a [Server] starts with. See [DefaultSeed] and [WithSeed].
type Seed struct {
	Organizations  []Organization
	Connections    []Connection
	Users          []User
	Directories    []Directory
	DirectoryUsers []DirectoryUser
}

// Organization is a WorkOS organization.
type Organization struct {
	// ID is the organization id, such as "org_acme". Required.
	ID string
	// Name is the display name. Default: the ID.
	Name string
	// Domains are the organization's email domains. A connection of the
	// organization without domains of its own inherits them.
	Domains []string
}

// Connection is a WorkOS SSO connection.
type Connection struct {
	// ID is the connection id, such as "conn_acme_okta". Required.
	ID string
	// OrganizationID is the organization the connection belongs to; "" for
	// an OAuth provider connection (such as GoogleOAuth) shared by all.
	OrganizationID string
	// Name is the display name. Default: the organization's name, or the ID.
	Name string
	// Type is the connection type as WorkOS spells it: "OktaSAML",
	// "GenericOIDC", "GoogleOAuth", "GitHubOAuth", ... Required.
	Type string
	// State is the connection state. Default "active". Only active
	// connections can be signed in through.
	State string
	// Domains are the connection's email domains. Default: the
	// organization's domains.
	Domains []string
	// CreatedAt orders the connection list. Default: the server clock when
	// the connection is added.
	CreatedAt time.Time
}

// User is someone who can sign in through a connection.
type User struct {
	// Email is the user's email; required. Emails compare case-insensitively.
	Email string
	// FirstName and LastName are null in the profile when empty.
	FirstName, LastName string
	// ConnectionID is the connection the user signs in through; required.
	// A person who can sign in through two connections is two Users.
	ConnectionID string
	// IdPID is the user's id at the identity provider. Default: derived
	// from the connection and email.
	IdPID string
	// Groups are the user's groups at the identity provider.
	Groups []string
	// Role is the role slug. With Role empty and Roles set, the first of
	// Roles is the role; with both empty the profile's role and roles are null.
	Role string
	// Roles are all the user's role slugs. Default: [Role] when Role is set.
	Roles []string
	// CustomAttributes are the profile's custom_attributes.
	CustomAttributes map[string]any
}

// ProfileID returns the profile id the server gives the user with this
// email signing in through this connection. It is stable across runs.
func ProfileID(connectionID, email string) string {
	return "prof_" + stableID("profile", connectionID, strings.ToLower(email))
}

// seedEpoch is when the default seed's connections were created.
var seedEpoch = time.Date(2026, time.January, 15, 12, 0, 0, 0, time.UTC)

// DefaultSeed returns the data a [Server] starts with unless [WithSeed] is
// used: see the package documentation for the table.
func DefaultSeed() Seed {
	dirs, dirUsers := defaultDirectories()
	return Seed{
		Directories:    dirs,
		DirectoryUsers: dirUsers,
		Organizations: []Organization{
			{ID: AcmeOrganizationID, Name: "Acme", Domains: []string{"acme.com"}},
			{ID: GlobexOrganizationID, Name: "Globex", Domains: []string{"globex.com"}},
			{ID: InitechOrganizationID, Name: "Initech", Domains: []string{"initech.com"}},
		},
		Connections: []Connection{
			{ID: AcmeConnectionID, OrganizationID: AcmeOrganizationID, Name: "Acme Okta", Type: "OktaSAML",
				State: "active", Domains: []string{"acme.com"}, CreatedAt: seedEpoch},
			{ID: GlobexConnectionID, OrganizationID: GlobexOrganizationID, Name: "Globex OIDC", Type: "GenericOIDC",
				State: "active", Domains: []string{"globex.com"}, CreatedAt: seedEpoch.Add(1 * time.Hour)},
			{ID: GoogleConnectionID, Name: "Google OAuth", Type: "GoogleOAuth",
				State: "active", CreatedAt: seedEpoch.Add(2 * time.Hour)},
			{ID: InitechConnectionID, OrganizationID: InitechOrganizationID, Name: "Initech SAML", Type: "GenericSAML",
				State: "inactive", Domains: []string{"initech.com"}, CreatedAt: seedEpoch.Add(3 * time.Hour)},
		},
		Users: []User{
			{Email: AliceEmail, FirstName: "Alice", LastName: "Anderson", ConnectionID: AcmeConnectionID,
				Groups: []string{"engineering", "admins"}, Role: "admin",
				CustomAttributes: map[string]any{"department": "Engineering"}},
			{Email: BobEmail, FirstName: "Bob", LastName: "Baker", ConnectionID: AcmeConnectionID,
				Groups: []string{"engineering"}, Role: "member"},
			{Email: HankEmail, FirstName: "Hank", LastName: "Scorpio", ConnectionID: GlobexConnectionID,
				Groups: []string{"executives"}, Role: "owner"},
			{Email: CarolEmail, FirstName: "Carol", LastName: "Chen", ConnectionID: GoogleConnectionID},
			{Email: PeterEmail, FirstName: "Peter", LastName: "Gibbons", ConnectionID: InitechConnectionID,
				Role: "member"},
		},
	}
}

// connection is a stored connection: the seeded fields with defaults
// filled in, plus what changes over its life.
type connection struct {
	Connection
	UpdatedAt time.Time
}

func (s *Server) applySeed(seed Seed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range seed.Organizations {
		if err := s.addOrganizationLocked(o); err != nil {
			return err
		}
	}
	for _, c := range seed.Connections {
		if err := s.addConnectionLocked(c); err != nil {
			return err
		}
	}
	for _, u := range seed.Users {
		if err := s.addUserLocked(u); err != nil {
			return err
		}
	}
	for _, d := range seed.Directories {
		if err := s.addDirectoryLocked(d); err != nil {
			return err
		}
	}
	for _, u := range seed.DirectoryUsers {
		if _, err := s.addDirectoryUserLocked(u); err != nil {
			return err
		}
	}
	return nil
}

// AddOrganization adds an organization. It fails if the ID is empty or taken.
func (s *Server) AddOrganization(o Organization) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addOrganizationLocked(o)
}

func (s *Server) addOrganizationLocked(o Organization) error {
	if o.ID == "" {
		return errorf("organization id is empty")
	}
	if _, ok := s.orgs[o.ID]; ok {
		return errorf("organization %q already exists", o.ID)
	}
	if o.Name == "" {
		o.Name = o.ID
	}
	o.Domains = normalizeDomains(o.Domains)
	now := s.nowLocked().Round(0)
	org := &organization{Organization: o, createdAt: now, updatedAt: now}
	for _, d := range o.Domains {
		// A seeded domain is one the app vouched for.
		org.domains = append(org.domains, &orgDomain{id: "org_domain_" + stableID("org_domain", o.ID, d), domain: d,
			state: "verified", strategy: "manual", createdAt: now, updatedAt: now})
	}
	s.orgs[o.ID] = org
	s.orgOrder = append(s.orgOrder, o.ID)
	return nil
}

// AddConnection adds a connection. It fails if the ID is empty or taken,
// the Type is empty, or the organization does not exist. Adding a
// connection sends no webhook event.
func (s *Server) AddConnection(c Connection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addConnectionLocked(c)
}

func (s *Server) addConnectionLocked(c Connection) error {
	if c.ID == "" {
		return errorf("connection id is empty")
	}
	if _, ok := s.conns[c.ID]; ok {
		return errorf("connection %q already exists", c.ID)
	}
	if c.Type == "" {
		return errorf("connection %q has no type", c.ID)
	}
	var org *organization
	if c.OrganizationID != "" {
		org = s.orgs[c.OrganizationID]
		if org == nil {
			return errorf("connection %q: organization %q does not exist", c.ID, c.OrganizationID)
		}
	}
	if c.Name == "" {
		c.Name = c.ID
		if org != nil {
			c.Name = org.Name
		}
	}
	if c.State == "" {
		c.State = "active"
	}
	c.Domains = normalizeDomains(c.Domains)
	if len(c.Domains) == 0 && org != nil {
		c.Domains = slices.Clone(org.Domains)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.nowLocked()
	}
	c.CreatedAt = c.CreatedAt.Round(0) // drop the monotonic reading: cursors hold wall time
	s.conns[c.ID] = &connection{Connection: c, UpdatedAt: c.CreatedAt}
	s.connOrder = append(s.connOrder, c.ID)
	return nil
}

// AddUser adds a user. It fails if the email is empty, the connection does
// not exist, or the connection already has a user with this email.
func (s *Server) AddUser(u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(u)
}

func (s *Server) addUserLocked(u User) error {
	if u.Email == "" {
		return errorf("user email is empty")
	}
	if _, ok := s.conns[u.ConnectionID]; !ok {
		return errorf("user %q: connection %q does not exist", u.Email, u.ConnectionID)
	}
	if s.findUserLocked(u.ConnectionID, u.Email) != nil {
		return errorf("user %q already exists on connection %q", u.Email, u.ConnectionID)
	}
	if u.IdPID == "" {
		u.IdPID = strings.ToLower(stableID("idp", u.ConnectionID, strings.ToLower(u.Email)))
	}
	u.Groups = slices.Clone(u.Groups)
	u.Roles = slices.Clone(u.Roles)
	if len(u.Roles) == 0 && u.Role != "" {
		u.Roles = []string{u.Role}
	}
	if u.Role == "" && len(u.Roles) > 0 {
		u.Role = u.Roles[0]
	}
	u.CustomAttributes = maps.Clone(u.CustomAttributes)
	s.users = append(s.users, u)
	return nil
}

func (s *Server) findUserLocked(connID, email string) *User {
	for i := range s.users {
		u := &s.users[i]
		if u.ConnectionID == connID && strings.EqualFold(u.Email, email) {
			return u
		}
	}
	return nil
}

func (s *Server) usersOfLocked(connID string) []User {
	var out []User
	for _, u := range s.users {
		if u.ConnectionID == connID {
			out = append(out, u)
		}
	}
	return out
}

// SetConnectionState sets a connection's state, such as "active" or
// "inactive". A change from active to another state sends a
// connection.deactivated event; a change to active sends
// connection.activated; other changes send none.
func (s *Server) SetConnectionState(id, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conns[id]
	if c == nil {
		return errorf("connection %q does not exist", id)
	}
	if !slices.Contains(connectionStates, state) {
		return errorf("connection state %q is not one of %s", state, strings.Join(connectionStates, ", "))
	}
	old := c.State
	if old == state {
		return nil
	}
	c.State = state
	c.UpdatedAt = s.nowLocked()
	switch {
	case state == "active":
		s.emitLocked("connection.activated", connectionEventOf(c))
	case old == "active":
		s.emitLocked("connection.deactivated", connectionEventOf(c))
	}
	return nil
}

// DeleteConnection deletes a connection and its users, and sends a
// connection.deleted event.
func (s *Server) DeleteConnection(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deleteConnectionLocked(id) {
		return errorf("connection %q does not exist", id)
	}
	return nil
}

func (s *Server) deleteConnectionLocked(id string) bool {
	c := s.conns[id]
	if c == nil {
		return false
	}
	delete(s.conns, id)
	// Its id stays a valid cursor, as on WorkOS, whose ids sort by time.
	if s.gone == nil {
		s.gone = map[string]time.Time{}
	}
	s.gone[id] = c.CreatedAt
	s.connOrder = slices.DeleteFunc(s.connOrder, func(x string) bool { return x == id })
	s.users = slices.DeleteFunc(s.users, func(u User) bool { return u.ConnectionID == id })
	c.UpdatedAt = s.nowLocked()
	s.emitLocked("connection.deleted", connectionJSONOf(c)) // no domains, as WorkOS sends it
	return true
}

func normalizeDomains(ds []string) []string {
	var out []string
	for _, d := range ds {
		d = strings.ToLower(strings.TrimSpace(d))
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

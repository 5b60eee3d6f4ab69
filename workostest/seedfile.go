package workostest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SeedVersion is the version of the seed file format that [ParseSeed]
// reads.
const SeedVersion = 1

// A seed file is JSON:
//
//	{
//	  "version": 1,
//	  "organizations": [{"id": "org_acme", "name": "Acme", "domains": ["acme.com"]}],
//	  "connections": [{"id": "conn_acme_okta", "organization_id": "org_acme", "name": "Acme Okta",
//	                   "type": "OktaSAML", "state": "active", "domains": ["acme.com"],
//	                   "created_at": "2026-01-15T12:00:00Z"}],
//	  "users": [{"email": "alice@acme.com", "first_name": "Alice", "last_name": "Anderson",
//	             "connection_id": "conn_acme_okta", "idp_id": "", "groups": ["admins"],
//	             "role": "admin", "roles": ["admin"], "custom_attributes": {"team": "core"}}]
//	}
//
// "directories" ({"id": "directory_acme", "organization_id": "org_acme",
// "name": "...", "type": "okta scim v2.0"}) and "directory_users"
// ({"directory_id": "directory_acme", "email": "alice@acme.com", "idp_id":
// "", "state": "active", "groups": [...], "first_name": "...", ...}) seed
// Directory Sync.
//
// Fields mean what they mean in [Organization], [Connection], [User],
// [Directory] and [DirectoryUser];
// only the ids, a connection's type and a user's email and connection are
// required. A connection's type may also be given as connection_type,
// WorkOS's own name for it. A connection's created_at (RFC 3339) orders the
// connection list; by default connections are created in the file's order.
//
// The admin API (see [WithAdmin]) takes the same objects and checks them
// the same way, with the same $.json.path: problem errors.
type seedFile struct {
	Version       *int              `json:"version"`
	Organizations []json.RawMessage `json:"organizations"`
	Connections   []json.RawMessage `json:"connections"`
	Users         []json.RawMessage `json:"users"`
	Directories   []json.RawMessage `json:"directories"`
	// DirectoryUsers are the users the directories provision.
	DirectoryUsers []json.RawMessage `json:"directory_users"`
}

type seedDirectory struct {
	ID             string    `json:"id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	Type           string    `json:"type"`
	CreatedAt      time.Time `json:"created_at"`
}

type seedDirectoryUser struct {
	DirectoryID      string         `json:"directory_id"`
	Email            string         `json:"email"`
	FirstName        string         `json:"first_name"`
	LastName         string         `json:"last_name"`
	IdPID            string         `json:"idp_id"`
	State            string         `json:"state"`
	Groups           []string       `json:"groups"`
	CustomAttributes map[string]any `json:"custom_attributes"`
}

type seedOrganization struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

type seedConnection struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	// ConnectionType is WorkOS's own name for Type, as the API and
	// "ssogate connections list -json" print it; either may be given.
	ConnectionType string    `json:"connection_type"`
	State          string    `json:"state"`
	Domains        []string  `json:"domains"`
	CreatedAt      time.Time `json:"created_at"`
}

type seedUser struct {
	Email            string         `json:"email"`
	FirstName        string         `json:"first_name"`
	LastName         string         `json:"last_name"`
	ConnectionID     string         `json:"connection_id"`
	IdPID            string         `json:"idp_id"`
	Groups           []string       `json:"groups"`
	Role             string         `json:"role"`
	Roles            []string       `json:"roles"`
	CustomAttributes map[string]any `json:"custom_attributes"`
}

// SeedError reports what is wrong in a seed file, and where: a JSON path
// such as $.connections[2].organization_id.
type SeedError struct {
	Path    string
	Problem string
}

// Error returns the path and the problem.
func (e *SeedError) Error() string { return e.Path + ": " + e.Problem }

// connectionStates are the states WorkOS gives connections.
var connectionStates = []string{"requires_type", "draft", "active", "validating", "inactive", "deleting"}

// ParseSeed reads a seed file (see the format above) and checks all of it:
// unknown fields, a missing or other version, malformed or duplicate ids,
// a connection of an organization the file does not have, a user of a
// connection it does not have, an unknown state. The first problem found
// is returned as a [*SeedError]; nothing is half-read.
func ParseSeed(data []byte) (Seed, error) {
	var f seedFile
	if err := strictDecode(data, &f); err != nil {
		return Seed{}, seedError("$", err)
	}
	switch {
	case f.Version == nil:
		return Seed{}, &SeedError{"$.version", "missing; this emulator reads version " + strconv.Itoa(SeedVersion)}
	case *f.Version != SeedVersion:
		return Seed{}, &SeedError{"$.version", fmt.Sprintf("is %d; this emulator reads version %d", *f.Version, SeedVersion)}
	}
	var seed Seed
	orgs := map[string]bool{}
	for i, raw := range f.Organizations {
		path := fmt.Sprintf("$.organizations[%d]", i)
		var o seedOrganization
		if err := strictDecode(raw, &o); err != nil {
			return Seed{}, seedError(path, err)
		}
		if err := o.check(path); err != nil {
			return Seed{}, err
		}
		if orgs[o.ID] {
			return Seed{}, &SeedError{path + ".id", "duplicate id " + o.ID}
		}
		orgs[o.ID] = true
		seed.Organizations = append(seed.Organizations, Organization(o))
	}
	conns := map[string]bool{}
	for i, raw := range f.Connections {
		path := fmt.Sprintf("$.connections[%d]", i)
		var c seedConnection
		if err := strictDecode(raw, &c); err != nil {
			return Seed{}, seedError(path, err)
		}
		if err := c.check(path, func(id string) bool { return orgs[id] }); err != nil {
			return Seed{}, err
		}
		if conns[c.ID] {
			return Seed{}, &SeedError{path + ".id", "duplicate id " + c.ID}
		}
		conns[c.ID] = true
		seed.Connections = append(seed.Connections, c.connection())
	}
	users := map[string]bool{}
	for i, raw := range f.Users {
		path := fmt.Sprintf("$.users[%d]", i)
		var u seedUser
		if err := strictDecode(raw, &u); err != nil {
			return Seed{}, seedError(path, err)
		}
		if err := u.check(path, func(id string) bool { return conns[id] }); err != nil {
			return Seed{}, err
		}
		key := u.ConnectionID + "\x00" + strings.ToLower(u.Email)
		if users[key] {
			return Seed{}, &SeedError{path + ".email", "duplicate user " + u.Email + " of " + u.ConnectionID}
		}
		users[key] = true
		seed.Users = append(seed.Users, User(u))
	}
	dirs := map[string]bool{}
	for i, raw := range f.Directories {
		path := fmt.Sprintf("$.directories[%d]", i)
		var d seedDirectory
		if err := strictDecode(raw, &d); err != nil {
			return Seed{}, seedError(path, err)
		}
		if err := d.check(path, func(id string) bool { return orgs[id] }); err != nil {
			return Seed{}, err
		}
		if dirs[d.ID] {
			return Seed{}, &SeedError{path + ".id", "duplicate id " + d.ID}
		}
		dirs[d.ID] = true
		seed.Directories = append(seed.Directories, Directory(d))
	}
	dirUsers := map[string]bool{}
	for i, raw := range f.DirectoryUsers {
		path := fmt.Sprintf("$.directory_users[%d]", i)
		var u seedDirectoryUser
		if err := strictDecode(raw, &u); err != nil {
			return Seed{}, seedError(path, err)
		}
		if err := u.check(path, func(id string) bool { return dirs[id] }); err != nil {
			return Seed{}, err
		}
		id := DirectoryUserID(u.DirectoryID, u.Email)
		if dirUsers[id] {
			return Seed{}, &SeedError{path + ".email", "duplicate user " + u.Email + " of " + u.DirectoryID}
		}
		dirUsers[id] = true
		seed.DirectoryUsers = append(seed.DirectoryUsers, DirectoryUser(u))
	}
	// The server's own checks, for anything the file format leaves to it.
	probe := &Server{orgs: map[string]*organization{}, conns: map[string]*connection{}, dirs: map[string]*directory{}, clock: time.Now}
	if err := probe.applySeed(seed); err != nil {
		return Seed{}, &SeedError{"$", err.Error()}
	}
	return seed, nil
}

func (c seedConnection) connection() Connection {
	return Connection{ID: c.ID, OrganizationID: c.OrganizationID, Name: c.Name, Type: c.Type,
		State: c.State, Domains: c.Domains, CreatedAt: c.CreatedAt}
}

// check checks an organization of a seed file or of the admin API, at
// path.
func (o *seedOrganization) check(path string) error {
	if err := checkID(path+".id", o.ID, "org_"); err != nil {
		return err
	}
	return checkDomains(path+".domains", o.Domains)
}

// check checks a connection of a seed file or of the admin API, at path:
// hasOrg says which organizations exist. It takes connection_type for
// type.
func (c *seedConnection) check(path string, hasOrg func(string) bool) error {
	if err := checkID(path+".id", c.ID, "conn_"); err != nil {
		return err
	}
	if c.ConnectionType != "" {
		if c.Type != "" && c.Type != c.ConnectionType {
			return &SeedError{path + ".connection_type", strconv.Quote(c.ConnectionType) + " differs from type " + strconv.Quote(c.Type) + "; give one of them"}
		}
		c.Type, c.ConnectionType = c.ConnectionType, ""
	}
	switch {
	case c.OrganizationID != "" && !hasOrg(c.OrganizationID):
		return &SeedError{path + ".organization_id", "no organization " + strconv.Quote(c.OrganizationID)}
	case c.Type == "":
		return &SeedError{path + ".type", "missing, such as \"OktaSAML\" or \"GoogleOAuth\" (connection_type works too)"}
	}
	if err := checkState(path+".state", c.State, true); err != nil {
		return err
	}
	return checkDomains(path+".domains", c.Domains)
}

// checkState checks a connection state; empty means the default (active)
// where emptyOK.
func checkState(path, state string, emptyOK bool) error {
	if state == "" && emptyOK || slices.Contains(connectionStates, state) {
		return nil
	}
	return &SeedError{path, strconv.Quote(state) + " is not one of " + strings.Join(connectionStates, ", ")}
}

// check checks a user of a seed file or of the admin API, at path:
// hasConn says which connections exist.
func (u *seedUser) check(path string, hasConn func(string) bool) error {
	switch {
	case !validEmail(u.Email):
		return &SeedError{path + ".email", "missing or not an email address"}
	case u.ConnectionID == "":
		return &SeedError{path + ".connection_id", "missing"}
	case !hasConn(u.ConnectionID):
		return &SeedError{path + ".connection_id", "no connection " + strconv.Quote(u.ConnectionID)}
	}
	return nil
}

// check checks a directory of a seed file or of the admin API, at path:
// hasOrg says which organizations exist.
func (d *seedDirectory) check(path string, hasOrg func(string) bool) error {
	if err := checkID(path+".id", d.ID, "directory_"); err != nil {
		return err
	}
	if !hasOrg(d.OrganizationID) {
		return &SeedError{path + ".organization_id", "missing or no organization " + strconv.Quote(d.OrganizationID)}
	}
	return nil
}

// check checks a directory user of a seed file or of the admin API, at
// path: hasDir says which directories exist.
func (u *seedDirectoryUser) check(path string, hasDir func(string) bool) error {
	switch {
	case !validEmail(u.Email):
		return &SeedError{path + ".email", "missing or not an email address"}
	case !hasDir(u.DirectoryID):
		return &SeedError{path + ".directory_id", "missing or no directory " + strconv.Quote(u.DirectoryID)}
	case u.State != "" && !slices.Contains(directoryUserStates, u.State):
		return &SeedError{path + ".state", strconv.Quote(u.State) + " is not one of " + strings.Join(directoryUserStates, ", ")}
	}
	return nil
}

// strictDecode decodes one JSON value with no unknown fields and nothing
// after it.
func strictDecode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// seedError turns a decoding error into a SeedError at path, or below it
// for a field of the wrong type.
func seedError(path string, err error) *SeedError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &SeedError{path + "." + typeErr.Field, "is a JSON " + typeErr.Value + ", want a " + typeErr.Type.String()}
	case errors.As(err, &typeErr):
		return &SeedError{path, "is a JSON " + typeErr.Value + ", want an object"}
	case errors.As(err, &syntaxErr):
		return &SeedError{path, fmt.Sprintf("malformed JSON at byte %d: %v", syntaxErr.Offset, err)}
	}
	return &SeedError{path, strings.TrimPrefix(err.Error(), "json: ")}
}

// checkID checks that id is prefix followed by letters, digits, '_' or '-'.
func checkID(path, id, prefix string) error {
	if !strings.HasPrefix(id, prefix) || len(id) == len(prefix) || len(id) > 128 {
		return &SeedError{path, "missing or not an id of the form " + prefix + "..."}
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return &SeedError{path, strconv.Quote(id) + " has a character other than letters, digits, _ and -"}
		}
	}
	return nil
}

// checkDomains checks that each domain looks like a DNS name.
func checkDomains(path string, domains []string) error {
	for i, d := range domains {
		if d == "" || strings.ContainsAny(d, " @/:") || !strings.Contains(d, ".") {
			return &SeedError{fmt.Sprintf("%s[%d]", path, i), strconv.Quote(d) + " is not a domain such as acme.com"}
		}
	}
	return nil
}

// validEmail reports whether s has the shape name@domain.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " <>") && !strings.Contains(domain, "@")
}

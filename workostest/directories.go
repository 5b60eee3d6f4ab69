package workostest

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ids of [DefaultSeed]'s directories.
const (
	// AcmeDirectoryID is Acme's Okta SCIM directory. Its users (alice and
	// bob) have the IdP ids of their SSO profiles, as when one IdP does
	// both.
	AcmeDirectoryID = "directory_acme"
	// GlobexDirectoryID is Globex's Azure SCIM directory. Its user hank
	// has an IdP id other than his SSO profile's, and his email in other
	// letter case, as when SSO and provisioning come from two systems.
	GlobexDirectoryID = "directory_globex"
	// GlobexDirectoryIdPID is hank's id in the Globex directory.
	GlobexDirectoryIdPID = "azure-7f3c9d21-hank"
)

// Directory is a Directory Sync directory of an organization.
type Directory struct {
	// ID is the directory id, such as "directory_acme". Required.
	ID string
	// OrganizationID is the organization the directory belongs to. Required.
	OrganizationID string
	// Name is the display name. Default: the organization's name.
	Name string
	// Type is the directory type, such as "okta scim v2.0". Default
	// "generic scim v2.0".
	Type string
	// CreatedAt orders the directory list. Default: the server clock.
	CreatedAt time.Time
}

// DirectoryUser is a user a directory provisions.
type DirectoryUser struct {
	// DirectoryID is the user's directory. Required.
	DirectoryID string
	// Email is the user's primary email. Required.
	Email string
	// FirstName and LastName are null when empty.
	FirstName, LastName string
	// IdPID is the user's id at the directory provider. Default: the IdP
	// id of the user's SSO profile on a connection of the same
	// organization with this email, if there is one, else one derived from
	// the directory and email.
	IdPID string
	// State is "active" (the default) or "inactive".
	State string
	// Groups are the names of the user's directory groups.
	Groups []string
	// CustomAttributes are the user's custom_attributes.
	CustomAttributes map[string]any
}

// DirectoryUserID returns the id the server gives the directory user with
// this email in this directory. It is stable across runs.
func DirectoryUserID(directoryID, email string) string {
	return "directory_user_" + stableID("directory_user", directoryID, strings.ToLower(email))
}

// directoryUserStates are the states of a directory user. WorkOS merged
// "suspended" into "inactive" and no longer sends it.
var directoryUserStates = []string{"active", "inactive"}

type directory struct {
	Directory
	UpdatedAt time.Time
}

type directoryUser struct {
	DirectoryUser
	ID                   string
	CreatedAt, UpdatedAt time.Time
}

// defaultDirectories are the directories of [DefaultSeed].
func defaultDirectories() ([]Directory, []DirectoryUser) {
	return []Directory{
			{ID: AcmeDirectoryID, OrganizationID: AcmeOrganizationID, Name: "Acme Okta SCIM", Type: "okta scim v2.0", CreatedAt: seedEpoch},
			{ID: GlobexDirectoryID, OrganizationID: GlobexOrganizationID, Name: "Globex Azure SCIM", Type: "azure scim v2.0", CreatedAt: seedEpoch.Add(time.Hour)},
		}, []DirectoryUser{
			{DirectoryID: AcmeDirectoryID, Email: AliceEmail, FirstName: "Alice", LastName: "Anderson", Groups: []string{"engineering", "admins"}},
			{DirectoryID: AcmeDirectoryID, Email: BobEmail, FirstName: "Bob", LastName: "Baker", Groups: []string{"engineering"}},
			{DirectoryID: GlobexDirectoryID, Email: "Hank@Globex.com", FirstName: "Hank", LastName: "Scorpio",
				IdPID: GlobexDirectoryIdPID, Groups: []string{"executives"}},
		}
}

// AddDirectory adds a directory. It fails if the id is empty or taken, or
// the organization does not exist. Adding one sends no event.
func (s *Server) AddDirectory(d Directory) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addDirectoryLocked(d)
}

func (s *Server) addDirectoryLocked(d Directory) error {
	if d.ID == "" {
		return errorf("directory id is empty")
	}
	if _, ok := s.dirs[d.ID]; ok {
		return errorf("directory %q already exists", d.ID)
	}
	org := s.orgs[d.OrganizationID]
	if org == nil {
		return errorf("directory %q: organization %q does not exist", d.ID, d.OrganizationID)
	}
	d.Name = cmp.Or(d.Name, org.Name)
	d.Type = cmp.Or(d.Type, "generic scim v2.0")
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.nowLocked()
	}
	d.CreatedAt = d.CreatedAt.Round(0)
	s.dirs[d.ID] = &directory{Directory: d, UpdatedAt: d.CreatedAt}
	s.dirOrder = append(s.dirOrder, d.ID)
	return nil
}

// AddDirectoryUser adds a user to a directory and, once the server has
// started, sends dsync.user.created. It fails if the directory does not
// exist, the email is empty or already in the directory, or the state is
// unknown.
func (s *Server) AddDirectoryUser(u DirectoryUser) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	du, err := s.addDirectoryUserLocked(u)
	if err != nil {
		return err
	}
	s.emitLocked("dsync.user.created", s.directoryUserJSONOf(du))
	return nil
}

func (s *Server) addDirectoryUserLocked(u DirectoryUser) (*directoryUser, error) {
	d := s.dirs[u.DirectoryID]
	switch {
	case d == nil:
		return nil, errorf("directory user %q: directory %q does not exist", u.Email, u.DirectoryID)
	case u.Email == "":
		return nil, errorf("directory user email is empty")
	case s.findDirectoryUserLocked(DirectoryUserID(u.DirectoryID, u.Email)) != nil:
		return nil, errorf("directory user %q already exists in %q", u.Email, u.DirectoryID)
	}
	u.State = cmp.Or(u.State, "active")
	if !slices.Contains(directoryUserStates, u.State) {
		return nil, errorf("directory user state %q is not one of %s", u.State, strings.Join(directoryUserStates, ", "))
	}
	if u.IdPID == "" {
		u.IdPID = strings.ToLower(stableID("directory_idp", u.DirectoryID, strings.ToLower(u.Email)))
		for _, su := range s.users {
			if c := s.conns[su.ConnectionID]; c != nil && c.OrganizationID == d.OrganizationID && strings.EqualFold(su.Email, u.Email) {
				u.IdPID = su.IdPID
				break
			}
		}
	}
	u.Groups = slices.Clone(u.Groups)
	u.CustomAttributes = maps.Clone(u.CustomAttributes)
	now := s.nowLocked().Round(0)
	du := &directoryUser{DirectoryUser: u, ID: DirectoryUserID(u.DirectoryID, u.Email), CreatedAt: now, UpdatedAt: now}
	s.dirUsers = append(s.dirUsers, du)
	return du, nil
}

func (s *Server) findDirectoryUserLocked(id string) *directoryUser {
	for _, u := range s.dirUsers {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// SetDirectoryUserState sets a directory user's state ("active" or
// "inactive") and sends dsync.user.updated with the previous state, as
// WorkOS does under its custom user-state flow. Under the default flow
// WorkOS deletes a user who becomes inactive: use
// [Server.DeleteDirectoryUser] for that.
func (s *Server) SetDirectoryUserState(id, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findDirectoryUserLocked(id)
	if u == nil {
		return errorf("directory user %q does not exist", id)
	}
	if !slices.Contains(directoryUserStates, state) {
		return errorf("directory user state %q is not one of %s", state, strings.Join(directoryUserStates, ", "))
	}
	if u.State == state {
		return nil
	}
	old := u.State
	u.State, u.UpdatedAt = state, s.nowLocked().Round(0)
	s.emitLocked("dsync.user.updated", directoryUserUpdateJSON{s.directoryUserJSONOf(u), map[string]any{"state": old}})
	return nil
}

// DeleteDirectoryUser removes a user from its directory and sends
// dsync.user.deleted with the user's last state.
func (s *Server) DeleteDirectoryUser(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findDirectoryUserLocked(id)
	if u == nil {
		return errorf("directory user %q does not exist", id)
	}
	s.dirUsers = slices.DeleteFunc(s.dirUsers, func(x *directoryUser) bool { return x == u })
	u.UpdatedAt = s.nowLocked().Round(0)
	s.emitLocked("dsync.user.deleted", s.directoryUserJSONOf(u))
	return nil
}

// DeleteDirectory deletes a directory with its users and groups, and sends
// one dsync.deleted event and no per-user events, as WorkOS does.
func (s *Server) DeleteDirectory(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.deleteDirectoryLocked(id) {
		return errorf("directory %q does not exist", id)
	}
	return nil
}

func (s *Server) deleteDirectoryLocked(id string) bool {
	d := s.dirs[id]
	if d == nil {
		return false
	}
	delete(s.dirs, id)
	s.dirOrder = slices.DeleteFunc(s.dirOrder, func(x string) bool { return x == id })
	s.dirUsers = slices.DeleteFunc(s.dirUsers, func(u *directoryUser) bool { return u.DirectoryID == id })
	d.UpdatedAt = s.nowLocked().Round(0)
	s.emitLocked("dsync.deleted", directoryEventJSON{
		Object: "directory", ID: d.ID, OrganizationID: d.OrganizationID, Type: d.Type, State: "deleting",
		Name: d.Name, CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
	})
	return true
}

// The wire forms of directories, their users and groups, as WorkOS's
// OpenAPI spec has them.
type directoryJSON struct {
	Object         string `json:"object"`
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	ExternalKey    string `json:"external_key"`
	Type           string `json:"type"`
	State          string `json:"state"`
	Name           string `json:"name"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

// directoryEventJSON is a directory as dsync.deleted carries it: without
// external_key or domains, in the state it was deleted in.
type directoryEventJSON struct {
	Object         string `json:"object"`
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Type           string `json:"type"`
	State          string `json:"state"`
	Name           string `json:"name"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

type directoryUserJSON struct {
	Object           string         `json:"object"`
	ID               string         `json:"id"`
	DirectoryID      string         `json:"directory_id"`
	OrganizationID   string         `json:"organization_id"`
	IdPID            string         `json:"idp_id"`
	Email            *string        `json:"email"`
	FirstName        *string        `json:"first_name"`
	LastName         *string        `json:"last_name"`
	Emails           []emailJSON    `json:"emails"`
	State            string         `json:"state"`
	RawAttributes    map[string]any `json:"raw_attributes"`
	CustomAttributes map[string]any `json:"custom_attributes"`
	CreatedAt        string         `json:"created_at"`
	UpdatedAt        string         `json:"updated_at"`
}

type emailJSON struct {
	Primary bool   `json:"primary"`
	Type    string `json:"type"`
	Value   string `json:"value"`
}

// directoryUserWithGroupsJSON is a directory user as the Directory Sync
// API answers it, with the user's groups.
type directoryUserWithGroupsJSON struct {
	directoryUserJSON
	Groups []directoryGroupJSON `json:"groups"`
}

// directoryUserUpdateJSON is a directory user as dsync.user.updated
// carries it, with the fields that changed as they were before.
type directoryUserUpdateJSON struct {
	directoryUserJSON
	PreviousAttributes map[string]any `json:"previous_attributes"`
}

type directoryGroupJSON struct {
	Object         string `json:"object"`
	ID             string `json:"id"`
	IdPID          string `json:"idp_id"`
	DirectoryID    string `json:"directory_id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

type listJSON[T any] struct {
	Object       string           `json:"object"`
	Data         []T              `json:"data"`
	ListMetadata listMetadataJSON `json:"list_metadata"`
}

func directoryJSONOf(d *directory) directoryJSON {
	return directoryJSON{
		Object: "directory", ID: d.ID, OrganizationID: d.OrganizationID,
		ExternalKey: stableID("external_key", d.ID), Type: d.Type, State: "linked", Name: d.Name,
		CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
	}
}

func (s *Server) directoryUserJSONOf(u *directoryUser) directoryUserJSON {
	var orgID string
	if d := s.dirs[u.DirectoryID]; d != nil {
		orgID = d.OrganizationID
	}
	attrs := maps.Clone(u.CustomAttributes)
	if attrs == nil {
		attrs = map[string]any{}
	}
	return directoryUserJSON{
		Object: "directory_user", ID: u.ID, DirectoryID: u.DirectoryID, OrganizationID: orgID,
		IdPID: u.IdPID, Email: nullable(u.Email), FirstName: nullable(u.FirstName), LastName: nullable(u.LastName),
		Emails: []emailJSON{{Primary: true, Type: "work", Value: u.Email}},
		State:  u.State, RawAttributes: map[string]any{}, CustomAttributes: attrs,
		CreatedAt: formatTime(u.CreatedAt), UpdatedAt: formatTime(u.UpdatedAt),
	}
}

// withGroupsLocked returns u with its groups.
func (s *Server) withGroupsLocked(u *directoryUser) directoryUserWithGroupsJSON {
	out := directoryUserWithGroupsJSON{directoryUserJSON: s.directoryUserJSONOf(u), Groups: []directoryGroupJSON{}}
	if d := s.dirs[u.DirectoryID]; d != nil {
		for _, g := range s.directoryGroupsLocked(d) {
			if slices.Contains(u.Groups, g.Name) {
				out.Groups = append(out.Groups, g)
			}
		}
	}
	return out
}

// directoryGroups returns the groups of a directory, one per group name of
// its users, in the order they first appear.
func (s *Server) directoryGroupsLocked(d *directory) []directoryGroupJSON {
	var names []string
	for _, u := range s.dirUsers {
		if u.DirectoryID != d.ID {
			continue
		}
		for _, g := range u.Groups {
			if !slices.Contains(names, g) {
				names = append(names, g)
			}
		}
	}
	out := make([]directoryGroupJSON, 0, len(names))
	for _, n := range names {
		out = append(out, directoryGroupJSON{
			Object: "directory_group", ID: directoryGroupID(d.ID, n), IdPID: stableID("group_idp", d.ID, n),
			DirectoryID: d.ID, OrganizationID: d.OrganizationID, Name: n,
			CreatedAt: formatTime(d.CreatedAt), UpdatedAt: formatTime(d.UpdatedAt),
		})
	}
	return out
}

func directoryGroupID(directoryID, name string) string {
	return "directory_group_" + stableID("directory_group", directoryID, name)
}

func (s *Server) listDirectories(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	orgID, search := q.Get("organization_id"), strings.ToLower(q.Get("search"))
	s.mu.Lock()
	var all []directoryJSON
	for _, id := range s.dirOrder {
		d := s.dirs[id]
		if orgID != "" && d.OrganizationID != orgID || search != "" && !strings.Contains(strings.ToLower(d.Name), search) {
			continue
		}
		all = append(all, directoryJSONOf(d))
	}
	s.mu.Unlock()
	writePage(w, q, all, func(d directoryJSON) string { return d.ID })
}

func (s *Server) getDirectory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	d := s.dirs[id]
	var out directoryJSON
	if d != nil {
		out = directoryJSONOf(d)
	}
	s.mu.Unlock()
	if d == nil {
		notFound(w, "Directory", id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteDirectory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	ok := s.deleteDirectoryLocked(id)
	s.mu.Unlock()
	if !ok {
		notFound(w, "Directory", id)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// listDirectoryUsers serves GET /directory_users: directory or group is
// required; idp_id and email filter only with directory, as the spec says.
func (s *Server) listDirectoryUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dirID, group := q.Get("directory"), q.Get("group")
	idpID, email := q.Get("idp_id"), q.Get("email")
	switch {
	case dirID == "" && group == "":
		validationFailed(w, []fieldErrorJSON{{Field: "directory", Code: "directory or group is required"}})
		return
	case dirID == "" && (idpID != "" || email != ""):
		validationFailed(w, []fieldErrorJSON{{Field: "directory", Code: "idp_id and email filter only with directory"}})
		return
	}
	s.mu.Lock()
	if dirID != "" && s.dirs[dirID] == nil {
		s.mu.Unlock()
		notFound(w, "Directory", dirID)
		return
	}
	var all []directoryUserWithGroupsJSON
	for _, u := range s.dirUsers {
		switch {
		case dirID != "" && u.DirectoryID != dirID,
			group != "" && !slices.ContainsFunc(u.Groups, func(g string) bool { return directoryGroupID(u.DirectoryID, g) == group }),
			idpID != "" && u.IdPID != idpID,
			email != "" && !strings.EqualFold(u.Email, email):
			continue
		}
		all = append(all, s.withGroupsLocked(u))
	}
	s.mu.Unlock()
	writePage(w, q, all, func(u directoryUserWithGroupsJSON) string { return u.ID })
}

func (s *Server) getDirectoryUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	u := s.findDirectoryUserLocked(id)
	var out directoryUserWithGroupsJSON
	if u != nil {
		out = s.withGroupsLocked(u)
	}
	s.mu.Unlock()
	if u == nil {
		notFound(w, "Directory user", id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// listDirectoryGroups serves GET /directory_groups: directory or user is
// required.
func (s *Server) listDirectoryGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dirID, userID := q.Get("directory"), q.Get("user")
	if dirID == "" && userID == "" {
		validationFailed(w, []fieldErrorJSON{{Field: "directory", Code: "directory or user is required"}})
		return
	}
	s.mu.Lock()
	var all []directoryGroupJSON
	var user *directoryUser
	if userID != "" {
		if user = s.findDirectoryUserLocked(userID); user == nil {
			s.mu.Unlock()
			notFound(w, "Directory user", userID)
			return
		}
	}
	for _, id := range s.dirOrder {
		d := s.dirs[id]
		if dirID != "" && id != dirID || user != nil && user.DirectoryID != id {
			continue
		}
		for _, g := range s.directoryGroupsLocked(d) {
			if user == nil || slices.Contains(user.Groups, g.Name) {
				all = append(all, g)
			}
		}
	}
	s.mu.Unlock()
	writePage(w, q, all, func(g directoryGroupJSON) string { return g.ID })
}

func (s *Server) getDirectoryGroup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	var out *directoryGroupJSON
	for _, dirID := range s.dirOrder {
		for _, g := range s.directoryGroupsLocked(s.dirs[dirID]) {
			if g.ID == id {
				out = &g
			}
		}
	}
	s.mu.Unlock()
	if out == nil {
		notFound(w, "Directory group", id)
		return
	}
	writeJSON(w, http.StatusOK, *out)
}

// writePage answers one page of all (in creation order), as WorkOS's list
// endpoints do: limit 1 to 100 (default 10); order desc (the default) and
// normal list the newest first, asc the oldest; before and after are
// object ids, and under normal before fetches older records and after
// newer ones.
func writePage[T any](w http.ResponseWriter, q map[string][]string, all []T, id func(T) string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var errs []fieldErrorJSON
	limit := 10
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fieldErrorJSON{Field: "limit", Code: "limit must be between 1 and 100"})
		}
		limit = n
	}
	order := cmp.Or(get("order"), "desc")
	if !slices.Contains([]string{"desc", "asc", "normal"}, order) {
		errs = append(errs, fieldErrorJSON{Field: "order", Code: "order must be one of normal, desc, asc"})
	}
	if get("before") != "" && get("after") != "" {
		errs = append(errs, fieldErrorJSON{Field: "before", Code: "before and after cannot both be set"})
	}
	if len(errs) > 0 {
		validationFailed(w, errs)
		return
	}
	if order != "asc" {
		slices.Reverse(all)
	}
	onField, backField := "after", "before"
	if order == "normal" {
		onField, backField = "before", "after"
	}
	index := func(field, v string) (int, bool) {
		i := slices.IndexFunc(all, func(x T) bool { return id(x) == v })
		if i < 0 {
			validationFailed(w, []fieldErrorJSON{{Field: field, Code: field + " must be the id of an object in the list"}})
		}
		return i, i >= 0
	}
	lo, hi := 0, min(limit, len(all))
	if v := get(onField); v != "" {
		i, ok := index(onField, v)
		if !ok {
			return
		}
		lo, hi = i+1, min(i+1+limit, len(all))
	} else if v := get(backField); v != "" {
		i, ok := index(backField, v)
		if !ok {
			return
		}
		lo, hi = max(i-limit, 0), i
	}
	out := listJSON[T]{Object: "list", Data: append([]T{}, all[lo:hi]...)}
	var back, on *string
	if lo > 0 && lo < hi {
		v := id(all[lo])
		back = &v
	}
	if hi < len(all) && lo < hi {
		v := id(all[hi-1])
		on = &v
	}
	out.ListMetadata.Before, out.ListMetadata.After = back, on
	if order == "normal" {
		out.ListMetadata.Before, out.ListMetadata.After = on, back
	}
	writeJSON(w, http.StatusOK, out)
}

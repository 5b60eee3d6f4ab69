package workos

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DirectoryState is the state of a directory. Unknown states may appear.
type DirectoryState string

// The directory states of the Directory Sync API. (Events about a
// directory, such as dsync.activated, spell them differently: "active"
// and "inactive" for linked and unlinked.)
const (
	DirectoryLinked             DirectoryState = "linked"
	DirectoryValidating         DirectoryState = "validating"
	DirectoryInvalidCredentials DirectoryState = "invalid_credentials"
	DirectoryUnlinked           DirectoryState = "unlinked"
	DirectoryDeleting           DirectoryState = "deleting"
)

// Directory is an organization's user directory, synced from its identity
// provider or HR system.
type Directory struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	ExternalKey    string `json:"external_key"`
	// Type is the directory's provider, such as "okta scim v2.0".
	Type      string         `json:"type"`
	State     DirectoryState `json:"state"`
	Name      string         `json:"name"`
	Domain    string         `json:"domain,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// DirectoryUserState is the state of a directory user. Unknown states may
// appear and must be treated as not active.
type DirectoryUserState string

// The directory user states.
const (
	DirectoryUserActive   DirectoryUserState = "active"
	DirectoryUserInactive DirectoryUserState = "inactive"
	// DirectoryUserSuspended is deprecated: WorkOS reports inactive
	// instead since December 2023.
	DirectoryUserSuspended DirectoryUserState = "suspended"
)

// DirectoryUser is a person in a directory. IdPID and Email are not
// guaranteed to equal those of the same person's SSO [Profile]: WorkOS
// advises matching within the organization on the IdP id first and on the
// case-folded email second.
type DirectoryUser struct {
	ID             string `json:"id"`
	DirectoryID    string `json:"directory_id"`
	OrganizationID string `json:"organization_id"`
	// IdPID is the user's id at the directory provider.
	IdPID string `json:"idp_id"`
	// Email is the primary email address; WorkOS may send none.
	Email     string               `json:"email"`
	Emails    []DirectoryUserEmail `json:"emails,omitempty"`
	FirstName string               `json:"first_name"`
	LastName  string               `json:"last_name"`
	Username  string               `json:"username"`
	JobTitle  string               `json:"job_title"`
	State     DirectoryUserState   `json:"state"`
	// CustomAttributes and RawAttributes are the attributes as WorkOS
	// sends them, mapped and unmapped.
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
	RawAttributes    json.RawMessage `json:"raw_attributes,omitempty"`
	// Groups is set by GetDirectoryUser and ListDirectoryUsers.
	Groups    []DirectoryGroup `json:"groups,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// Active reports whether the user is active in the directory.
func (u *DirectoryUser) Active() bool { return u.State == DirectoryUserActive }

// DirectoryUserEmail is one of a directory user's email addresses.
type DirectoryUserEmail struct {
	Primary bool   `json:"primary"`
	Type    string `json:"type,omitempty"`
	Value   string `json:"value"`
}

// DirectoryGroup is a group of directory users.
type DirectoryGroup struct {
	ID             string    `json:"id"`
	IdPID          string    `json:"idp_id"`
	DirectoryID    string    `json:"directory_id"`
	OrganizationID string    `json:"organization_id"`
	Name           string    `json:"name"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// DirectoryList, DirectoryUserList and DirectoryGroupList are pages of a
// listing.
type (
	DirectoryList struct {
		Data         []Directory  `json:"data"`
		ListMetadata ListMetadata `json:"list_metadata"`
	}
	DirectoryUserList struct {
		Data         []DirectoryUser `json:"data"`
		ListMetadata ListMetadata    `json:"list_metadata"`
	}
	DirectoryGroupList struct {
		Data         []DirectoryGroup `json:"data"`
		ListMetadata ListMetadata     `json:"list_metadata"`
	}
)

// Page selects one page of a listing: its size (1 to 100, or 0 for
// WorkOS's default of 10), its cursors (object ids) and its order.
type Page struct {
	Limit  int
	Before string
	After  string
	Order  Order
}

// query checks p and adds it to q.
func (p Page) query(q url.Values) error {
	if p.Limit < 0 || p.Limit > 100 {
		return invalidOptions("Limit must be between 1 and 100, or 0 for the default")
	}
	switch p.Order {
	case "", OrderNormal, OrderAsc, OrderDesc:
	default:
		return invalidOptions("Order must be normal, asc or desc")
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	setNonEmpty(q, "before", p.Before)
	setNonEmpty(q, "after", p.After)
	setNonEmpty(q, "order", string(p.Order))
	return nil
}

func setNonEmpty(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

// ListDirectoriesOptions filter and page a directory listing. Zero values
// are not sent.
type ListDirectoriesOptions struct {
	OrganizationID string
	Search         string
	Page
}

// ListDirectoryUsersOptions filter and page a listing of directory users:
// Directory or Group is required; IdPID and Email narrow a listing of a
// Directory.
type ListDirectoryUsersOptions struct {
	Directory string
	Group     string
	IdPID     string
	Email     string
	Page
}

// ListDirectoryGroupsOptions filter and page a listing of directory groups:
// Directory or User is required.
type ListDirectoryGroupsOptions struct {
	Directory string
	User      string
	Page
}

// objectPath returns collection/id, or an error if id cannot be one.
func objectPath(collection, what, id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", invalidOptions("a %s id is required", what)
	}
	return "/" + collection + "/" + url.PathEscape(id), nil
}

// get fetches one object of a collection by id into out.
func (c *Client) get(ctx context.Context, collection, what, id string, out any) error {
	path, err := objectPath(collection, what, id)
	if err != nil {
		return err
	}
	return c.do(ctx, &call{route: "GET /" + collection + "/{id}", method: http.MethodGet, path: path}, out)
}

// list fetches a page of a collection into out.
func (c *Client) list(ctx context.Context, collection string, q url.Values, p Page, out any) error {
	if err := p.query(q); err != nil {
		return err
	}
	return c.do(ctx, &call{route: "GET /" + collection, method: http.MethodGet, path: "/" + collection, query: q}, out)
}

// GetDirectory returns the directory with the given id
// (GET /directories/{id}). An unknown id answers an [*APIError] matching
// [ErrNotFound].
func (c *Client) GetDirectory(ctx context.Context, id string) (*Directory, error) {
	var d Directory
	if err := c.get(ctx, "directories", "directory", id, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ListDirectories returns one page of directories (GET /directories). Use
// [All] to walk every page.
func (c *Client) ListDirectories(ctx context.Context, opts ListDirectoriesOptions) (*DirectoryList, error) {
	q := url.Values{}
	setNonEmpty(q, "organization_id", opts.OrganizationID)
	setNonEmpty(q, "search", opts.Search)
	var l DirectoryList
	if err := c.list(ctx, "directories", q, opts.Page, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// DeleteDirectory deletes a directory (DELETE /directories/{id}). WorkOS
// then sends one dsync.deleted event and no event per user or group.
func (c *Client) DeleteDirectory(ctx context.Context, id string) error {
	path, err := objectPath("directories", "directory", id)
	if err != nil {
		return err
	}
	return c.do(ctx, &call{route: "DELETE /directories/{id}", method: http.MethodDelete, path: path}, nil)
}

// GetDirectoryUser returns the directory user with the given id
// (GET /directory_users/{id}), with its groups.
func (c *Client) GetDirectoryUser(ctx context.Context, id string) (*DirectoryUser, error) {
	var u DirectoryUser
	if err := c.get(ctx, "directory_users", "directory user", id, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListDirectoryUsers returns one page of directory users
// (GET /directory_users), each with its groups.
func (c *Client) ListDirectoryUsers(ctx context.Context, opts ListDirectoryUsersOptions) (*DirectoryUserList, error) {
	switch {
	case opts.Directory == "" && opts.Group == "":
		return nil, invalidOptions("Directory or Group is required")
	case opts.Directory == "" && (opts.IdPID != "" || opts.Email != ""):
		return nil, invalidOptions("IdPID and Email need Directory")
	}
	q := url.Values{}
	setNonEmpty(q, "directory", opts.Directory)
	setNonEmpty(q, "group", opts.Group)
	setNonEmpty(q, "idp_id", opts.IdPID)
	setNonEmpty(q, "email", opts.Email)
	var l DirectoryUserList
	if err := c.list(ctx, "directory_users", q, opts.Page, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// GetDirectoryGroup returns the directory group with the given id
// (GET /directory_groups/{id}).
func (c *Client) GetDirectoryGroup(ctx context.Context, id string) (*DirectoryGroup, error) {
	var g DirectoryGroup
	if err := c.get(ctx, "directory_groups", "directory group", id, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// ListDirectoryGroups returns one page of directory groups
// (GET /directory_groups).
func (c *Client) ListDirectoryGroups(ctx context.Context, opts ListDirectoryGroupsOptions) (*DirectoryGroupList, error) {
	if opts.Directory == "" && opts.User == "" {
		return nil, invalidOptions("Directory or User is required")
	}
	q := url.Values{}
	setNonEmpty(q, "directory", opts.Directory)
	setNonEmpty(q, "user", opts.User)
	var l DirectoryGroupList
	if err := c.list(ctx, "directory_groups", q, opts.Page, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// AllDirectories walks every directory that opts selects, page by page:
// see [All].
func (c *Client) AllDirectories(ctx context.Context, opts ListDirectoriesOptions) iter.Seq2[Directory, error] {
	return All(opts.Page, func(p Page) ([]Directory, ListMetadata, error) {
		opts.Page = p
		l, err := c.ListDirectories(ctx, opts)
		if err != nil {
			return nil, ListMetadata{}, err
		}
		return l.Data, l.ListMetadata, nil
	})
}

// AllDirectoryUsers walks every directory user that opts selects, page by
// page: see [All].
func (c *Client) AllDirectoryUsers(ctx context.Context, opts ListDirectoryUsersOptions) iter.Seq2[DirectoryUser, error] {
	return All(opts.Page, func(p Page) ([]DirectoryUser, ListMetadata, error) {
		opts.Page = p
		l, err := c.ListDirectoryUsers(ctx, opts)
		if err != nil {
			return nil, ListMetadata{}, err
		}
		return l.Data, l.ListMetadata, nil
	})
}

// AllDirectoryGroups walks every directory group that opts selects, page
// by page: see [All].
func (c *Client) AllDirectoryGroups(ctx context.Context, opts ListDirectoryGroupsOptions) iter.Seq2[DirectoryGroup, error] {
	return All(opts.Page, func(p Page) ([]DirectoryGroup, ListMetadata, error) {
		opts.Page = p
		l, err := c.ListDirectoryGroups(ctx, opts)
		if err != nil {
			return nil, ListMetadata{}, err
		}
		return l.Data, l.ListMetadata, nil
	})
}

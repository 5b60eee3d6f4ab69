package workos

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// ConnectionState is the lifecycle state of a connection. Unknown states may
// appear and must be treated as not active.
type ConnectionState string

// The connection states WorkOS reports.
const (
	ConnectionRequiresType ConnectionState = "requires_type"
	ConnectionDraft        ConnectionState = "draft"
	ConnectionActive       ConnectionState = "active"
	ConnectionValidating   ConnectionState = "validating"
	ConnectionInactive     ConnectionState = "inactive"
	ConnectionDeleting     ConnectionState = "deleting"
)

// Connection is a configured way to sign in: a SAML or OIDC identity
// provider of an organization, or an OAuth provider.
type Connection struct {
	ID             string             `json:"id"`
	OrganizationID string             `json:"organization_id,omitempty"`
	ConnectionType ConnectionType     `json:"connection_type"`
	Name           string             `json:"name"`
	State          ConnectionState    `json:"state"`
	Domains        []ConnectionDomain `json:"domains"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

// Active reports whether users can sign in through the connection.
func (c *Connection) Active() bool { return c.State == ConnectionActive }

// ConnectionDomain is an email domain routed to a connection.
type ConnectionDomain struct {
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

// ConnectionList is one page of connections.
type ConnectionList struct {
	Data         []Connection `json:"data"`
	ListMetadata ListMetadata `json:"list_metadata"`
}

// ListMetadata holds the cursors of a page: object ids, to pass as
// ListConnectionsOptions.Before or After for the page beside it. The one
// toward the end of the list is "" on the last page.
type ListMetadata struct {
	Before string `json:"before"`
	After  string `json:"after"`
}

// Order is the sort order of a list.
type Order string

// The orders WorkOS accepts. The default is [OrderDesc].
const (
	OrderNormal Order = "normal"
	OrderAsc    Order = "asc"
	OrderDesc   Order = "desc"
)

// ListConnectionsOptions filter and page a connection listing. Zero values
// are not sent.
type ListConnectionsOptions struct {
	ConnectionType ConnectionType
	Domain         string
	OrganizationID string
	Search         string
	// Limit is the page size, 1 to 100; WorkOS defaults to 10.
	Limit  int
	Before string
	After  string
	Order  Order
}

// connectionPath returns the path of a connection, or an error if id cannot be one.
func connectionPath(id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", invalidOptions("a connection id is required")
	}
	return "/connections/" + url.PathEscape(id), nil
}

// GetConnection returns the connection with the given id (GET /connections/{id}).
// An unknown id answers an [*APIError] matching [ErrNotFound].
func (c *Client) GetConnection(ctx context.Context, id string) (*Connection, error) {
	path, err := connectionPath(id)
	if err != nil {
		return nil, err
	}
	var conn Connection
	if err := c.do(ctx, &call{route: "GET /connections/{id}", method: http.MethodGet, path: path}, &conn); err != nil {
		return nil, err
	}
	return &conn, nil
}

// wireConnectionType is the spelling of t in the connection_type filter of
// GET /connections, which differs from the type's own name for GitHub.
func wireConnectionType(t ConnectionType) string {
	if t == ConnectionTypeGitHubOAuth {
		return "GithubOAuth"
	}
	return string(t)
}

// ListConnections returns one page of connections (GET /connections). Use
// [AllConnections] to walk every page. Limit must be 0 (WorkOS's default
// of 10) or 1 to 100.
func (c *Client) ListConnections(ctx context.Context, opts ListConnectionsOptions) (*ConnectionList, error) {
	if opts.Limit < 0 || opts.Limit > 100 {
		return nil, invalidOptions("Limit must be between 1 and 100, or 0 for the default")
	}
	switch opts.Order {
	case "", OrderNormal, OrderAsc, OrderDesc:
	default:
		return nil, invalidOptions("Order must be normal, asc or desc")
	}
	q := url.Values{}
	set := func(key, value string) {
		if value != "" {
			q.Set(key, value)
		}
	}
	set("connection_type", wireConnectionType(opts.ConnectionType))
	set("domain", opts.Domain)
	set("organization_id", opts.OrganizationID)
	set("search", opts.Search)
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	set("before", opts.Before)
	set("after", opts.After)
	set("order", string(opts.Order))
	var list ConnectionList
	if err := c.do(ctx, &call{route: "GET /connections", method: http.MethodGet, path: "/connections", query: q}, &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// DeleteConnection deletes the connection with the given id
// (DELETE /connections/{id}). If a retry follows a failure after which the
// deletion did happen, the retry answers an [*APIError] matching [ErrNotFound].
func (c *Client) DeleteConnection(ctx context.Context, id string) error {
	path, err := connectionPath(id)
	if err != nil {
		return err
	}
	return c.do(ctx, &call{route: "DELETE /connections/{id}", method: http.MethodDelete, path: path}, nil)
}

// AllConnections walks every page of a connection listing made by list
// (usually a [Client]'s ListConnections method), as [All] does.
func AllConnections(ctx context.Context, list func(context.Context, ListConnectionsOptions) (*ConnectionList, error), opts ListConnectionsOptions) iter.Seq2[Connection, error] {
	first := Page{Limit: opts.Limit, Before: opts.Before, After: opts.After, Order: opts.Order}
	return All(first, func(p Page) ([]Connection, ListMetadata, error) {
		opts.Limit, opts.Before, opts.After, opts.Order = p.Limit, p.Before, p.After, p.Order
		l, err := list(ctx, opts)
		if err != nil {
			return nil, ListMetadata{}, err
		}
		return l.Data, l.ListMetadata, nil
	})
}

// All walks every page of a listing, fetching each with fetch, starting
// at first.After and following each page's ListMetadata.After until it is
// empty (first.Before is ignored). With [OrderNormal], which WorkOS's spec
// lists newest first but pages the other way (before fetches older
// records, after newer ones), it starts at first.Before and follows
// ListMetadata.Before instead (first.After is ignored), so that it too
// walks from the newest to the oldest. The first error is yielded once,
// with a zero T, and ends the walk; so does a consumer that stops ranging,
// and a cursor that does not move.
func All[T any](first Page, fetch func(Page) ([]T, ListMetadata, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		p := first
		normal := p.Order == OrderNormal
		cursor := &p.After
		if normal {
			p.After, cursor = "", &p.Before
		} else {
			p.Before = ""
		}
		for {
			items, meta, err := fetch(p)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			next := meta.After
			if normal {
				next = meta.Before
			}
			if next == "" {
				return
			}
			if next == *cursor {
				// A cursor that does not move would loop for ever.
				yield(zero, errors.New("workos: list cursor did not advance"))
				return
			}
			*cursor = next
		}
	}
}

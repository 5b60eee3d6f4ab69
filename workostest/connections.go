package workostest

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// connectionJSON is a connection on the wire without its domains, as in a
// connection.deleted event. The emulator keeps its own wire types so that a
// field-name mistake in a client cannot hide behind the same mistake here.
type connectionJSON struct {
	Object         string `json:"object"`
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id,omitempty"`
	ConnectionType string `json:"connection_type"`
	Name           string `json:"name"`
	State          string `json:"state"`
	Status         string `json:"status"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

// connectionWithDomainsJSON is a connection as the API answers it.
type connectionWithDomainsJSON struct {
	connectionJSON
	Domains []domainJSON `json:"domains"`
}

type domainJSON struct {
	Object string `json:"object"`
	ID     string `json:"id"`
	Domain string `json:"domain"`
}

type listMetadataJSON struct {
	Before *string `json:"before"`
	After  *string `json:"after"`
}

type connectionListJSON struct {
	Object       string                      `json:"object"`
	Data         []connectionWithDomainsJSON `json:"data"`
	ListMetadata listMetadataJSON            `json:"list_metadata"`
}

type fieldErrorJSON struct {
	Field string `json:"field"`
	Code  string `json:"code"`
}

type validationErrorJSON struct {
	Message string           `json:"message"`
	Code    string           `json:"code"`
	Errors  []fieldErrorJSON `json:"errors"`
}

func connectionJSONOf(c *connection) connectionJSON {
	status := "unlinked"
	if c.State == "active" {
		status = "linked"
	}
	return connectionJSON{
		Object:         "connection",
		ID:             c.ID,
		OrganizationID: c.OrganizationID,
		ConnectionType: c.Type,
		Name:           c.Name,
		State:          c.State,
		Status:         status,
		CreatedAt:      formatTime(c.CreatedAt),
		UpdatedAt:      formatTime(c.UpdatedAt),
	}
}

func connectionWithDomainsOf(c *connection) connectionWithDomainsJSON {
	out := connectionWithDomainsJSON{connectionJSON: connectionJSONOf(c), Domains: []domainJSON{}}
	for _, d := range c.Domains {
		out.Domains = append(out.Domains, domainJSON{
			Object: "connection_domain",
			ID:     "org_domain_" + stableID("domain", c.ID, d),
			Domain: d,
		})
	}
	return out
}

func notFound(w http.ResponseWriter, what, id string) {
	writeJSON(w, http.StatusNotFound, map[string]string{
		"message": what + " not found: '" + id + "'.",
		"code":    "entity_not_found",
	})
}

func validationFailed(w http.ResponseWriter, errs []fieldErrorJSON) {
	writeJSON(w, http.StatusUnprocessableEntity, validationErrorJSON{
		Message: "Validation failed",
		Code:    "invalid_request_parameters",
		Errors:  errs,
	})
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	c := s.conns[id]
	var out connectionWithDomainsJSON
	if c != nil {
		out = connectionWithDomainsOf(c)
	}
	s.mu.Unlock()
	if c == nil {
		notFound(w, "Connection", id)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	ok := s.deleteConnectionLocked(id)
	s.mu.Unlock()
	if !ok {
		notFound(w, "Connection", id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cursor is the position of a connection in the list order. It holds the
// sort key rather than a list index, so a page boundary survives
// connections being added or deleted.
type cursor struct {
	createdAt time.Time
	id        string
}

func encodeCursor(c *connection) string {
	raw := strconv.FormatInt(c.CreatedAt.UnixNano(), 10) + ":" + c.ID
	return "cur_" + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(s string) (cursor, bool) {
	rest, ok := strings.CutPrefix(s, "cur_")
	if !ok {
		return cursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return cursor{}, false
	}
	ns, id, ok := strings.Cut(string(raw), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return cursor{}, false
	}
	return cursor{createdAt: time.Unix(0, n), id: id}, true
}

func compareKey(a cursor, b cursor) int {
	return cmp.Or(a.createdAt.Compare(b.createdAt), strings.Compare(a.id, b.id))
}

// listConnections serves GET /connections: filter, sort by created_at then
// id, and cut one page around the before/after cursor.
func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var errs []fieldErrorJSON

	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			errs = append(errs, fieldErrorJSON{Field: "limit", Code: "limit must be a number"})
		case n < 1 || n > 100:
			errs = append(errs, fieldErrorJSON{Field: "limit", Code: "limit must be between 1 and 100"})
		default:
			limit = n
		}
	}
	order := q.Get("order")
	switch order {
	case "":
		order = "desc"
	case "desc", "asc", "normal":
	default:
		errs = append(errs, fieldErrorJSON{Field: "order", Code: "order must be one of normal, desc, asc"})
	}
	connType := q.Get("connection_type")
	switch connType {
	case "GithubOAuth":
		// The list filter spells GitHub differently from the connection
		// objects themselves.
		connType = "GitHubOAuth"
	case "GitHubOAuth":
		errs = append(errs, fieldErrorJSON{Field: "connection_type", Code: "connection_type must be GithubOAuth for GitHub"})
	}
	var before, after cursor
	var hasBefore, hasAfter bool
	if v := q.Get("before"); v != "" {
		if before, hasBefore = decodeCursor(v); !hasBefore {
			errs = append(errs, fieldErrorJSON{Field: "before", Code: "before is not a valid cursor"})
		}
	}
	if v := q.Get("after"); v != "" {
		if after, hasAfter = decodeCursor(v); !hasAfter {
			errs = append(errs, fieldErrorJSON{Field: "after", Code: "after is not a valid cursor"})
		}
	}
	if hasBefore && hasAfter {
		errs = append(errs, fieldErrorJSON{Field: "before", Code: "before and after cannot both be set"})
	}
	if len(errs) > 0 {
		validationFailed(w, errs)
		return
	}
	domain := strings.ToLower(q.Get("domain"))
	orgID := q.Get("organization_id")
	search := strings.ToLower(q.Get("search"))

	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*connection
	for _, id := range s.connOrder {
		c := s.conns[id]
		switch {
		case connType != "" && c.Type != connType,
			domain != "" && !slices.Contains(c.Domains, domain),
			orgID != "" && c.OrganizationID != orgID,
			search != "" && !strings.Contains(strings.ToLower(c.Name), search):
			continue
		}
		all = append(all, c)
	}
	key := func(c *connection) cursor { return cursor{c.CreatedAt, c.ID} }
	sign := 1
	if order == "desc" {
		sign = -1
	}
	slices.SortFunc(all, func(a, b *connection) int { return sign * compareKey(key(a), key(b)) })

	// [lo, hi) is the page within all.
	var lo, hi int
	switch {
	case hasAfter:
		lo = len(all)
		for i, c := range all {
			if sign*compareKey(key(c), after) > 0 {
				lo = i
				break
			}
		}
		hi = min(lo+limit, len(all))
	case hasBefore:
		hi = 0
		for i, c := range all {
			if sign*compareKey(key(c), before) < 0 {
				hi = i + 1
			}
		}
		lo = max(hi-limit, 0)
	default:
		hi = min(limit, len(all))
	}

	out := connectionListJSON{Object: "list", Data: []connectionWithDomainsJSON{}}
	for _, c := range all[lo:hi] {
		out.Data = append(out.Data, connectionWithDomainsOf(c))
	}
	if lo > 0 && lo < hi {
		b := encodeCursor(all[lo])
		out.ListMetadata.Before = &b
	}
	if hi < len(all) && lo < hi {
		a := encodeCursor(all[hi-1])
		out.ListMetadata.After = &a
	}
	writeJSON(w, http.StatusOK, out)
}

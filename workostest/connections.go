package workostest

import (
	"cmp"
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

// listConnectionTypes are the values GET /connections takes as its
// connection_type filter, as WorkOS's OpenAPI spec lists them (GitHub is
// GithubOAuth there); any other is refused with 422.
var listConnectionTypes = []string{
	"ADFSSAML", "AdpOidc", "AppleOAuth", "Auth0SAML", "AzureSAML", "BitbucketOAuth", "CasSAML",
	"CloudflareSAML", "ClassLinkSAML", "CleverOIDC", "CyberArkSAML", "DiscordOAuth", "DuoSAML",
	"EntraIdOIDC", "GenericOIDC", "GenericSAML", "GithubOAuth", "GitLabOAuth", "GoogleOAuth",
	"GoogleOIDC", "GoogleSAML", "GrokOAuth", "XOAuth", "IntuitOAuth", "JumpCloudSAML", "KeycloakSAML",
	"LastPassSAML", "LinkedInOAuth", "LoginGovOidc", "MagicLink", "MicrosoftOAuth", "MiniOrangeSAML",
	"NetIqSAML", "OktaOIDC", "OktaSAML", "OneLoginSAML", "OracleSAML", "PingFederateSAML",
	"PingOneSAML", "RipplingSAML", "SalesforceSAML", "ShibbolethGenericSAML", "ShibbolethSAML",
	"SimpleSamlPhpSAML", "SalesforceOAuth", "SlackOAuth", "VercelMarketplaceOAuth", "VercelOAuth",
	"VMwareSAML", "XeroOAuth",
}

// connectionEventJSON is a connection as connection.activated and
// connection.deactivated carry it: with its domains and external_key.
type connectionEventJSON struct {
	connectionWithDomainsJSON
	ExternalKey string `json:"external_key"`
}

func connectionEventOf(c *connection) connectionEventJSON {
	return connectionEventJSON{connectionWithDomainsOf(c), stableID("external_key", c.ID)}
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
	switch {
	case connType == "GithubOAuth":
		// The list filter spells GitHub differently from the connection
		// objects themselves.
		connType = "GitHubOAuth"
	case connType == "GitHubOAuth":
		errs = append(errs, fieldErrorJSON{Field: "connection_type", Code: "connection_type must be GithubOAuth for GitHub"})
	case connType != "" && !slices.Contains(listConnectionTypes, connType):
		errs = append(errs, fieldErrorJSON{Field: "connection_type", Code: "connection_type must be one of the connection types"})
	}
	// Cursors are object ids: the id of the item a page starts or ends at.
	if q.Get("before") != "" && q.Get("after") != "" {
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
	// desc and normal list the newest first, asc the oldest. With desc and
	// asc, after= pages on in the list's order and before= back; with
	// normal, before= fetches older records and after= newer ones, so its
	// cursors run against the list's order.
	sign := 1
	if order == "desc" || order == "normal" {
		sign = -1
	}
	slices.SortFunc(all, func(a, b *connection) int { return sign * compareKey(key(a), key(b)) })
	onField, backField := "after", "before"
	if order == "normal" {
		onField, backField = "before", "after"
	}
	onID, backID := q.Get(onField), q.Get(backField)
	resolve := func(field, id string) (cursor, bool) {
		if c := s.conns[id]; c != nil {
			return key(c), true
		}
		if created, ok := s.gone[id]; ok {
			return cursor{created, id}, true
		}
		validationFailed(w, []fieldErrorJSON{{Field: field, Code: field + " must be the id of an object in the list"}})
		return cursor{}, false
	}

	// [lo, hi) is the page within all.
	var lo, hi int
	switch {
	case onID != "":
		on, ok := resolve(onField, onID)
		if !ok {
			return
		}
		lo = len(all)
		for i, c := range all {
			if sign*compareKey(key(c), on) > 0 {
				lo = i
				break
			}
		}
		hi = min(lo+limit, len(all))
	case backID != "":
		back, ok := resolve(backField, backID)
		if !ok {
			return
		}
		for i, c := range all {
			if sign*compareKey(key(c), back) < 0 {
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
	// The ids to page back from (the first item) and on from (the last).
	var back, on *string
	if lo > 0 && lo < hi {
		back = &all[lo].ID
	}
	if hi < len(all) && lo < hi {
		on = &all[hi-1].ID
	}
	out.ListMetadata.Before, out.ListMetadata.After = back, on
	if order == "normal" {
		out.ListMetadata.Before, out.ListMetadata.After = on, back
	}
	writeJSON(w, http.StatusOK, out)
}

package ssogate

import (
	"cmp"
	"errors"
	"html/template"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ssogate/ssogate/internal/sanitize"
	"github.com/ssogate/ssogate/workos"
)

// ConnectionHealth is what one replica has seen of the sign-ins through one
// connection, as [Middleware.SignInHealth] reports it.
type ConnectionHealth struct {
	// ConnectionID is the connection's id; empty when the sign-in failed
	// before it was known (OrganizationID or Provider then says what the
	// login was for, or neither, for callbacks that carried no login of
	// this browser's).
	ConnectionID   string                `json:"connection_id,omitempty"`
	OrganizationID string                `json:"organization_id,omitempty"`
	Provider       workos.OAuthProvider  `json:"provider,omitempty"`
	ConnectionType workos.ConnectionType `json:"connection_type,omitempty"`
	// Name is the connection's name, when the connection cache holds it.
	Name string `json:"name,omitempty"`
	// LastSignIn is the time of the last successful sign-in, if any.
	LastSignIn *time.Time `json:"last_sign_in,omitempty"`
	// LastFailure is the last refused sign-in, if any.
	LastFailure *SignInFailure `json:"last_failure,omitempty"`
	// SignIns and Failures count the sign-ins and refusals of the last
	// hour, in whole minutes.
	SignIns  int `json:"sign_ins_last_hour"`
	Failures int `json:"failures_last_hour"`
}

// SignInFailure is a refused sign-in, as [ConnectionHealth] reports it.
type SignInFailure struct {
	At         time.Time `json:"at"`
	Reason     Reason    `json:"reason"`
	WorkOSCode string    `json:"workos_code,omitempty"`
	Status     int       `json:"status"`
}

// Bounds of the sign-in health a replica keeps.
const (
	maxHealthRows  = 1000 // connections (and other keys) tracked
	healthMinutes  = 60   // the window of the counts
	healthKeyOther = "-"  // callbacks that name no login at all
)

// signInHealth keeps, per connection, the last sign-in, the last failure
// and per-minute counts over the last hour. Only callbacks and refused
// logins touch it, never a gated request.
type signInHealth struct {
	now     func() time.Time
	started time.Time
	replica string

	mu   sync.Mutex
	rows map[string]*healthRow
}

type healthRow struct {
	ConnectionHealth
	touched time.Time
	minutes [healthMinutes]minuteCount
}

type minuteCount struct {
	minute          int64 // Unix minute the counts are of
	signIns, failed uint32
}

func newSignInHealth(now func() time.Time) *signInHealth {
	host, _ := os.Hostname()
	return &signInHealth{now: now, started: now(), replica: sanitize.Text(host, 100, nil), rows: make(map[string]*healthRow)}
}

// record adds a callback's outcome. A restarted login is neither.
func (h *signInHealth) record(info *CallbackInfo, at time.Time) {
	// A sign-in that this replica's budget refused says nothing of its
	// connection: whoever drained the budget is not its user.
	if info.Restarted || errors.Is(info.Err, ErrTooManySignIns) {
		return
	}
	h.add(info.ConnectionID, info.OrganizationID, info.Provider, info.ConnectionType, at, info.SignedIn, info.Reason, info.WorkOSCode, info.Status)
}

// recordLogin adds a refused login that names a connection or
// organization WorkOS knows: one that cannot sign anyone in.
func (h *signInHealth) recordLogin(info *LoginInfo, at time.Time) {
	if info.Reason != ReasonInactiveConnection {
		return
	}
	h.add(info.ConnectionID, info.OrganizationID, "", "", at, false, info.Reason, "", info.Status)
}

func (h *signInHealth) add(conn, org string, provider workos.OAuthProvider, typ workos.ConnectionType, at time.Time, ok bool, reason Reason, code string, status int) {
	key := cmp.Or(conn, org, string(provider), healthKeyOther)
	h.mu.Lock()
	defer h.mu.Unlock()
	row := h.rows[key]
	if row == nil {
		if len(h.rows) >= maxHealthRows {
			h.evictLocked()
		}
		row = &healthRow{ConnectionHealth: ConnectionHealth{ConnectionID: conn, OrganizationID: org, Provider: provider}}
		h.rows[key] = row
	}
	row.touched = at
	row.OrganizationID = cmp.Or(org, row.OrganizationID)
	row.ConnectionType = cmp.Or(typ, row.ConnectionType)
	minute := at.Unix() / 60
	c := &row.minutes[minute%healthMinutes]
	if c.minute != minute {
		*c = minuteCount{minute: minute}
	}
	if ok {
		c.signIns++
		t := at
		row.LastSignIn = &t
		return
	}
	c.failed++
	row.LastFailure = &SignInFailure{At: at, Reason: reason, WorkOSCode: code, Status: status}
}

// evictLocked drops the row touched longest ago.
func (h *signInHealth) evictLocked() {
	var oldest string
	var at time.Time
	for k, r := range h.rows {
		if oldest == "" || r.touched.Before(at) {
			oldest, at = k, r.touched
		}
	}
	delete(h.rows, oldest)
}

// snapshot returns the rows, those with the most failures in the last hour
// first, then the most recently active.
func (h *signInHealth) snapshot(name func(connID string) string) []ConnectionHealth {
	now := h.now().Unix() / 60
	type entry struct {
		ConnectionHealth
		touched time.Time
	}
	h.mu.Lock()
	entries := make([]entry, 0, len(h.rows))
	for _, r := range h.rows {
		e := entry{r.ConnectionHealth, r.touched}
		for _, m := range r.minutes {
			if m.minute > now-healthMinutes && m.minute <= now {
				e.SignIns += int(m.signIns)
				e.Failures += int(m.failed)
			}
		}
		entries = append(entries, e)
	}
	h.mu.Unlock()
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b.Failures, a.Failures), b.touched.Compare(a.touched), cmp.Compare(a.ConnectionID, b.ConnectionID))
	})
	out := make([]ConnectionHealth, len(entries))
	for i, e := range entries {
		out[i] = e.ConnectionHealth
		if e.ConnectionID != "" {
			out[i].Name = name(e.ConnectionID)
		}
	}
	return out
}

// SignInHealth reports, for every connection this replica has seen a
// sign-in or a refused one through since it started (at most 1,000, those
// seen longest ago forgotten first), the last sign-in, the last failure
// and the counts of the last hour. It is this replica's view: see
// [Middleware.HealthHandler].
func (m *Middleware) SignInHealth() []ConnectionHealth {
	return m.health.snapshot(m.connections.cachedName)
}

// HealthHandler returns a handler that shows [Middleware.SignInHealth]: an
// HTML table for people, or JSON for tools (when the request accepts
// application/json and not text/html, or asks ?format=json). Mount it
// behind an authorization gate, since it names customers' organizations
// and connections:
//
//	mux.Handle("GET /admin/sso", gate.RequireRole(staffOrg, "admin")(gate.HealthHandler()))
//
// It is this replica's view, since it started: each replica counts the
// callbacks it served. That keeps it working while a [Backplane] is down,
// which is when sign-ins fail, and costs no shared write per sign-in; the
// fleet's totals are the metrics' job (github.com/ssogate/ssogate/otelssogate
// counts sign-ins by outcome and connection on every replica). The page
// names the replica, by its host name and the address it serves on (the
// local address the request came in on: two replicas on one host differ
// by it), and says when it started.
func (m *Middleware) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		replica := m.health.replica
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			replica += " at " + a.String()
		}
		report := healthReport{
			Scope:       "replica",
			Replica:     replica,
			Since:       m.health.started.UTC(),
			Window:      "1h",
			Connections: m.SignInHealth(),
		}
		if r.URL.Query().Get("format") == "json" || !acceptsHTML(r.Header.Get("Accept")) && acceptsType(r.Header.Get("Accept"), "application/json") {
			writeJSON(w, http.StatusOK, report)
			return
		}
		writePage(w, http.StatusOK, healthPage, report)
	})
}

type healthReport struct {
	Scope       string             `json:"scope"`
	Replica     string             `json:"replica"`
	Since       time.Time          `json:"since"`
	Window      string             `json:"window"`
	Connections []ConnectionHealth `json:"connections"`
}

var healthPage = template.Must(template.New("health").Funcs(template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign-in health</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}.bad{color:#a00}</style></head>
<body><h1>Sign-in health</h1>
<p>This replica ({{.Replica}}) since {{.Since.Format "2006-01-02 15:04:05 UTC"}}; counts over the last hour. Other replicas count their own sign-ins: the metrics have the totals. <a href="?format=json">JSON</a></p>
{{if .Connections}}<table><thead><tr><th>Connection</th><th>Organization</th><th>Type</th><th>Sign-ins</th><th>Failures</th><th>Last sign-in</th><th>Last failure</th></tr></thead><tbody>
{{range .Connections}}<tr><td>{{if .Name}}{{.Name}}<br>{{end}}{{if .ConnectionID}}<code>{{.ConnectionID}}</code>{{else if .Provider}}{{.Provider}}{{else if .OrganizationID}}(connection not known yet){{else}}(callbacks with no login of this browser's){{end}}</td><td><code>{{.OrganizationID}}</code></td><td>{{.ConnectionType}}</td><td>{{.SignIns}}</td><td{{if .Failures}} class="bad"{{end}}>{{.Failures}}</td><td>{{when .LastSignIn}}</td><td>{{with .LastFailure}}{{.At.UTC.Format "2006-01-02 15:04:05 UTC"}}: {{.Reason}}{{with .WorkOSCode}} ({{.}}){{end}}, {{.Status}}{{else}}none{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No sign-ins yet.</p>{{end}}
</body></html>`))

// Stats is a snapshot of a [Middleware]'s state, for gauges.
type Stats struct {
	// Revocations is the number of revocations in force on this replica.
	Revocations int
	// CachedSessions is the number of verified session cookies cached.
	CachedSessions int
	// CachedLookups is the number of answers the connection cache holds.
	CachedLookups int
	// Ready is what [Middleware.Ready] reports: whether sessions are
	// served.
	Ready bool
	// EventsCaughtUp is when [Middleware.FollowEvents] last read every
	// event there was; zero if it never did (or does not run).
	EventsCaughtUp time.Time
	// UnsharedRevocations is the number of revocations (sign-outs
	// included) that the backplane's store has not taken yet and retries:
	// they hold on this replica, and on the others only once stored. It
	// comes from a Backplane with an Unshared() int method, as redisstore's
	// Store has; zero for any other.
	UnsharedRevocations int
}

// Stats returns a snapshot of the Middleware's state. It takes a few
// locks briefly; call it when a gauge is read, not on every request.
func (m *Middleware) Stats() Stats {
	s := Stats{
		Revocations:   m.revocations.len(),
		CachedLookups: m.connections.Len(),
		Ready:         m.Ready() == nil,
	}
	if m.sessions.cache != nil {
		s.CachedSessions = m.sessions.cache.len()
	}
	if t := m.eventsCaughtUp.Load(); t != nil {
		s.EventsCaughtUp = *t
	}
	if b, ok := m.backplane.(interface{ Unshared() int }); ok {
		s.UnsharedRevocations = b.Unshared()
	}
	return s
}

package ssogate

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ssogate/ssogate/internal/sanitize"
)

// auditMessage is the message of every audit record, to filter them by.
const auditMessage = "ssogate audit"

// refused reports a gated request that was not served; s is the session it
// carried, if it was read.
func (m *Middleware) refused(r *http.Request, info RefusalInfo, s *Session) {
	f := m.obs.SessionRefused
	if f == nil {
		return
	}
	if s != nil {
		info.ProfileID, info.OrganizationID, info.ConnectionID = s.Profile.ID, s.Profile.OrganizationID, s.Profile.ConnectionID
	}
	f(r.Context(), info)
}

// backplaneOutage is the backplane's report that its store became
// unreachable (err not nil) or answers again.
func (m *Middleware) backplaneOutage(err error) {
	if f := m.obs.BackplaneChanged; f != nil {
		f(context.Background(), BackplaneInfo{Down: err != nil, Err: err})
	}
}

// revoked reports revocations made here (received false) or received
// from the backplane.
func (m *Middleware) revoked(ctx context.Context, rs []Revocation, received, resync bool) {
	f := m.obs.Revoked
	if f == nil || len(rs) == 0 {
		return
	}
	info := RevocationInfo{Revocations: rs, Received: received, Resync: resync}
	if received && !resync {
		var newest time.Time
		for _, r := range rs {
			if r.At.After(newest) {
				newest = r.At
			}
		}
		info.Lag = max(m.now().Sub(newest), 0)
	}
	f(ctx, info)
}

// auditCallback writes the audit record of a callback: a sign-in, or a
// refused one. A callback that is neither (a restarted login) has none.
func (m *Middleware) auditCallback(r *http.Request, info *CallbackInfo) {
	if info.Restarted || !m.audit.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := make([]slog.Attr, 0, 12)
	if info.SignedIn {
		attrs = append(attrs, slog.String("event", "sign_in"))
	} else {
		attrs = append(attrs, slog.String("event", "sign_in_refused"),
			slog.String("reason", string(info.Reason)), slog.Int("status", info.Status))
		if info.WorkOSCode != "" {
			attrs = append(attrs, slog.String("workos_code", info.WorkOSCode))
		}
	}
	attrs = appendIDs(attrs, info.ProfileID, info.OrganizationID, info.ConnectionID)
	if info.ConnectionType != "" {
		attrs = append(attrs, slog.String("connection_type", string(info.ConnectionType)))
	}
	if info.StepUp {
		attrs = append(attrs, slog.Bool("step_up", true))
	}
	m.auditRecord(r, attrs, info.email)
}

// auditSignOut writes the audit record of a sign-out.
func (m *Middleware) auditSignOut(r *http.Request, s *Session, shared bool) {
	if !m.audit.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := appendIDs([]slog.Attr{slog.String("event", "sign_out")}, s.Profile.ID, s.Profile.OrganizationID, s.Profile.ConnectionID)
	if !shared {
		attrs = append(attrs, slog.Bool("shared", false))
	}
	m.auditRecord(r, attrs, s.Profile.Email)
}

// auditRevocations writes one audit record per revocation made here by
// [Middleware.Revoke] or a removed connection. A sign-out's own revocation
// is its sign-out record.
func (m *Middleware) auditRevocations(ctx context.Context, rs []Revocation, cause string) {
	if !m.audit.Enabled(ctx, slog.LevelInfo) {
		return
	}
	for _, r := range rs {
		m.audit.LogAttrs(ctx, slog.LevelInfo, auditMessage,
			slog.String("event", "revocation"),
			slog.String("kind", r.Kind.String()),
			slog.String("id", r.ID),
			slog.Time("at", r.At),
			slog.Time("expires", r.Expires),
			slog.String("cause", cause))
	}
}

// auditRecord adds the request's client address and id (and the email, if
// asked for) to attrs and writes the record.
func (m *Middleware) auditRecord(r *http.Request, attrs []slog.Attr, email string) {
	if m.cfg.AuditEmails && email != "" {
		attrs = append(attrs, slog.String("email", sanitize.Text(email, maxHintLen, nil)))
	}
	attrs = append(attrs,
		slog.String("client_ip", sanitize.Text(m.clientIP(r), 64, nil)),
		slog.String("request_id", m.requestID(r)))
	m.audit.LogAttrs(r.Context(), slog.LevelInfo, auditMessage, attrs...)
}

func appendIDs(attrs []slog.Attr, profile, org, conn string) []slog.Attr {
	if profile != "" {
		attrs = append(attrs, slog.String("profile_id", profile))
	}
	if org != "" {
		attrs = append(attrs, slog.String("organization_id", org))
	}
	if conn != "" {
		attrs = append(attrs, slog.String("connection_id", conn))
	}
	return attrs
}

// clientIP is Config.ClientIP, or the host of RemoteAddr.
func (m *Middleware) clientIP(r *http.Request) string {
	if m.cfg.ClientIP != nil {
		return m.cfg.ClientIP(r)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

type requestIDKey struct{}

// withRequestID returns r with its request id in its context, so that the
// log lines and the audit record of one request name the same id.
func (m *Middleware) withRequestID(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestIDKey{}, m.requestID(r)))
}

// requestID is the id withRequestID gave r, or Config.RequestID's if it
// is a plain token of at most 64 characters, or a new random id. A header such as
// X-Request-ID is anyone's to set unless a proxy replaces it, so it is
// read only where the operator says so, through Config.RequestID.
func (m *Middleware) requestID(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return id
	}
	if m.cfg.RequestID != nil {
		if id := m.cfg.RequestID(r); plainToken(id, 64) {
			return id
		}
	}
	return rand.Text()
}

// plainToken reports whether s is 1 to n characters of letters, digits
// and -._:
func plainToken(s string, n int) bool {
	if s == "" || len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == ':') {
			return false
		}
	}
	return true
}

// workOSCode maps an error code (from a browser's callback, or from
// WorkOS's answer, which may have crossed a proxy) onto the closed set of
// WorkOS's documented codes, for observers' attributes (metric labels),
// the audit trail and the health page: "" stays "", any other code is
// "other", so that no request can add a label value.
func workOSCode(s string) string {
	if s == "" || workOSCodes[s] {
		return s
	}
	return "other"
}

// workOSCodes are the codes WorkOS documents for the callback's error and
// for POST /sso/token and /sso/logout/authorize's answers.
var workOSCodes = map[string]bool{
	// The callback.
	"access_denied": true, "ambiguous_connection_selector": true, "connection_invalid": true,
	"connection_strategy_invalid": true, "connection_unlinked": true, "invalid_connection_selector": true,
	"organization_invalid": true, "oauth_failed": true, "server_error": true,
	// The code exchange.
	"invalid_grant": true, "invalid_client": true, "unauthorized_client": true, "unsupported_grant_type": true,
}

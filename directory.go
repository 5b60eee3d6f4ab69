package ssogate

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/ssogate/ssogate/workos"
)

// DirectoryMatch says which of a directory user's identifiers name the
// sessions that end when the directory removes the user: see
// [Config].DirectoryMatch. Every match is within the user's organization.
type DirectoryMatch uint8

// The ways of matching a directory user to sessions.
const (
	// MatchIdPIDOrEmail ends the sessions whose profile has the
	// directory user's IdP id, and those whose email is the user's,
	// compared case-folded: WorkOS's advice, since the directory and
	// single sign-on may come from two systems that name a person
	// differently.
	MatchIdPIDOrEmail DirectoryMatch = iota
	// MatchIdPID ends only the sessions whose profile has the directory
	// user's IdP id, for an organization whose directory and sign-in come
	// from one identity provider.
	MatchIdPID
	// MatchEmail ends only the sessions whose email is the directory
	// user's, compared case-folded.
	MatchEmail
)

// identityKey is the digest that names an identity revocation: the first
// 16 bytes of SHA-256 over the organization, what kind of identifier, and
// the identifier. A digest keeps the record small whatever the lengths of
// the identifiers, and keeps emails out of the backplane.
type identityKey [16]byte

const identityIDPrefix = "idn_"

// identityIDLen is the length of an identity revocation's id.
var identityIDLen = len(identityIDPrefix) + base64.RawURLEncoding.EncodedLen(len(identityKey{}))

// String returns the key as a revocation id.
func (k identityKey) String() string {
	return identityIDPrefix + base64.RawURLEncoding.EncodeToString(k[:])
}

// parseIdentityID returns the key an identity revocation's id names.
func parseIdentityID(id string) (identityKey, bool) {
	var k identityKey
	if len(id) != identityIDLen || !strings.HasPrefix(id, identityIDPrefix) {
		return k, false
	}
	n, err := base64.RawURLEncoding.Strict().Decode(k[:], []byte(id[len(identityIDPrefix):]))
	return k, err == nil && n == len(k)
}

// The kinds of identifier an identity key digests.
const (
	identityIdPID = 'p'
	identityEmail = 'e'
)

// identityKeyOf digests an identifier of a kind within an organization.
func identityKeyOf(orgID string, kind byte, value string) identityKey {
	h := sha256.New()
	h.Write([]byte(orgID))
	h.Write([]byte{0, kind, 0})
	h.Write([]byte(value))
	var sum [sha256.Size]byte
	var k identityKey
	copy(k[:], h.Sum(sum[:0]))
	return k
}

// foldEmail returns an email address as identity keys compare it.
func foldEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// identityKeysOf writes the identity keys of a signed-in profile into
// keys and returns how many it wrote: none without an organization.
func identityKeysOf(p *Profile, keys *[2]identityKey) int {
	if p.OrganizationID == "" {
		return 0
	}
	n := 0
	if p.IdPID != "" {
		keys[n] = identityKeyOf(p.OrganizationID, identityIdPID, p.IdPID)
		n++
	}
	if e := foldEmail(p.Email); e != "" {
		keys[n] = identityKeyOf(p.OrganizationID, identityEmail, e)
		n++
	}
	return n
}

// RevokeIdentity returns the revocations of every session signed in to the
// organization orgID by the user with the IdP id idpID, and of every
// session signed in there with the email address email (compared
// case-folded). Either identifier may be empty; with both empty, or no
// organization, it returns none. The revocations name digests of the
// identifiers, not the identifiers: the backplane and the audit trail hold
// no email address.
//
// The webhook handler and [Middleware.HandleEvent] make these from the
// directory users that an organization's directory removes.
func RevokeIdentity(orgID, idpID, email string) []Revocation {
	if orgID == "" {
		return nil
	}
	var rs []Revocation
	if idpID != "" {
		rs = append(rs, Revocation{Kind: IdentityRevocation, ID: identityKeyOf(orgID, identityIdPID, idpID).String()})
	}
	if e := foldEmail(email); e != "" {
		rs = append(rs, Revocation{Kind: IdentityRevocation, ID: identityKeyOf(orgID, identityEmail, e).String()})
	}
	return rs
}

// maxDirectoryIDLen bounds the identifiers read from a directory event.
const maxDirectoryIDLen = 1024

// directoryRevocations returns the revocations that a Directory Sync event
// calls for, or none for an event that removes nobody. A malformed event
// is an error matching [ErrInvalidEvent].
func (m *Middleware) directoryRevocations(ev *workos.Event) ([]Revocation, error) {
	var rs []Revocation
	switch ev.Event {
	case workos.EventDirectoryUserDeleted, workos.EventDirectoryUserUpdated:
		var u workos.DirectoryUser
		if err := json.Unmarshal(ev.Data, &u); err != nil {
			return nil, fmt.Errorf("%w: %s without a directory user", ErrInvalidEvent, ev.Event)
		}
		switch {
		case !validPrefixedID(u.OrganizationID, "org_"):
			return nil, fmt.Errorf("%w: %s without a valid organization_id", ErrInvalidEvent, ev.Event)
		case u.IdPID == "" && u.Email == "",
			len(u.IdPID) > maxDirectoryIDLen || len(u.Email) > maxDirectoryIDLen:
			return nil, fmt.Errorf("%w: %s without a usable idp_id or email", ErrInvalidEvent, ev.Event)
		case ev.Event == workos.EventDirectoryUserUpdated && u.State == "":
			return nil, fmt.Errorf("%w: %s without a state", ErrInvalidEvent, ev.Event)
		case ev.Event == workos.EventDirectoryUserUpdated && u.Active():
			return nil, nil
		}
		idpID, email := u.IdPID, u.Email
		switch m.cfg.DirectoryMatch {
		case MatchIdPID:
			email = ""
		case MatchEmail:
			idpID = ""
		}
		rs = RevokeIdentity(u.OrganizationID, idpID, email)
	case workos.EventDirectoryDeleted:
		// A deleted directory sends no event per user and can no longer
		// be asked who was in it: its organization's sessions end, and
		// whoever the identity provider still lets in signs in again.
		var d struct {
			OrganizationID string `json:"organization_id"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil || !validPrefixedID(d.OrganizationID, "org_") {
			return nil, fmt.Errorf("%w: %s without a valid organization_id", ErrInvalidEvent, ev.Event)
		}
		rs = []Revocation{RevokeOrganization(d.OrganizationID)}
	default:
		return nil, nil
	}
	if ev.CreatedAt.IsZero() {
		return nil, fmt.Errorf("%w: %s without created_at", ErrInvalidEvent, ev.Event)
	}
	// Sessions issued up to the event, or up to now if WorkOS's clock is
	// ahead of ours. Every replica (and a catch-up of the same event) makes
	// the same records, so a second delivery adds nothing.
	at := ev.CreatedAt
	if now := m.now(); at.After(now) {
		at = now
	}
	for i := range rs {
		rs[i].At, rs[i].Expires = at, at.Add(MaxSessionLifetime)
	}
	return rs, nil
}

// directoryEvent ends the sessions that a Directory Sync event removes, on
// every replica. An event whose revocations are all in force here already
// (a webhook delivered twice, or caught up after its delivery) is not
// applied again, unless sharing them failed.
func (m *Middleware) directoryEvent(ctx context.Context, ev *workos.Event) error {
	rs, err := m.directoryRevocations(ev)
	if err != nil || len(rs) == 0 {
		return err
	}
	held := m.revocations.holds(rs)
	if held && m.unshared.shared(ev.ID) {
		return nil
	}
	if !held {
		m.log.Info("ssogate: directory removed a user; their sessions are revoked", "event", ev.Event, "event_id", sanitizeForLog(ev.ID))
		m.auditRevocations(ctx, rs, ev.Event)
	}
	err = m.publish(ctx, Update{Revocations: rs})
	m.unshared.note(ev.ID, err == nil)
	return err
}

// maxUnsharedEvents bounds the events remembered as not shared.
const maxUnsharedEvents = 4096

// unsharedEvents remembers the directory events whose revocations hold
// here but could not be shared, so that a second delivery shares them
// again instead of finding them held and stopping.
type unsharedEvents struct {
	mu  sync.Mutex
	ids map[string]struct{}
	// overflow is set once more were unshared than ids can hold: from
	// then on every delivery is shared again, held or not.
	overflow bool
}

// shared reports whether the event's revocations may be taken as shared.
func (u *unsharedEvents) shared(id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, unshared := u.ids[id]
	return !unshared && !u.overflow
}

// note records whether the event's revocations were shared.
func (u *unsharedEvents) note(id string, shared bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case shared:
		delete(u.ids, id)
	case len(u.ids) >= maxUnsharedEvents:
		u.overflow = true
	default:
		if u.ids == nil {
			u.ids = make(map[string]struct{})
		}
		u.ids[id] = struct{}{}
	}
}

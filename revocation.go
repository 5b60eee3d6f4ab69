package ssogate

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// RevocationKind says what a [Revocation] applies to.
type RevocationKind uint8

// The kinds of [Revocation].
const (
	// SessionRevocation ends one session, named by [Session].ID.
	SessionRevocation RevocationKind = iota + 1
	// UserRevocation ends every session of a user, named by profile id
	// (prof_...).
	UserRevocation
	// OrganizationRevocation ends every session of an organization's
	// users (org_...).
	OrganizationRevocation
	// ConnectionRevocation ends every session signed in through a
	// connection (conn_...).
	ConnectionRevocation
	// IdentityRevocation ends every session signed in to an organization
	// with one IdP id or one email address, named by the digest that
	// [RevokeIdentity] makes of them (idn_...).
	IdentityRevocation
)

// String returns the kind's name: "session", "user", "organization",
// "connection" or "identity".
func (k RevocationKind) String() string {
	switch k {
	case SessionRevocation:
		return "session"
	case UserRevocation:
		return "user"
	case OrganizationRevocation:
		return "organization"
	case ConnectionRevocation:
		return "connection"
	case IdentityRevocation:
		return "identity"
	}
	return "unknown"
}

// A Revocation makes every session it matches invalid. A session
// revocation matches the one session it names, whatever the clocks say. A
// user, organization or connection revocation matches the sessions of its
// Kind and ID issued up to At plus [ClockSkew], and refuses at the callback
// any sign-in of theirs that started by then, so that a login in progress
// when the revocation was made cannot finish with a fresh session. A
// sign-in started later is not affected, so a revoked user can sign in
// again; to keep someone out, also refuse them in [Config].OnLogin or at
// the identity provider.
//
// Make one with [RevokeSession], [RevokeUser], [RevokeOrganization] or
// [RevokeConnection] and pass it to [Middleware.Revoke].
type Revocation struct {
	Kind RevocationKind
	// ID is the session id, profile id, organization id or connection id.
	ID string
	// At is the revocation's time: sessions issued at or before it are
	// refused. [Middleware.Revoke] sets it to now when it is zero.
	At time.Time
	// Expires is when the record may be forgotten, because no session it
	// matches can still be alive. [Middleware.Revoke] sets it to At plus
	// [MaxSessionLifetime] when it is zero.
	Expires time.Time
}

// ClockSkew is how far apart the clocks of an app's replicas may be for a
// user, organization or connection revocation made on one of them to end
// every session issued before it on any of them. Such a revocation also
// ends the sessions issued, and refuses the sign-ins started, up to
// ClockSkew after it: someone who signs in again within seconds of being
// revoked is asked to sign in once more. Replicas whose clocks are kept by
// NTP differ by milliseconds; beyond ClockSkew, a session issued by a
// replica whose clock is ahead may outlive a revocation made just after
// it. Session revocations (sign-out) do not depend on clocks at all.
const ClockSkew = 5 * time.Second

// RevokeSession returns a revocation of one session, by its [Session].ID.
func RevokeSession(id string) Revocation { return Revocation{Kind: SessionRevocation, ID: id} }

// RevokeUser returns a revocation of every session of a user, by the
// profile id (prof_...) that [Profile].ID holds.
func RevokeUser(profileID string) Revocation {
	return Revocation{Kind: UserRevocation, ID: profileID}
}

// RevokeOrganization returns a revocation of every session of an
// organization's users (org_...).
func RevokeOrganization(id string) Revocation {
	return Revocation{Kind: OrganizationRevocation, ID: id}
}

// RevokeConnection returns a revocation of every session signed in through
// a connection (conn_...).
func RevokeConnection(id string) Revocation {
	return Revocation{Kind: ConnectionRevocation, ID: id}
}

// Validate reports whether r is well formed: a known kind and an id of
// that kind's form. The error matches [ErrInvalidRevocation] and names
// what is wrong.
func (r Revocation) Validate() error {
	var ok bool
	switch r.Kind {
	case SessionRevocation:
		ok = validSessionID(r.ID)
	case UserRevocation:
		ok = validPrefixedID(r.ID, "prof_")
	case OrganizationRevocation:
		ok = validPrefixedID(r.ID, "org_")
	case ConnectionRevocation:
		ok = validPrefixedID(r.ID, "conn_")
	case IdentityRevocation:
		_, ok = parseIdentityID(r.ID)
	default:
		return fmt.Errorf("%w: unknown kind %d", ErrInvalidRevocation, r.Kind)
	}
	switch {
	case r.ID == "":
		return fmt.Errorf("%w: the %s id is empty", ErrInvalidRevocation, r.Kind)
	case !ok:
		return fmt.Errorf("%w: %q is not a valid %s id", ErrInvalidRevocation, sanitizeForLog(r.ID), r.Kind)
	case !r.Expires.IsZero() && r.Expires.Before(r.At):
		return fmt.Errorf("%w: %s %s expires before it is made", ErrInvalidRevocation, r.Kind, r.ID)
	}
	return nil
}

// Revoke ends the sessions that rs match, on this replica at once and, through
// the [Backplane], on every replica. Each revocation's At defaults to now
// and its Expires to At plus [MaxSessionLifetime].
//
// Revoke checks every revocation before it applies any: a malformed one is
// an error matching [ErrInvalidRevocation], and nothing is revoked. It
// returns once the backplane has stored them all. If it cannot before ctx
// ends, the error says so: the revocations hold on this replica already,
// and the backplane keeps trying to share them (see its documentation).
//
// The check on each request is a memory lookup, never a network call.
func (m *Middleware) Revoke(ctx context.Context, rs ...Revocation) error {
	if len(rs) == 0 {
		return fmt.Errorf("%w: nothing to revoke", ErrInvalidRevocation)
	}
	now := m.now()
	batch := make([]Revocation, len(rs))
	for i, r := range rs {
		if r.At.IsZero() {
			r.At = now
		}
		if r.Expires.IsZero() {
			r.Expires = r.At.Add(MaxSessionLifetime)
		}
		if err := r.Validate(); err != nil {
			return err
		}
		batch[i] = r
	}
	m.auditRevocations(ctx, batch, "revoke")
	return m.publish(ctx, Update{Revocations: batch})
}

// publish applies u's revocations here, then shares u through the
// backplane. (An event in u has been applied here already.)
func (m *Middleware) publish(ctx context.Context, u Update) error {
	m.revocations.add(u.Revocations, m.now())
	m.revoked(ctx, u.Revocations, false, false)
	if err := m.backplane.Publish(ctx, u); err != nil {
		return fmt.Errorf("%w: %w", ErrNotShared, err)
	}
	return nil
}

// apply brings this replica up to date with an update from the backplane.
func (m *Middleware) apply(u Update) {
	m.revocations.add(u.Revocations, m.now())
	m.revoked(context.Background(), u.Revocations, true, u.Resync)
	if u.Event != nil {
		// Events come from a webhook handler of some replica, which
		// verified them; the cache checks their data again.
		if _, err := m.connections.applyEvent(u.Event); err != nil {
			m.log.Warn("ssogate: shared connection event ignored", "err", err)
		}
	}
	if u.Resync {
		// The backplane may have missed events while it was away.
		m.connections.Purge()
	}
}

// HandleEvent acts on a verified WorkOS event as the webhook handler does,
// for events that reach the app another way (its own queue, or a walk of
// the Events API):
//   - connection.activated, connection.deactivated and connection.deleted
//     update the connection cache on every replica, and the last two
//     revoke the connection's sessions (unless
//     [Config].KeepSessionsOfRemovedConnections);
//   - dsync.user.deleted, and dsync.user.updated with a state other than
//     active, revoke the sessions of that user in the user's organization,
//     matched as [Config].DirectoryMatch says;
//   - dsync.deleted revokes every session of the directory's
//     organization, since a deleted directory names none of its users.
//
// Other events are ignored. A malformed event of these types is an error
// matching [ErrInvalidEvent], and changes nothing. An event handled
// before changes nothing more. Only pass events whose origin was checked:
// a webhook's signature, or an answer of the WorkOS API.
func (m *Middleware) HandleEvent(ctx context.Context, ev *workos.Event) error {
	return m.connections.applyAndShare(ctx, ev)
}

// event acts on an event that this replica's connection cache has
// applied; conn is the connection of a connection event, and nil for
// other events.
func (m *Middleware) event(ctx context.Context, ev *workos.Event, conn *Connection) error {
	if conn == nil {
		return m.directoryEvent(ctx, ev)
	}
	return m.connectionEvent(ctx, ev, conn)
}

// connectionEvent shares a connection event that this replica's cache has
// applied and, unless configured otherwise, revokes the sessions of a
// connection that was deactivated or deleted: sessions issued up to the
// event, or up to now if WorkOS's clock is ahead of ours.
func (m *Middleware) connectionEvent(ctx context.Context, ev *workos.Event, conn *Connection) error {
	u := Update{Event: ev}
	if !m.cfg.KeepSessionsOfRemovedConnections &&
		(ev.Event == workos.EventConnectionDeactivated || ev.Event == workos.EventConnectionDeleted) {
		at := ev.CreatedAt
		if now := m.now(); at.After(now) {
			at = now
		}
		u.Revocations = []Revocation{{Kind: ConnectionRevocation, ID: conn.ID, At: at, Expires: at.Add(MaxSessionLifetime)}}
		m.log.Info("ssogate: connection removed; its sessions are revoked", "event", ev.Event, "connection_id", conn.ID)
		m.auditRevocations(ctx, u.Revocations, ev.Event)
	}
	return m.publish(ctx, u)
}

// failClosed is the backplane's report that this replica may not know
// every revocation: with a non-nil err, sessions are refused until it
// reports nil.
func (m *Middleware) failClosed(err error) {
	if err != nil {
		m.unsureWhy.Store(&err)
	}
	m.revocations.setUnsure(err != nil)
}

// Close stops the Middleware's subscription to its [Backplane]. It is only
// needed when the backplane outlives the Middleware, as in tests; a
// Middleware must not be used after Close.
func (m *Middleware) Close() error {
	m.unsubscribe()
	return nil
}

// validSessionID reports whether id has the form of a [Session].ID: 26
// characters of base32 (RFC 4648, no padding), as [crypto/rand.Text] makes.
func validSessionID(id string) bool {
	if len(id) != sessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// revocationPruneSample is the least number of records a change visits
// to forget the expired ones.
const revocationPruneSample = 64

// revocationSet holds the revocations in force on this replica, for the
// per-request check. Reads take a read lock, and none at all while the set
// is empty.
//
// epoch counts changes, so that a verified-session cache entry checked at
// the current epoch needs no check again: the hot path then costs one
// atomic load.
type revocationSet struct {
	epoch atomic.Uint64 // bumped after every change
	size  atomic.Int64  // len(m) + len(short) + len(sessions) + len(identities)
	// nIdentities is len(identities): a check computes a session's
	// identity digests only while some are revoked.
	nIdentities atomic.Int64
	unsure      atomic.Bool // the backplane asks to fail closed

	// mu guards sessions, identities, short and m.
	mu sync.RWMutex
	// sessions holds the session revocations, by id packed inline. They
	// are most of the set (every sign-out is one), and an inline key
	// spares each the allocation of its id.
	sessions map[sessionKey]revocationRecord
	// identities holds the identity revocations, by digest held inline:
	// a directory that removes many users costs each a few dozen bytes.
	identities map[identityKey]revocationRecord
	// short holds the user, organization and connection revocations of
	// ids of WorkOS's form, packed inline: a map with no pointer in it,
	// which the garbage collector does not scan, and no allocation for
	// each id.
	short map[shortKey]revocationRecord
	// m holds the others, of ids of any other form.
	m map[revocationKey]revocationRecord
}

// Every map of the set has keys and records of bytes only, with no
// alignment: a slot of a session revocation is 17 + 16 bytes, where an
// int64 in either would pad it to 48. A million revocations in force hold
// about 85 bytes each (BenchmarkRevocationGC).

// packedChars is the length of the ids a packedID holds: a session id,
// and the ULID of a WorkOS id. packedIDLen is their length packed 5 bits
// a character: 130 bits in 17 bytes.
const (
	packedChars = 26
	packedIDLen = 17
)

// A packedID is 26 characters of base32 packed 5 bits each, big-endian;
// the last 6 bits are zero.
type packedID [packedIDLen]byte

// base32Alphabet is the alphabet of session ids (RFC 4648, as
// [crypto/rand.Text] makes them); ulidAlphabet is Crockford's, of the
// ULIDs that end WorkOS's ids (prof_01HZ...).
const (
	base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	ulidAlphabet   = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// decodeTable returns the table from a byte to its value in alphabet, 0xff
// for bytes outside it.
func decodeTable(alphabet string) *[256]byte {
	var t [256]byte
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return &t
}

var base32Values, ulidValues = decodeTable(base32Alphabet), decodeTable(ulidAlphabet)

// packID packs s, packedChars characters of the alphabet whose table is
// values, and reports whether s is of that form. Only the alphabet's own
// characters are taken (no lower case, no Crockford aliases), so that
// unpackID gives back s exactly.
func packID(s string, values *[256]byte) (packedID, bool) {
	var p packedID
	if len(s) != packedChars {
		return p, false
	}
	var acc uint32
	bits, j := 0, 0
	for i := 0; i < len(s); i++ {
		v := values[s[i]]
		if v == 0xff {
			return p, false
		}
		acc = acc<<5 | uint32(v)
		if bits += 5; bits >= 8 {
			bits -= 8
			p[j] = byte(acc >> bits)
			j++
		}
	}
	p[j] = byte(acc << (8 - bits))
	return p, true
}

// unpackID returns the 26 characters of alphabet that p packs.
func unpackID(p *packedID, alphabet string) string {
	var b [packedChars]byte
	var acc uint32
	bits, j := 0, 0
	for i := range b {
		if bits < 5 {
			acc = acc<<8 | uint32(p[j])
			j++
			bits += 8
		}
		bits -= 5
		b[i] = alphabet[acc>>bits&31]
	}
	return string(b[:])
}

// shortKey is a user, organization or connection revocation's kind and
// id, which is the kind's prefix and a ULID: prof_, org_ or conn_ and 26
// characters of Crockford's base32, as every id WorkOS makes.
type shortKey struct {
	kind RevocationKind
	ulid packedID
}

// idPrefix returns the prefix of the ids of kind, for the kinds of
// shortKey.
func idPrefix(kind RevocationKind) string {
	switch kind {
	case UserRevocation:
		return "prof_"
	case OrganizationRevocation:
		return "org_"
	case ConnectionRevocation:
		return "conn_"
	}
	return ""
}

// shortKeyOf returns the inline key of kind and id, if id has WorkOS's
// form.
func shortKeyOf(kind RevocationKind, id string) (shortKey, bool) {
	prefix := idPrefix(kind)
	if prefix == "" || !strings.HasPrefix(id, prefix) {
		return shortKey{}, false
	}
	p, ok := packID(id[len(prefix):], ulidValues)
	return shortKey{kind, p}, ok
}

// idOf returns the id a shortKey holds.
func (k *shortKey) idOf() string { return idPrefix(k.kind) + unpackID(&k.ulid, ulidAlphabet) }

// sessionKey is a session id packed as a map key.
type sessionKey = packedID

// revocationRecord is a revocation's times, in Unix ms, as 16 bytes with
// no alignment (see packedIDLen).
type revocationRecord [16]byte

func newRecord(at, expires int64) revocationRecord {
	var r revocationRecord
	binary.LittleEndian.PutUint64(r[:8], uint64(at))
	binary.LittleEndian.PutUint64(r[8:], uint64(expires))
	return r
}

// at is when sessions issued (and sign-ins started) at or before it plus
// ClockSkew are revoked; session revocations ignore it.
func (r *revocationRecord) at() int64 { return int64(binary.LittleEndian.Uint64(r[:8])) }

// expires is when the record is forgotten.
func (r *revocationRecord) expires() int64 { return int64(binary.LittleEndian.Uint64(r[8:])) }

// get returns the record of kind and id.
func (s *revocationSet) get(kind RevocationKind, id string) (revocationRecord, bool) {
	if kind == IdentityRevocation {
		k, _ := parseIdentityID(id)
		rec, ok := s.identities[k]
		return rec, ok
	}
	if kind == SessionRevocation {
		if k, ok := packID(id, base32Values); ok {
			rec, ok := s.sessions[k]
			return rec, ok
		}
	} else if k, ok := shortKeyOf(kind, id); ok {
		rec, ok := s.short[k]
		return rec, ok
	}
	rec, ok := s.m[revocationKey{kind, id}]
	return rec, ok
}

// put stores the record of kind and id.
func (s *revocationSet) put(kind RevocationKind, id string, rec revocationRecord) {
	if kind == IdentityRevocation {
		k, _ := parseIdentityID(id)
		s.identities[k] = rec
		return
	}
	if kind == SessionRevocation {
		if k, ok := packID(id, base32Values); ok {
			s.sessions[k] = rec
			return
		}
	} else if k, ok := shortKeyOf(kind, id); ok {
		s.short[k] = rec
		return
	}
	// The id may be a slice of a larger buffer: keep a copy only.
	s.m[revocationKey{kind, strings.Clone(id)}] = rec
}

type revocationKey struct {
	kind RevocationKind
	id   string
}

func newRevocationSet() *revocationSet {
	return &revocationSet{
		sessions:   make(map[sessionKey]revocationRecord),
		identities: make(map[identityKey]revocationRecord),
		short:      make(map[shortKey]revocationRecord),
		m:          make(map[revocationKey]revocationRecord),
	}
}

// add merges rs into the set at time now: for a key revoked twice, the
// later At and the later Expires hold. Expired revocations are skipped,
// and expired records are forgotten a few at a time.
//
// A backplane delivers the whole set now and then: what the set holds
// already is sorted out under the read lock, so that requests are not held
// up, and the epoch moves only if something changed, so that cached
// sessions are not checked again for nothing.
func (s *revocationSet) add(rs []Revocation, now time.Time) {
	nowMS := now.UnixMilli()
	// news indexes the revocations of rs that change the set: a cold
	// start's read of 500,000 is one slice made once.
	var news []int
	var nSessions, nShort int
	s.mu.RLock()
	for i, r := range rs {
		rec := newRecord(r.At.UnixMilli(), r.Expires.UnixMilli())
		if old, ok := s.get(r.Kind, r.ID); ok && old.at() >= rec.at() && old.expires() >= rec.expires() || rec.expires() < nowMS || r.Validate() != nil {
			continue
		}
		if news == nil {
			news = make([]int, 0, len(rs)-i)
		}
		news = append(news, i)
		switch r.Kind {
		case SessionRevocation:
			nSessions++
		case UserRevocation, OrganizationRevocation, ConnectionRevocation:
			nShort++
		}
	}
	s.mu.RUnlock()
	if len(news) == 0 {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	// A map about to more than double is made anew at its final size: one
	// grown entry by entry costs a garbage collection more (see
	// newSessionCache), and costs the growing.
	s.sessions = reserve(s.sessions, nSessions)
	s.short = reserve(s.short, nShort)
	changed := false
	for _, i := range news {
		r := &rs[i]
		rec := newRecord(r.At.UnixMilli(), r.Expires.UnixMilli())
		if old, ok := s.get(r.Kind, r.ID); ok {
			rec = newRecord(max(rec.at(), old.at()), max(rec.expires(), old.expires()))
		}
		s.put(r.Kind, r.ID, rec)
		changed = true
	}
	// Expired records are forgotten by sampling, as Redis expires keys:
	// each change visits a few records more than it adds, from a random
	// place of each map, so that the set does not grow without bound and
	// no change costs a sweep of all of it.
	visit := max(revocationPruneSample, 2*len(news))
	changed = prune(s.sessions, visit, nowMS) || changed
	changed = prune(s.short, visit, nowMS) || changed
	changed = prune(s.m, visit, nowMS) || changed
	changed = prune(s.identities, visit, nowMS) || changed
	if changed {
		s.size.Store(int64(len(s.m) + len(s.short) + len(s.sessions) + len(s.identities)))
		s.nIdentities.Store(int64(len(s.identities)))
		s.epoch.Add(1)
	}
}

// reserve returns m, or a copy of it with room for extra more entries if
// that is more than it holds.
func reserve[K comparable](m map[K]revocationRecord, extra int) map[K]revocationRecord {
	if extra <= len(m) || extra < 1024 {
		return m
	}
	r := make(map[K]revocationRecord, len(m)+extra)
	maps.Copy(r, m)
	return r
}

// prune visits up to visit records of m, from a random place, and deletes
// those expired before nowMS. It reports whether it deleted any.
func prune[K comparable](m map[K]revocationRecord, visit int, nowMS int64) bool {
	deleted := false
	for k, rec := range m {
		if visit--; visit < 0 {
			break
		}
		if rec.expires() < nowMS {
			delete(m, k)
			deleted = true
		}
	}
	return deleted
}

// setUnsure sets whether sessions must be refused because the backplane
// cannot vouch for the set.
func (s *revocationSet) setUnsure(unsure bool) {
	if s.unsure.Swap(unsure) != unsure {
		s.epoch.Add(1)
	}
}

// check returns [ErrSessionRevoked] if a revocation matches sess,
// ErrRevocationsUnavailable while the backplane asks to fail closed, and nil
// otherwise.
func (s *revocationSet) check(sess *Session) error {
	return s.match(sess.ID, &sess.Profile, sess.IssuedAt)
}

// checkSignIn is check for a sign-in that started at started and has just
// yielded p: it is refused if a user, organization or connection
// revocation made since (or up to ClockSkew before) matches p.
func (s *revocationSet) checkSignIn(p *Profile, started time.Time) error {
	return s.match("", p, started)
}

// match reports whether a revocation matches the session id (if any) or
// the profile of a session issued at iat.
func (s *revocationSet) match(id string, p *Profile, iat time.Time) error {
	if s.unsure.Load() {
		return ErrRevocationsUnavailable
	}
	if s.size.Load() == 0 {
		return nil
	}
	ms := iat.UnixMilli() - ClockSkew.Milliseconds()
	keys := [...]revocationKey{
		{UserRevocation, p.ID},
		{OrganizationRevocation, p.OrganizationID},
		{ConnectionRevocation, p.ConnectionID},
	}
	var idKeys [2]identityKey
	nIDKeys := 0
	if s.nIdentities.Load() > 0 {
		nIDKeys = identityKeysOf(p, &idKeys)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// A session id is random and never reused: its revocation needs no
	// time, so a sign-out holds whatever the clocks of the replica that
	// signed the session in and of the one that signed it out.
	if _, ok := s.get(SessionRevocation, id); ok {
		return ErrSessionRevoked
	}
	for _, k := range keys {
		if k.id == "" {
			continue
		}
		if rec, ok := s.get(k.kind, k.id); ok && ms <= rec.at() {
			return ErrSessionRevoked
		}
	}
	for _, k := range idKeys[:nIDKeys] {
		if rec, ok := s.identities[k]; ok && ms <= rec.at() {
			return ErrSessionRevoked
		}
	}
	return nil
}

// holds reports whether every revocation of rs is in force here, with an
// At and Expires no earlier than its own.
func (s *revocationSet) holds(rs []Revocation) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range rs {
		rec, ok := s.get(r.Kind, r.ID)
		if !ok || rec.at() < r.At.UnixMilli() || rec.expires() < r.Expires.UnixMilli() {
			return false
		}
	}
	return true
}

// all yields the revocations held that have not expired. It holds the read
// lock while it yields: yield must not add revocations.
func (s *revocationSet) all(yield func(Revocation) bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for k, rec := range s.sessions {
		if !yield(Revocation{Kind: SessionRevocation, ID: unpackID(&k, base32Alphabet), At: time.UnixMilli(rec.at()), Expires: time.UnixMilli(rec.expires())}) {
			return
		}
	}
	for k, rec := range s.identities {
		if !yield(Revocation{Kind: IdentityRevocation, ID: k.String(), At: time.UnixMilli(rec.at()), Expires: time.UnixMilli(rec.expires())}) {
			return
		}
	}
	for k, rec := range s.short {
		if !yield(Revocation{Kind: k.kind, ID: k.idOf(), At: time.UnixMilli(rec.at()), Expires: time.UnixMilli(rec.expires())}) {
			return
		}
	}
	for k, rec := range s.m {
		if !yield(Revocation{Kind: k.kind, ID: k.id, At: time.UnixMilli(rec.at()), Expires: time.UnixMilli(rec.expires())}) {
			return
		}
	}
}

// len returns the number of revocations held.
func (s *revocationSet) len() int { return int(s.size.Load()) }

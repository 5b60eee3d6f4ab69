package ssogate

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// The session payload, version 2, is:
//
//	version byte (2)
//	flags byte: bit 0 role present, bit 1 custom attributes present,
//	bit 2 authenticated-at present
//	session id: uvarint length (22) and the bytes
//	id, idp_id, email, first_name, last_name, name, organization_id,
//	connection_id, connection_type: each a uvarint length and the bytes
//	role slug, if bit 0: uvarint length and bytes
//	roles: uvarint count, then each slug as uvarint length and bytes
//	groups: uvarint count, then each as uvarint length and bytes
//	issued at: Unix milliseconds as a zigzag varint
//	expires at, last seen: Unix seconds as zigzag varints
//	authenticated at, if bit 2: Unix milliseconds as a zigzag varint
//	custom attributes, if bit 1: uvarint length and a JSON object
//
// Version 1 had no session id and no last-seen time, and issued-at in
// seconds; its cookies are refused, which signs their holders out once.
//
// It is compact, needs no registration as gob does, and is quick to decode.
// It is only ever read after its MAC has been verified, but the decoder
// checks everything anyway.
const (
	sessionVersion    = 2
	loginStateVersion = 2

	flagRole          = 1 << 0
	flagCustom        = 1 << 1
	flagAuthenticated = 1 << 2

	stateFlagForceLogin = 1 << 0
	stateFlagUnverified = 1 << 1

	// maxListLen bounds the number of roles and of groups, so that a
	// decoder never allocates for more entries than a payload could hold.
	maxListLen = 1 << 14
)

var errBadPayload = errors.New("ssogate: malformed payload")

// appendSession appends the encoding of s to b.
func appendSession(b []byte, s *Session) ([]byte, error) {
	p := &s.Profile
	if len(p.Roles) > maxListLen || len(p.Groups) > maxListLen {
		return nil, ErrSessionTooLarge
	}
	var custom []byte
	if len(p.CustomAttributes) > 0 {
		var err error
		if custom, err = json.Marshal(p.CustomAttributes); err != nil {
			return nil, err
		}
	}
	var flags byte
	if p.Role != nil {
		flags |= flagRole
	}
	if custom != nil {
		flags |= flagCustom
	}
	if !s.AuthenticatedAt.IsZero() {
		flags |= flagAuthenticated
	}
	b = append(b, sessionVersion, flags)
	b = appendString(b, s.ID)
	for _, f := range [...]string{p.ID, p.IdPID, p.Email, p.FirstName, p.LastName, p.Name,
		p.OrganizationID, p.ConnectionID, string(p.ConnectionType)} {
		b = appendString(b, f)
	}
	if p.Role != nil {
		b = appendString(b, p.Role.Slug)
	}
	b = appendUvarint(b, uint64(len(p.Roles)))
	for _, r := range p.Roles {
		b = appendString(b, r.Slug)
	}
	b = appendUvarint(b, uint64(len(p.Groups)))
	for _, g := range p.Groups {
		b = appendString(b, g)
	}
	b = appendVarint(b, s.IssuedAt.UnixMilli())
	b = appendVarint(b, s.ExpiresAt.Unix())
	b = appendVarint(b, s.LastSeen.Unix())
	if flags&flagAuthenticated != 0 {
		b = appendVarint(b, s.AuthenticatedAt.UnixMilli())
	}
	if custom != nil {
		b = appendString(b, string(custom))
	}
	return b, nil
}

// decodeSession decodes a session payload. It rejects unknown versions and
// flags, truncated data, overlong lengths and trailing bytes.
func decodeSession(b []byte) (*Session, error) {
	blk, err := decodeSessionBlock(b, "")
	if err != nil {
		return nil, err
	}
	return &blk.s, nil
}

// A sessionBlock is a decoded session with what it holds, in one
// allocation: its role, its first roles and groups, and its entry in the
// verified-session cache. A cached session is then two objects for the
// garbage collector to mark, this one and the string that backs its fields
// and its cookie, where it was six: 100,000 cached sessions cost a full
// collection about a sixth less than with the roles and groups apart
// (BenchmarkSessionCacheGC), for 48 bytes a session.
type sessionBlock struct {
	s      Session
	role   workos.Role
	roles  [2]workos.Role
	groups [4]string
	entry  cacheEntry
}

// decodeSessionBlock is decodeSession for a session to cache under cookie:
// its fields and a copy of cookie share one string, and entry holds the
// copy and the session.
func decodeSessionBlock(b []byte, cookie string) (*sessionBlock, error) {
	if len(b) < 2 || b[0] != sessionVersion || b[1]&^(flagRole|flagCustom|flagAuthenticated) != 0 {
		return nil, errBadPayload
	}
	flags := b[1]
	// One string backs every field, and the fields are slices of it; the
	// cookie follows them.
	var all strings.Builder
	all.Grow(len(b) - 2 + len(cookie))
	all.Write(b[2:])
	all.WriteString(cookie)
	backing := all.String()
	d := decoder{s: backing[:len(b)-2]}
	block := new(sessionBlock)
	s := &block.s
	block.entry.value, block.entry.sess = backing[len(b)-2:], s
	if s.ID = d.string(); len(s.ID) != sessionIDLen {
		return nil, errBadPayload
	}
	p := &s.Profile
	p.ID = d.string()
	p.IdPID = d.string()
	p.Email = d.string()
	p.FirstName = d.string()
	p.LastName = d.string()
	p.Name = d.string()
	p.OrganizationID = d.string()
	p.ConnectionID = d.string()
	p.ConnectionType = workos.ConnectionType(d.string())
	if flags&flagRole != 0 {
		block.role.Slug = d.string()
		p.Role = &block.role
	}
	if n := d.count(); n > 0 {
		if n <= len(block.roles) {
			p.Roles = block.roles[:n:n]
		} else {
			p.Roles = make([]workos.Role, n)
		}
		for i := range p.Roles {
			p.Roles[i].Slug = d.string()
		}
	}
	if n := d.count(); n > 0 {
		if n <= len(block.groups) {
			p.Groups = block.groups[:n:n]
		} else {
			p.Groups = make([]string, n)
		}
		for i := range p.Groups {
			p.Groups[i] = d.string()
		}
	}
	s.IssuedAt = time.UnixMilli(d.varint())
	s.ExpiresAt = time.Unix(d.varint(), 0)
	s.LastSeen = time.Unix(d.varint(), 0)
	if flags&flagAuthenticated != 0 {
		s.AuthenticatedAt = time.UnixMilli(d.varint())
	}
	if flags&flagCustom != 0 {
		raw := d.string()
		if d.err == nil {
			if err := json.Unmarshal([]byte(raw), &p.CustomAttributes); err != nil || p.CustomAttributes == nil {
				return nil, errBadPayload
			}
		}
	}
	if d.err != nil || len(d.s) != 0 {
		return nil, errBadPayload
	}
	return block, nil
}

// appendLoginState appends the encoding of st to b: a version byte, a
// flags byte (bit 0: prompt=login; bit 1: the intent's ids are
// unverified), the string fields as in a session
// payload, and CreatedAt in Unix nanoseconds as a zigzag varint.
func appendLoginState(b []byte, st *loginState) []byte {
	var flags byte
	if st.ForceLogin {
		flags |= stateFlagForceLogin
	}
	if st.Unverified {
		flags |= stateFlagUnverified
	}
	b = append(b, loginStateVersion, flags)
	for _, f := range [...]string{st.State, st.Verifier, st.ReturnTo, st.OrganizationID,
		st.ConnectionID, string(st.Provider), st.LoginHint} {
		b = appendString(b, f)
	}
	return appendVarint(b, st.CreatedAt.UnixNano())
}

// decodeLoginState decodes a login state payload.
func decodeLoginState(b []byte) (*loginState, error) {
	if len(b) < 2 || b[0] != loginStateVersion || b[1]&^(stateFlagForceLogin|stateFlagUnverified) != 0 {
		return nil, errBadPayload
	}
	d := decoder{s: string(b[2:])}
	st := &loginState{
		ForceLogin:     b[1]&stateFlagForceLogin != 0,
		Unverified:     b[1]&stateFlagUnverified != 0,
		State:          d.string(),
		Verifier:       d.string(),
		ReturnTo:       d.string(),
		OrganizationID: d.string(),
		ConnectionID:   d.string(),
		Provider:       workos.OAuthProvider(d.string()),
		LoginHint:      d.string(),
	}
	st.CreatedAt = time.Unix(0, d.varint())
	if d.err != nil || len(d.s) != 0 {
		return nil, errBadPayload
	}
	return st, nil
}

func appendUvarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func appendVarint(b []byte, x int64) []byte {
	return appendUvarint(b, uint64(x<<1)^uint64(x>>63))
}

func appendString(b []byte, s string) []byte {
	return append(appendUvarint(b, uint64(len(s))), s...)
}

// decoder reads a payload. After the first error every read returns a zero
// value and err stays set, so callers check err once at the end.
type decoder struct {
	s   string
	err error
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for i := 0; i < len(d.s) && d.err == nil; i++ {
		c := d.s[i]
		if i == 9 && c > 1 { // more than 64 bits
			break
		}
		if c < 0x80 {
			d.s = d.s[i+1:]
			return x | uint64(c)<<(7*i)
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	d.err = errBadPayload
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	return int64(ux>>1) ^ -int64(ux&1)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)) {
		d.err = errBadPayload
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

// count reads the length of a list. Every entry takes at least one byte, so
// a count above the bytes left is malformed and is refused before anything
// is allocated for it.
func (d *decoder) count() int {
	n := d.uvarint()
	if d.err != nil || n > maxListLen || n > uint64(len(d.s)) {
		d.err = errBadPayload
		return 0
	}
	return int(n)
}

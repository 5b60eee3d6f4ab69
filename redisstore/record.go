package redisstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workos"
)

// The format of what the store writes to Redis, version 2.
//
// A revocation is a member of the sorted set, scored by its expiry in Unix
// milliseconds: a letter for its kind (s session, u user, o organization,
// c connection, i identity), ':', the id, ':', and its time in Unix milliseconds, as
//
//	s:ABCDEFGHIJKLMNOPQRSTUVWXYZ:1767268800123
//
// so that storing a revocation twice adds nothing. Ids hold only letters,
// digits, '_' and '-' (ssogate validates them), never ':' or a space.
//
// An update is an entry of the stream with the fields v ("2"), r (its
// revocations, one "member expires" line each, at most maxEntryRevocations)
// and, for a connection event, e (the event as JSON). A large update is
// several entries, written together.
const formatVersion = "2"

// Bounds on what is decoded from Redis: whoever can write to it must not
// make a replica allocate without limit.
const (
	maxMemberBytes      = 200
	maxEntryRevocations = 1000
	maxEntryBytes       = maxEntryRevocations*(maxMemberBytes+21) + 64<<10
)

var errMalformed = errors.New("redisstore: malformed record")

var kindLetters = map[ssogate.RevocationKind]byte{
	ssogate.SessionRevocation:      's',
	ssogate.UserRevocation:         'u',
	ssogate.OrganizationRevocation: 'o',
	ssogate.ConnectionRevocation:   'c',
	ssogate.IdentityRevocation:     'i',
}

// errUnknownKind reports a revocation of a kind this version does not
// know, as a newer replica writes during a rolling upgrade: it is skipped,
// and the rest of what holds it is read.
var errUnknownKind = errors.New("redisstore: revocation of an unknown kind")

// memberOf returns r's member of the sorted set.
func memberOf(r ssogate.Revocation) string {
	return string(kindLetters[r.Kind]) + ":" + r.ID + ":" + strconv.FormatInt(r.At.UnixMilli(), 10)
}

// decodeMember decodes a member of the sorted set with its score, the
// revocation's expiry in Unix milliseconds.
func decodeMember(m string, expires int64) (ssogate.Revocation, error) {
	if len(m) > maxMemberBytes || len(m) < 5 || m[1] != ':' {
		return ssogate.Revocation{}, errMalformed
	}
	var kind ssogate.RevocationKind
	for k, l := range kindLetters {
		if l == m[0] {
			kind = k
		}
	}
	id, at, ok := strings.Cut(m[2:], ":")
	atMS, err := strconv.ParseInt(at, 10, 64)
	if kind == 0 && 'a' <= m[0] && m[0] <= 'z' && ok && err == nil && atMS > 0 {
		return ssogate.Revocation{}, errUnknownKind
	}
	if kind == 0 || !ok || err != nil || atMS <= 0 || expires < atMS || strconv.FormatInt(atMS, 10) != at {
		return ssogate.Revocation{}, errMalformed
	}
	r := ssogate.Revocation{Kind: kind, ID: id, At: time.UnixMilli(atMS), Expires: time.UnixMilli(expires)}
	if r.Validate() != nil {
		return ssogate.Revocation{}, errMalformed
	}
	return r, nil
}

// entryLines returns the r field of a stream entry for revs.
func entryLines(revs []ssogate.Revocation) string {
	var b strings.Builder
	for i, r := range revs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(memberOf(r))
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(r.Expires.UnixMilli(), 10))
	}
	return b.String()
}

// decodeEntry decodes the fields of a stream entry. An entry with any
// malformed part is refused whole; revocations of a kind this version
// does not know are skipped, and an entry of nothing else is
// errUnknownKind.
func decodeEntry(values map[string]any) (ssogate.Update, error) {
	field := func(name string) (string, error) {
		v, ok := values[name]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%w: field %s is not a string", errMalformed, name)
		}
		return s, nil
	}
	for name := range values {
		if name != "v" && name != "r" && name != "e" {
			return ssogate.Update{}, fmt.Errorf("%w: unknown field", errMalformed)
		}
	}
	v, err := field("v")
	if err != nil {
		return ssogate.Update{}, err
	}
	if v != formatVersion {
		return ssogate.Update{}, fmt.Errorf("%w: version %q", errMalformed, v)
	}
	lines, err := field("r")
	if err != nil {
		return ssogate.Update{}, err
	}
	ev, err := field("e")
	if err != nil {
		return ssogate.Update{}, err
	}
	if len(lines)+len(ev) > maxEntryBytes {
		return ssogate.Update{}, fmt.Errorf("%w: entry of %d bytes", errMalformed, len(lines)+len(ev))
	}
	var u ssogate.Update
	if lines != "" {
		if n := strings.Count(lines, "\n") + 1; n > maxEntryRevocations {
			return ssogate.Update{}, fmt.Errorf("%w: %d revocations in one entry", errMalformed, n)
		}
		u.Revocations = make([]ssogate.Revocation, 0, strings.Count(lines, "\n")+1)
		for line := range strings.SplitSeq(lines, "\n") {
			m, exp, ok := strings.Cut(line, " ")
			expMS, err := strconv.ParseInt(exp, 10, 64)
			if !ok || err != nil {
				return ssogate.Update{}, errMalformed
			}
			r, err := decodeMember(m, expMS)
			if errors.Is(err, errUnknownKind) {
				continue
			}
			if err != nil {
				return ssogate.Update{}, err
			}
			u.Revocations = append(u.Revocations, r)
		}
	}
	if ev != "" {
		var e workos.Event
		if err := strictUnmarshal([]byte(ev), &e); err != nil || e.Event == "" || e.CreatedAt.IsZero() {
			return ssogate.Update{}, fmt.Errorf("%w: event", errMalformed)
		}
		u.Event = &e
	}
	if u.Event == nil && len(u.Revocations) == 0 {
		if lines != "" {
			return ssogate.Update{}, errUnknownKind
		}
		return ssogate.Update{}, fmt.Errorf("%w: empty entry", errMalformed)
	}
	return u, nil
}

// strictUnmarshal decodes one JSON value with no unknown fields and nothing
// after it.
func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

package redisstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate"
)

// messageVersion is the version of the records and messages this package
// writes; others are refused.
const messageVersion = 1

// Bounds on what is decoded from Redis.
const (
	maxMessageBytes       = 1 << 20
	maxMessageRevocations = 10000
	maxRecordBytes        = 512
)

// record is a revocation as Redis holds it: a member of the sorted set
// (scored by Expires) and an entry of a published message.
type record struct {
	V       int    `json:"v"`
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	At      int64  `json:"at"`      // Unix ms
	Expires int64  `json:"expires"` // Unix ms
}

// message is an update as published on the channel.
type message struct {
	V           int            `json:"v"`
	Revocations []record       `json:"revocations,omitempty"`
	Event       *ssogate.Event `json:"event,omitempty"`
}

var errMalformed = errors.New("redisstore: malformed record")

var kinds = map[string]ssogate.RevocationKind{
	ssogate.SessionRevocation.String():      ssogate.SessionRevocation,
	ssogate.UserRevocation.String():         ssogate.UserRevocation,
	ssogate.OrganizationRevocation.String(): ssogate.OrganizationRevocation,
	ssogate.ConnectionRevocation.String():   ssogate.ConnectionRevocation,
}

func encodeRecord(r ssogate.Revocation) record {
	return record{V: messageVersion, Kind: r.Kind.String(), ID: r.ID, At: r.At.UnixMilli(), Expires: r.Expires.UnixMilli()}
}

// member is the record's sorted-set member: its JSON, whose fields always
// come in the same order, so that storing a revocation twice adds nothing.
func (rec record) member() string {
	b, _ := json.Marshal(rec) // a struct of strings and numbers
	return string(b)
}

// revocation checks rec and returns the revocation it holds.
func (rec record) revocation() (ssogate.Revocation, error) {
	kind, ok := kinds[rec.Kind]
	if rec.V != messageVersion || !ok || rec.At <= 0 || rec.Expires < rec.At {
		return ssogate.Revocation{}, errMalformed
	}
	r := ssogate.Revocation{Kind: kind, ID: rec.ID, At: time.UnixMilli(rec.At), Expires: time.UnixMilli(rec.Expires)}
	if err := r.Validate(); err != nil {
		return ssogate.Revocation{}, errMalformed
	}
	return r, nil
}

// decodeMember decodes a member of the sorted set.
func decodeMember(m string) (ssogate.Revocation, error) {
	if len(m) > maxRecordBytes {
		return ssogate.Revocation{}, errMalformed
	}
	var rec record
	if err := strictUnmarshal([]byte(m), &rec); err != nil {
		return ssogate.Revocation{}, errMalformed
	}
	return rec.revocation()
}

// decodeMessage decodes a published update. A message with any malformed
// part is refused whole.
func decodeMessage(b []byte) (ssogate.Update, error) {
	if len(b) > maxMessageBytes {
		return ssogate.Update{}, fmt.Errorf("%w: message of %d bytes", errMalformed, len(b))
	}
	var msg message
	if err := strictUnmarshal(b, &msg); err != nil {
		return ssogate.Update{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if msg.V != messageVersion || len(msg.Revocations) > maxMessageRevocations {
		return ssogate.Update{}, fmt.Errorf("%w: version %d with %d revocations", errMalformed, msg.V, len(msg.Revocations))
	}
	u := ssogate.Update{Event: msg.Event}
	for _, rec := range msg.Revocations {
		r, err := rec.revocation()
		if err != nil {
			return ssogate.Update{}, err
		}
		u.Revocations = append(u.Revocations, r)
	}
	if u.Event != nil && (u.Event.Event == "" || u.Event.CreatedAt.IsZero()) {
		return ssogate.Update{}, fmt.Errorf("%w: event without a type or a time", errMalformed)
	}
	if u.Event == nil && len(u.Revocations) == 0 {
		return ssogate.Update{}, fmt.Errorf("%w: empty update", errMalformed)
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

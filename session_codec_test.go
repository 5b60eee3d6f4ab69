package ssogate

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestSessionPayloadRefuses(t *testing.T) {
	good, err := appendSession(nil, &Session{ID: testSessionID, Profile: *aliceProfile(), IssuedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeSession(good); err != nil {
		t.Fatalf("decodeSession(good): %v", err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "empty", b: nil},
		{name: "version only", b: []byte{sessionVersion}},
		{name: "version 1", b: append([]byte{1}, good[1:]...)},
		{name: "unknown version", b: append([]byte{3}, good[1:]...)},
		{name: "short session id", b: append([]byte{sessionVersion, 0}, appendString(nil, testSessionID[1:])...)},
		{name: "unknown flag", b: append([]byte{sessionVersion, 0x80}, good[2:]...)},
		{name: "truncated", b: good[:len(good)-1]},
		{name: "trailing byte", b: append(slices.Clone(good), 0)},
		{name: "overlong string", b: []byte{sessionVersion, 0, 0x7f, 'a'}},
		{name: "varint overflow", b: []byte{sessionVersion, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{name: "huge group count", b: hugeGroupCount()},
		{name: "custom flag with bad json", b: withCustom(good, "{")},
		{name: "custom flag with json null", b: withCustom(good, "null")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := decodeSession(tt.b); err == nil {
				t.Errorf("got %+v, want an error", s)
			}
		})
	}
}

// testSessionID is a well-formed session id.
const testSessionID = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// hugeGroupCount returns a payload claiming more groups than it could hold.
func hugeGroupCount() []byte {
	b := appendString([]byte{sessionVersion, 0}, testSessionID)
	for range 9 {
		b = appendString(b, "")
	}
	b = appendUvarint(b, 0)      // roles
	b = appendUvarint(b, 1<<40)  // groups
	return append(b, 0, 0, 0, 0) // a few bytes that could be groups
}

// withCustom returns good with the custom attributes flag and blob set.
func withCustom(good []byte, blob string) []byte {
	b := slices.Clone(good)
	b[1] |= flagCustom
	return appendString(b, blob)
}

func TestSessionPayloadTooManyGroups(t *testing.T) {
	p := aliceProfile()
	p.Groups = make([]string, maxListLen+1)
	if _, err := appendSession(nil, &Session{Profile: *p}); !errors.Is(err, ErrSessionTooLarge) {
		t.Errorf("got %v, want ErrSessionTooLarge", err)
	}
}

package redisstore

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate"
)

func testRevocation() ssogate.Revocation {
	at := time.UnixMilli(1796276520051)
	return ssogate.Revocation{Kind: ssogate.UserRevocation, ID: "prof_alice", At: at, Expires: at.Add(ssogate.MaxSessionLifetime)}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []ssogate.Revocation{
		testRevocation(),
		ssogate.RevokeSession("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
		ssogate.RevokeOrganization("org_acme"),
		ssogate.RevokeConnection("conn_acme_okta"),
	} {
		if r.At.IsZero() {
			r.At, r.Expires = time.UnixMilli(1000), time.UnixMilli(2000)
		}
		m := encodeRecord(r).member()
		got, err := decodeMember(m)
		if err != nil {
			t.Fatalf("decodeMember(%s): %v", m, err)
		}
		if got.Kind != r.Kind || got.ID != r.ID || !got.At.Equal(r.At) || !got.Expires.Equal(r.Expires) {
			t.Errorf("got %+v, want %+v", got, r)
		}
		if again := encodeRecord(got).member(); again != m {
			t.Errorf("member not stable: %s then %s", m, again)
		}
	}
}

func TestDecodeMemberRefuses(t *testing.T) {
	good := encodeRecord(testRevocation()).member()
	tests := []struct{ name, member string }{
		{"empty", ""},
		{"not json", "prof_alice"},
		{"null", "null"},
		{"array", "[]"},
		{"other version", strings.Replace(good, `"v":1`, `"v":2`, 1)},
		{"unknown kind", strings.Replace(good, `"kind":"user"`, `"kind":"admin"`, 1)},
		{"malformed id", strings.Replace(good, `prof_alice`, `prof alice`, 1)},
		{"id of another kind", strings.Replace(good, `prof_alice`, `org_acme`, 1)},
		{"empty id", strings.Replace(good, `"prof_alice"`, `""`, 1)},
		{"expires before at", `{"v":1,"kind":"user","id":"prof_a","at":10,"expires":5}`},
		{"no time", `{"v":1,"kind":"user","id":"prof_a","at":0,"expires":5}`},
		{"unknown field", strings.Replace(good, `{`, `{"x":1,`, 1)},
		{"trailing data", good + " {}"},
		{"too long", `{"v":1,"kind":"user","id":"prof_` + strings.Repeat("a", 600) + `","at":1,"expires":2}`},
		{"number as string", strings.Replace(good, `"at":1796276520051`, `"at":"1796276520051"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := decodeMember(tt.member); !errors.Is(err, errMalformed) {
				t.Errorf("got %+v, %v; want errMalformed", r, err)
			}
		})
	}
}

func TestDecodeMessage(t *testing.T) {
	rec := encodeRecord(testRevocation())
	ev := &ssogate.Event{ID: "event_1", Event: ssogate.EventConnectionDeleted, Data: json.RawMessage(`{"id":"conn_x"}`), CreatedAt: time.UnixMilli(5)}
	good, _ := json.Marshal(message{V: 1, Revocations: []record{rec}, Event: ev})
	u, err := decodeMessage(good)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Revocations) != 1 || u.Revocations[0].ID != "prof_alice" || u.Event == nil || u.Event.ID != "event_1" || u.Resync {
		t.Errorf("got %+v", u)
	}
	bad := []string{
		"", "junk", "{}", `{"v":1}`, `{"v":2,"revocations":[` + rec.member() + `]}`,
		`{"v":1,"revocations":[{"v":1,"kind":"user","id":"","at":1,"expires":2}]}`,
		`{"v":1,"event":{"id":"event_1","event":"","created_at":"2026-01-01T00:00:00Z"}}`,
		`{"v":1,"event":{"id":"event_1","event":"connection.deleted"}}`,
		`{"v":1,"resync":true,"revocations":[` + rec.member() + `]}`,
		`{"v":1,"revocations":[` + strings.Repeat(rec.member()+",", maxMessageRevocations) + rec.member() + `]}`,
	}
	for _, b := range bad {
		if u, err := decodeMessage([]byte(b)); !errors.Is(err, errMalformed) {
			name := b
			if len(name) > 80 {
				name = name[:80] + "..."
			}
			t.Errorf("decodeMessage(%s): got %+v, %v; want errMalformed", name, u, err)
		}
	}
}

// FuzzDecodeMember checks that the decoder of sorted-set members never
// panics and accepts only what encodes back to the same member.
func FuzzDecodeMember(f *testing.F) {
	f.Add(encodeRecord(testRevocation()).member())
	f.Add(`{"v":1,"kind":"session","id":"ABCDEFGHIJKLMNOPQRSTUVWXYZ","at":1,"expires":1}`)
	f.Add(`{"v":1,"kind":"user","id":"prof_a","at":10,"expires":5}`)
	f.Add("")
	f.Fuzz(func(t *testing.T, m string) {
		r, err := decodeMember(m)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid revocation %+v: %v", r, err)
		}
		if _, err := decodeMember(encodeRecord(r).member()); err != nil {
			t.Fatalf("accepted %q but not its encoding: %v", m, err)
		}
	})
}

// FuzzDecodeMessage checks that the decoder of published updates never
// panics and returns only valid revocations.
func FuzzDecodeMessage(f *testing.F) {
	good, _ := json.Marshal(message{V: 1, Revocations: []record{encodeRecord(testRevocation())}})
	f.Add(good)
	f.Add([]byte(`{"v":1,"event":{"id":"e","event":"connection.deleted","data":{"id":"conn_x"},"created_at":"2026-01-01T00:00:00Z"}}`))
	f.Add([]byte(`{"v":1,"revocations":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := decodeMessage(b)
		if err != nil {
			return
		}
		if u.Event == nil && len(u.Revocations) == 0 {
			t.Fatal("accepted an empty update")
		}
		for _, r := range u.Revocations {
			if err := r.Validate(); err != nil {
				t.Fatalf("accepted an invalid revocation %+v: %v", r, err)
			}
		}
	})
}

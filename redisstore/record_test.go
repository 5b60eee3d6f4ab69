package redisstore

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate"
)

func testRevocation() ssogate.Revocation {
	at := time.UnixMilli(1796276520051)
	return ssogate.Revocation{Kind: ssogate.UserRevocation, ID: "prof_alice", At: at, Expires: at.Add(ssogate.MaxSessionLifetime)}
}

func TestMemberRoundTrip(t *testing.T) {
	for _, r := range []ssogate.Revocation{
		testRevocation(),
		ssogate.RevokeSession("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
		ssogate.RevokeOrganization("org_acme"),
		ssogate.RevokeConnection("conn_acme_okta"),
		ssogate.RevokeIdentity("org_acme", "00u1abcd", "")[0],
	} {
		if r.At.IsZero() {
			r.At, r.Expires = time.UnixMilli(1000), time.UnixMilli(2000)
		}
		m := memberOf(r)
		got, err := decodeMember(m, r.Expires.UnixMilli())
		if err != nil {
			t.Fatalf("decodeMember(%s): %v", m, err)
		}
		if got.Kind != r.Kind || got.ID != r.ID || !got.At.Equal(r.At) || !got.Expires.Equal(r.Expires) {
			t.Errorf("got %+v, want %+v", got, r)
		}
		if again := memberOf(got); again != m {
			t.Errorf("member not stable: %s then %s", m, again)
		}
	}
	if m := memberOf(ssogate.Revocation{Kind: ssogate.SessionRevocation, ID: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", At: time.UnixMilli(1767268800123)}); m != "s:ABCDEFGHIJKLMNOPQRSTUVWXYZ:1767268800123" {
		t.Errorf("session member %q", m)
	}
}

func TestDecodeMemberRefuses(t *testing.T) {
	good := memberOf(testRevocation())
	exp := testRevocation().Expires.UnixMilli()
	tests := []struct {
		name    string
		member  string
		expires int64
	}{
		{"empty", "", exp},
		{"no kind", "prof_alice", exp},
		{"kind not a letter", "9" + good[1:], exp},
		{"kind a capital", "U" + good[1:], exp},
		{"malformed id", strings.Replace(good, "prof_alice", "prof alice", 1), exp},
		{"id of another kind", strings.Replace(good, "prof_alice", "org_acme", 1), exp},
		{"empty id", "u::1796276520051", exp},
		{"no time", "u:prof_alice", exp},
		{"time not a number", "u:prof_alice:soon", exp},
		{"time with a sign", "u:prof_alice:+1796276520051", exp},
		{"time with a leading zero", "u:prof_alice:01796276520051", exp},
		{"zero time", "u:prof_alice:0", exp},
		{"expires before at", good, 5},
		{"extra colon", "u:prof:alice:1796276520051", exp},
		{"too long", "u:prof_" + strings.Repeat("a", 300) + ":1", exp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := decodeMember(tt.member, tt.expires); !errors.Is(err, errMalformed) {
				t.Errorf("got %+v, %v; want errMalformed", r, err)
			}
		})
	}
}

func TestDecodeEntry(t *testing.T) {
	r := testRevocation()
	lines := entryLines([]ssogate.Revocation{r, ssogate.Revocation{Kind: ssogate.SessionRevocation, ID: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", At: r.At, Expires: r.At.Add(time.Hour)}})
	ev := `{"id":"event_1","event":"connection.deleted","data":{"id":"conn_x"},"created_at":"2026-01-01T00:00:00Z"}`
	u, err := decodeEntry(map[string]any{"v": "2", "r": lines, "e": ev})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Revocations) != 2 || u.Revocations[0].ID != "prof_alice" || u.Revocations[1].Kind != ssogate.SessionRevocation || u.Event == nil || u.Event.ID != "event_1" || u.Resync {
		t.Errorf("got %+v", u)
	}
	// A kind this version does not know, as a newer version writes, is
	// skipped; an entry of nothing else is errUnknownKind, not malformed.
	newer := "x:xid_1:1796276520051 " + strconv.FormatInt(r.Expires.UnixMilli(), 10)
	if u, err := decodeEntry(map[string]any{"v": "2", "r": newer + "\n" + lines}); err != nil || len(u.Revocations) != 2 {
		t.Errorf("an unknown kind beside known ones: %+v, %v", u, err)
	}
	if u, err := decodeEntry(map[string]any{"v": "2", "r": newer}); !errors.Is(err, errUnknownKind) || errors.Is(err, errMalformed) {
		t.Errorf("only an unknown kind: %+v, %v; want errUnknownKind", u, err)
	}
	many := strings.Repeat(memberOf(r)+" "+strconv.FormatInt(r.Expires.UnixMilli(), 10)+"\n", maxEntryRevocations) + memberOf(r) + " 1"
	bad := []map[string]any{
		{},
		{"v": "2"},
		{"v": "1", "r": lines},
		{"v": 2, "r": lines},
		{"v": "2", "r": lines, "x": "1"},
		{"v": "2", "r": "u:prof_alice:1"},
		{"v": "2", "r": lines + "\n"},
		{"v": "2", "r": "u:prof_alice:10 5"},
		{"v": "2", "e": `{"id":"event_1","event":"","created_at":"2026-01-01T00:00:00Z"}`},
		{"v": "2", "e": `{"id":"event_1","event":"connection.deleted"}`},
		{"v": "2", "e": `{"id":"event_1","event":"connection.deleted","created_at":"2026-01-01T00:00:00Z","x":1}`},
		{"v": "2", "r": many},
	}
	for _, values := range bad {
		if u, err := decodeEntry(values); !errors.Is(err, errMalformed) {
			b, _ := json.Marshal(values)
			name := string(b)
			if len(name) > 80 {
				name = name[:80] + "..."
			}
			t.Errorf("decodeEntry(%s): got %+v, %v; want errMalformed", name, u, err)
		}
	}
}

func TestDecodeV1Member(t *testing.T) {
	r, err := decodeV1Member(`{"v":1,"kind":"session","id":"ABCDEFGHIJKLMNOPQRSTUVWXYZ","at":5,"expires":9}`)
	if err != nil || r.Kind != ssogate.SessionRevocation || r.Expires.UnixMilli() != 9 {
		t.Errorf("got %+v, %v", r, err)
	}
	for _, m := range []string{"", "{}", `{"v":2,"kind":"user","id":"prof_a","at":5,"expires":9}`, `{"v":1,"kind":"user","id":"org_a","at":5,"expires":9}`} {
		if _, err := decodeV1Member(m); err == nil {
			t.Errorf("decodeV1Member(%s): accepted", m)
		}
	}
}

// FuzzDecodeMember checks that the decoder of sorted-set members never
// panics and accepts only what encodes back to the same member.
func FuzzDecodeMember(f *testing.F) {
	r := testRevocation()
	f.Add(memberOf(r), r.Expires.UnixMilli())
	f.Add("s:ABCDEFGHIJKLMNOPQRSTUVWXYZ:1", int64(1))
	f.Add("u:prof_a:10", int64(5))
	f.Add("i:"+ssogate.RevokeIdentity("org_acme", "00u1", "")[0].ID+":10", int64(20))
	f.Add("", int64(0))
	f.Fuzz(func(t *testing.T, m string, expires int64) {
		r, err := decodeMember(m, expires)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted an invalid revocation %+v: %v", r, err)
		}
		if again := memberOf(r); again != m {
			t.Fatalf("accepted %q, which encodes as %q", m, again)
		}
	})
}

// FuzzDecodeEntry checks that the decoder of stream entries never panics
// and returns only valid revocations.
func FuzzDecodeEntry(f *testing.F) {
	r := testRevocation()
	f.Add("2", entryLines([]ssogate.Revocation{r, r}), "")
	f.Add("2", "", `{"id":"e","event":"connection.deleted","data":{"id":"conn_x"},"created_at":"2026-01-01T00:00:00Z"}`)
	f.Add("2", "u:prof_a:10 5", "")
	f.Fuzz(func(t *testing.T, v, lines, ev string) {
		values := map[string]any{"v": v}
		if lines != "" {
			values["r"] = lines
		}
		if ev != "" {
			values["e"] = ev
		}
		u, err := decodeEntry(values)
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

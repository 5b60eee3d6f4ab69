package ssogate

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// fuzzSessionSeeds returns encodings of a few sessions.
func fuzzSessionSeeds(f *testing.F) [][]byte {
	f.Helper()
	alice := &Session{ID: testSessionID, Profile: *aliceProfile(), IssuedAt: time.UnixMilli(1767268800123),
		ExpiresAt: time.Unix(1767297600, 0), LastSeen: time.Unix(1767270000, 0)}
	stepped := *alice
	stepped.AuthenticatedAt = stepped.IssuedAt
	custom := &Session{ID: "ZYXWVUTSRQPONMLKJIHGFEDCBA", Profile: *aliceProfile(), IssuedAt: time.Unix(-5, 0), ExpiresAt: time.Unix(1<<40, 0)}
	custom.Profile.CustomAttributes = map[string]any{"department": "R&D", "n": 1.5, "list": []any{"a", nil, true}}
	custom.Profile.Role = nil
	var seeds [][]byte
	for _, s := range []*Session{alice, &stepped, custom, {ID: "22222222222222222222222222"}} {
		b, err := appendSession(nil, s)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzDecodeSession checks that the session payload decoder never panics,
// and that whatever it accepts encodes again to something it decodes the
// same way.
func FuzzDecodeSession(f *testing.F) {
	for _, b := range fuzzSessionSeeds(f) {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{sessionVersion, flagRole | flagCustom, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSession(b)
		if err != nil {
			if s != nil {
				t.Fatalf("got a session with error %v", err)
			}
			return
		}
		again, err := appendSession(nil, s)
		if err != nil {
			t.Fatalf("accepted payload does not encode again: %v", err)
		}
		s2, err := decodeSession(again)
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v", err)
		}
		third, err := appendSession(nil, s2)
		if err != nil || !bytes.Equal(again, third) {
			t.Fatalf("encoding is not stable: %x then %x (%v)", again, third, err)
		}
		// Decoded for the cache, with the cookie in the same string: the
		// same session, and the cookie whole.
		const cookie = "MTc2NTE1MjAwMHxzZWFsZWR8bWFj"
		blk, err := decodeSessionBlock(b, cookie)
		if err != nil || !reflect.DeepEqual(&blk.s, s) || blk.entry.value != cookie {
			t.Fatalf("decoded for the cache: %+v, %q, %v; want %+v and the cookie", blk.s, blk.entry.value, err, s)
		}
	})
}

// FuzzDecodeLoginState checks that the login state decoder never panics and
// round-trips what it accepts.
func FuzzDecodeLoginState(f *testing.F) {
	f.Add(appendLoginState(nil, &loginState{State: "s", Verifier: "v", ReturnTo: "/", Provider: workos.GoogleOAuth, CreatedAt: time.Unix(1767268800, 5)}))
	f.Add(appendLoginState(nil, &loginState{}))
	f.Add([]byte{loginStateVersion, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeLoginState(b)
		if err != nil {
			return
		}
		st2, err := decodeLoginState(appendLoginState(nil, st))
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if !st2.CreatedAt.Equal(st.CreatedAt) {
			t.Fatalf("got CreatedAt %v, want %v", st2.CreatedAt, st.CreatedAt)
		}
		st2.CreatedAt = st.CreatedAt
		if *st2 != *st {
			t.Fatalf("got %+v, want %+v", st2, st)
		}
	})
}

// FuzzCookieValue checks that cookieValue picks the same cookie as
// r.Cookie, and that on a cache hit the unvalidated lookup does too.
func FuzzCookieValue(f *testing.F) {
	f.Add("a=1; s=abc; b=2", "s")
	f.Add(`s="abc"; s=x`, "s")
	f.Add("s=a\\b; s=ok", "s")
	f.Add("  s  =  v ; ", "s")
	f.Fuzz(func(t *testing.T, header, name string) {
		if (&http.Cookie{Name: name}).Valid() != nil || strings.Count(header, ";") > 2000 {
			return // names are validated tokens; r.Cookie refuses very many cookies
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = []string{header}
		got, ok := cookieValue(r, name)
		c, err := r.Cookie(name)
		if ok != (err == nil) || (ok && got != c.Value) {
			t.Fatalf("cookieValue(%q, %q) = %q, %v; r.Cookie gives %v, %v", header, name, got, ok, c, err)
		}
		if first, ok := findCookie(r, name, false); ok && validCookieValue(first) {
			if c == nil || c.Value != first {
				t.Fatalf("findCookie(%q, %q) = %q, valid, but r.Cookie gives %v", header, name, first, c)
			}
		}
	})
}

package ssogate

import (
	"net/url"
	"strings"
	"testing"
)

// returnToCases is the corpus of open-redirect tricks; it also seeds
// FuzzSafeReturnTo (and testdata/fuzz/FuzzSafeReturnTo).
var returnToCases = []struct {
	name string
	in   string
	want string // "" means refused
}{
	{"root", "/", "/"},
	{"path", "/app", "/app"},
	{"query kept", "/app/reports?id=7&tab=a%20b", "/app/reports?id=7&tab=a%20b"},
	{"trailing slash kept", "/app/", "/app/"},
	{"fragment dropped", "/app#top", "/app"},
	{"dot segments removed", "/a/b/../c/./d", "/a/c/d"},
	{"dot segments cannot climb out", "/../../etc", "/etc"},
	{"double slash inside collapsed", "/a//b", "/a/b"},
	{"dots then double slash", "/.//evil.com", "/evil.com"},
	{"encoded slash after slash", "/%2F/evil.com", ""},
	{"encoded slash inside kept", "/a%2Fb", "/a%2Fb"},
	{"unicode path", "/caf%C3%A9", "/caf%C3%A9"},

	{"empty", "", ""},
	{"protocol relative", "//evil.com", ""},
	{"protocol relative with path", "//evil.com/app", ""},
	{"triple slash", "///evil.com", ""},
	{"backslash", "/\\evil.com", ""},
	{"double backslash", "\\\\evil.com", ""},
	{"backslash later", "/app\\..\\..\\evil", ""},
	{"encoded backslash", "/%5Cevil.com", ""},
	{"encoded tab between slashes", "/%09/evil.com", ""},
	{"tab between slashes", "/\t/evil.com", ""},
	{"newline between slashes", "/\n/evil.com", ""},
	{"carriage return", "/\r/evil.com", ""},
	{"encoded newline", "/%0a/evil.com", ""},
	{"encoded null", "/app%00", ""},
	{"control in query", "/app?x=%0d%0aSet-Cookie:a", ""},
	{"scheme with one slash", "https:/evil.com", ""},
	{"scheme with two slashes", "https://evil.com", ""},
	{"scheme-relative no slash", "https:evil.com", ""},
	{"javascript", "javascript:alert(1)", ""},
	{"javascript uppercase", "JaVaScRiPt:alert(1)", ""},
	{"javascript after slash", "/javascript:alert(1)", "/javascript:alert(1)"},
	{"data url", "data:text/html,<script>alert(1)</script>", ""},
	{"absolute url", "http://evil.com/", ""},
	{"relative without slash", "app", ""},
	{"user info", "//user@evil.com", ""},
	{"leading space", " /app", ""},
	{"too long", "/" + strings.Repeat("a", maxReturnToLen), ""},
	{"invalid escape", "/%zz", ""},
}

func TestSafeReturnTo(t *testing.T) {
	for _, tc := range returnToCases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SafeReturnTo(tc.in)
			if tc.want == "" {
				if ok {
					t.Errorf("SafeReturnTo(%q) = %q, want refused", tc.in, got)
				}
				return
			}
			if !ok || got != tc.want {
				t.Errorf("SafeReturnTo(%q) = %q, %v; want %q, true", tc.in, got, ok, tc.want)
			}
		})
	}
}

func FuzzSafeReturnTo(f *testing.F) {
	for _, tc := range returnToCases {
		f.Add(tc.in)
	}
	base, _ := url.Parse("https://app.example/start/")
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := SafeReturnTo(in)
		if !ok {
			if out != "" {
				t.Fatalf("refused %q but returned %q", in, out)
			}
			return
		}
		if out == "" || out[0] != '/' || strings.HasPrefix(out, "//") || hasUnsafeByte(out) {
			t.Fatalf("SafeReturnTo(%q) = %q: not a plain path", in, out)
		}
		// Resolved the way a browser resolves a Location header, the
		// result must stay on the app's origin.
		ref, err := url.Parse(out)
		if err != nil {
			t.Fatalf("SafeReturnTo(%q) = %q does not parse: %v", in, out, err)
		}
		if got := base.ResolveReference(ref); got.Scheme != "https" || got.Host != "app.example" || got.User != nil {
			t.Fatalf("SafeReturnTo(%q) = %q resolves to %q", in, out, got)
		}
		// Normalizing is idempotent.
		if again, ok := SafeReturnTo(out); !ok || again != out {
			t.Fatalf("SafeReturnTo(%q) = %q, but SafeReturnTo(%q) = %q, %v", in, out, out, again, ok)
		}
	})
}

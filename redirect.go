package ssogate

import (
	"net/url"
	"path"
	"strings"
)

// maxReturnToLen caps a return_to value. Longer values are refused rather
// than truncated, so a truncated URL can never point somewhere unintended.
// The login state cookie carries the return path: at this length it still
// fits in the 4096 bytes browsers keep, with the longest login hint, ids and
// cookie domain, so an accepted return_to can never make a login fail.
const maxReturnToLen = 1024

// SafeReturnTo checks that raw is a same-origin relative URL (a path, with
// an optional query) that is safe to redirect to after sign-in, and returns
// it normalized. It reports false for anything else, and for values longer
// than 1024 bytes; the caller then uses its default path.
//
// The check parses and normalizes the URL instead of matching patterns,
// because browsers are lenient in ways that turn "relative" strings into
// other origins: they read a backslash as a slash, drop tabs and newlines
// inside URLs, and treat "//host", "/\host" and "https:/host" as absolute.
// So SafeReturnTo refuses backslashes and control characters anywhere
// (encoded or not), schemes, hosts, user info and protocol-relative paths,
// removes dot segments, and drops the fragment.
func SafeReturnTo(raw string) (string, bool) {
	if raw == "" || len(raw) > maxReturnToLen || raw[0] != '/' || strings.HasPrefix(raw, "//") {
		return "", false
	}
	if hasUnsafeByte(raw) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	// The decoded path must not carry what the raw string may not: an
	// encoded backslash or tab is still a backslash or tab to some servers
	// and proxies that decode before routing.
	if hasUnsafeByte(u.Path) || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "", false
	}
	if q, err := url.QueryUnescape(u.RawQuery); err != nil || hasControl(q) {
		return "", false
	}
	clean := path.Clean(u.Path)
	if strings.HasSuffix(u.Path, "/") && clean != "/" {
		clean += "/"
	}
	// Keep the caller's own encoding when cleaning changed nothing.
	out := u.EscapedPath()
	if clean != u.Path {
		out = (&url.URL{Path: clean}).EscapedPath()
	}
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	// Belt and braces: whatever the steps above did, the result is a path
	// that no browser can read as another origin.
	if len(out) == 0 || len(out) > maxReturnToLen || out[0] != '/' || (len(out) > 1 && (out[1] == '/' || out[1] == '\\')) {
		return "", false
	}
	return out, true
}

// hasUnsafeByte reports whether s holds a backslash or a control character.
func hasUnsafeByte(s string) bool {
	return strings.IndexByte(s, '\\') >= 0 || hasControl(s)
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text that someone else chose (a connection's name, a seeded user's
// name) reaches the operator's terminal. One rule decides what of it may
// be shown as it is, for tables and JSON alike, and it is the rule the
// library's error messages follow: no control characters (C0, and C1 such
// as U+009B, which some terminals take for CSI), no format characters (the
// bidi overrides such as U+202E, zero-width characters, which disguise
// text), no line or paragraph separators, and no invalid UTF-8.

// unsafeRune reports whether r may not reach a terminal as it is.
func unsafeRune(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// terminalText replaces every unsafe character of s with '?'.
func terminalText(s string) string {
	return strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// terminalJSON escapes every unsafe character of encoded JSON as \uXXXX
// (a surrogate pair beyond the Basic Multilingual Plane). Such characters
// can only stand inside JSON strings, so the document means the same to a
// script, and shows nothing a terminal would act on. encoding/json already
// escapes C0 controls, U+2028 and U+2029, and replaces invalid UTF-8.
func terminalJSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r < utf8.RuneSelf || !unsafeRune(r) || r == utf8.RuneError && n == 1 {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		if r > 0xFFFF {
			hi, lo := utf16Pair(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	return out
}

// utf16Pair returns the surrogate pair that encodes r (> U+FFFF) in UTF-16.
func utf16Pair(r rune) (hi, lo rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

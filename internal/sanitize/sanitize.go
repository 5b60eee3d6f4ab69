// Package sanitize makes text from outside (a response, a request, an
// identity provider's attribute) fit for an error message or a log record.
package sanitize

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	redactedText     = "[redacted]"
	truncationSuffix = "..."
)

// Text prepares text from outside for an error message or a log record:
// secrets are replaced (before anything is cut, so no part of one can
// remain), invalid UTF-8 and control characters (which could forge log
// lines) become spaces, and the result is cut to at most limit bytes.
// Callers bound the input (a response body is read up to a cap).
func Text(s string, limit int, secrets []string) string {
	if s == "" {
		return ""
	}
	s = redact(s, secrets)
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) <= limit {
		return s
	}
	cut := limit - len(truncationSuffix)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncationSuffix
}

// redact replaces every occurrence of each secret in s, as is and in its
// URL-encoded forms.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range [...]string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, redactedText)
		}
	}
	return s
}

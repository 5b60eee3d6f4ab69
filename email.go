package ssogate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits of RFC 5321 and RFC 1035 on addresses and names.
const (
	maxEmailLen  = 320
	maxLocalLen  = 64
	maxDomainLen = 253
	maxLabelLen  = 63
)

// ParseEmailDomain returns the domain of an email address, in the form that
// [ConnectionCache.Domain] looks up: lower-case ASCII, with international
// names in their IDNA (punycode) form, so "Jane@Bücher.Example" gives
// "xn--bcher-kva.example".
//
// It is strict, because the address comes from a browser and decides where
// the user signs in: there must be exactly one '@', a non-empty local part
// of printable characters without spaces, quotes, brackets or other
// separators (no display names, comments or quoted local parts), and a
// domain that [NormalizeDomain] accepts. Anything else is [ErrInvalidEmail].
func ParseEmailDomain(email string) (string, error) {
	if len(email) > maxEmailLen {
		return "", ErrInvalidEmail
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || len(local) > maxLocalLen || strings.Contains(domain, "@") || !validLocalPart(local) {
		return "", ErrInvalidEmail
	}
	return NormalizeDomain(domain)
}

// validLocalPart reports whether s is a plain (dot-atom style) local part:
// printable, with no space and none of the characters that would make it
// a quoted string, a comment or a list.
func validLocalPart(s string) bool {
	if !utf8.ValidString(s) || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune(`"(),:;<>[\]`, r) {
			return false
		}
	}
	return true
}

// NormalizeDomain returns the lookup form of a domain name: lower-case ASCII,
// IDNA-mapped (UTS #46, the rules browsers use, so full-width and other
// look-alike forms map to the same name) and punycode-encoded. It accepts
// only host names of at least two labels, each of letters, digits and inner
// hyphens, within the DNS length limits, whose last label is not numeric
// (an IP address is not an email domain). Anything else is
// [ErrInvalidEmail].
func NormalizeDomain(domain string) (string, error) {
	if domain == "" || len(domain) > 4*maxDomainLen {
		return "", ErrInvalidEmail
	}
	if !isLowerASCIIHost(domain) {
		a, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			return "", ErrInvalidEmail
		}
		domain = a
	}
	if !isLowerASCIIHost(domain) {
		return "", ErrInvalidEmail
	}
	return domain, nil
}

// isLowerASCIIHost reports whether s is already a valid host name in lookup
// form: lower-case letters, digits and hyphens in two or more labels of 1 to
// 63 bytes, no label starting or ending with a hyphen, at most 253 bytes, a
// non-numeric top-level label, and any punycode label valid. It lets the
// common case skip the IDNA mapping and allocate nothing.
func isLowerASCIIHost(s string) bool {
	if len(s) > maxDomainLen {
		return false
	}
	labels, start := 0, 0
	numeric := true
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			c := s[i]
			switch {
			case 'a' <= c && c <= 'z', c == '-':
				numeric = false
			case '0' <= c && c <= '9':
			default:
				return false
			}
			continue
		}
		label := s[start:i]
		if label == "" || len(label) > maxLabelLen || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		if strings.HasPrefix(label, "xn--") {
			// A punycode label must decode to a valid IDNA label.
			if _, err := idna.Lookup.ToUnicode(label); err != nil {
				return false
			}
		} else if len(label) >= 4 && label[2:4] == "--" {
			// Other "??--" labels are reserved (RFC 5891 4.2.3.1).
			return false
		}
		labels++
		if i < len(s) {
			numeric = true
		}
		start = i + 1
	}
	return labels >= 2 && !numeric
}

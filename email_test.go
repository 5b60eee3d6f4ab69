package ssogate

import (
	"errors"
	"strings"
	"testing"
)

// emailCorpus are addresses a browser might send to /login?email=, with the
// domain each must route by ("" if it must be refused). It seeds the fuzz
// target too.
var emailCorpus = []struct {
	name, email, domain string
}{
	{"plain", "jane@acme.com", "acme.com"},
	{"upper case", "Jane.Doe@ACME.Com", "acme.com"},
	{"plus tag", "jane+sso@acme.com", "acme.com"},
	{"subdomain", "jane@eu.acme.co.uk", "eu.acme.co.uk"},
	{"international domain", "jane@bücher.example", "xn--bcher-kva.example"},
	{"punycode domain", "jane@xn--bcher-kva.example", "xn--bcher-kva.example"},
	{"full-width letters", "jane@ａｃｍｅ.com", "acme.com"},
	{"ideographic dot", "jane@acme。com", "acme.com"},
	{"sharp s", "jane@straße.de", "xn--strae-oqa.de"},
	{"unicode local part", "jöns@acme.com", "acme.com"},
	{"digits in labels", "jane@1password.com", "1password.com"},
	{"hyphen inside", "jane@my-company.io", "my-company.io"},

	{"empty", "", ""},
	{"no at", "jane.acme.com", ""},
	{"two ats", "jane@acme.com@evil.com", ""},
	{"at in quoted local part", `"jane@acme"@evil.com`, ""},
	{"empty local part", "@acme.com", ""},
	{"empty domain", "jane@", ""},
	{"display name", "Jane <jane@acme.com>", ""},
	{"comment", "jane(comment)@acme.com", ""},
	{"space", "jane doe@acme.com", ""},
	{"tab in domain", "jane@acme\t.com", ""},
	{"newline", "jane@acme.com\n", ""},
	{"CRLF header injection", "jane@acme.com\r\nBcc: x@evil.com", ""},
	{"NUL", "jane@acme\x00.com", ""},
	{"single label", "jane@localhost", ""},
	{"trailing dot", "jane@acme.com.", ""},
	{"leading dot", "jane@.acme.com", ""},
	{"double dot", "jane@acme..com", ""},
	{"leading hyphen", "jane@-acme.com", ""},
	{"trailing hyphen", "jane@acme-.com", ""},
	{"underscore", "jane@ac_me.com", ""},
	{"IPv4 literal", "jane@192.168.0.1", ""},
	{"IP in brackets", "jane@[192.168.0.1]", ""},
	{"port", "jane@acme.com:8080", ""},
	{"path", "jane@acme.com/evil", ""},
	{"slash trick", "jane@evil.com\\@acme.com", ""},
	{"bad punycode", "jane@xn--a.com", ""},
	{"reserved hyphens", "jane@ab--cd.com", ""},
	{"zero-width joiner", "jane@ac\u200dme.com", ""},
	{"right-to-left override", "jane@acme\u202e.com", ""},
	{"invalid UTF-8", "jane@acm\xffe.com", ""},
	{"local dot first", ".jane@acme.com", ""},
	{"local double dot", "ja..ne@acme.com", ""},
	{"long label", "jane@" + strings.Repeat("a", 64) + ".com", ""},
	{"long domain", "j@" + strings.Repeat("abcdefghi.", 26) + "com", ""},
	{"long local part", strings.Repeat("a", 65) + "@acme.com", ""},
}

func TestParseEmailDomain(t *testing.T) {
	for _, tc := range emailCorpus {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEmailDomain(tc.email)
			if tc.domain == "" {
				if err == nil || !errors.Is(err, ErrInvalidEmail) || got != "" {
					t.Errorf("ParseEmailDomain(%q) = %q, %v; want ErrInvalidEmail", tc.email, got, err)
				}
				return
			}
			if err != nil || got != tc.domain {
				t.Errorf("ParseEmailDomain(%q) = %q, %v; want %q", tc.email, got, err, tc.domain)
			}
		})
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower case", "acme.com", "acme.com"},
		{"upper case", "ACME.COM", "acme.com"},
		{"international", "Bücher.Example", "xn--bcher-kva.example"},
		{"with at", "jane@acme.com", ""},
		{"empty", "", ""},
		{"space", " acme.com", ""},
		{"numeric top label", "acme.123", ""},
		{"very long input", strings.Repeat("a", 5000), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeDomain(tc.in)
			if tc.want == "" {
				if !errors.Is(err, ErrInvalidEmail) {
					t.Errorf("NormalizeDomain(%q) = %q, %v; want ErrInvalidEmail", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestNormalizeDomainFastPathAllocatesNothing(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := NormalizeDomain("eu.acme.co.uk"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("got %v allocs, want 0", allocs)
	}
}

// FuzzParseEmailDomain checks that whatever the parser accepts is a
// lookup-form host name that normalizes to itself, and is the normalized
// domain part of the input.
func FuzzParseEmailDomain(f *testing.F) {
	for _, tc := range emailCorpus {
		f.Add(tc.email)
	}
	f.Fuzz(func(t *testing.T, email string) {
		d, err := ParseEmailDomain(email)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) || d != "" {
				t.Fatalf("got %q, %v on failure", d, err)
			}
			return
		}
		if !isLowerASCIIHost(d) {
			t.Fatalf("accepted %q as domain %q, not a lower-case ASCII host name", email, d)
		}
		if again, err := NormalizeDomain(d); err != nil || again != d {
			t.Fatalf("domain %q normalizes to %q, %v", d, again, err)
		}
		_, part, _ := strings.Cut(email, "@")
		if n, err := NormalizeDomain(part); err != nil || n != d {
			t.Fatalf("domain of %q is %q, but its domain part normalizes to %q, %v", email, d, n, err)
		}
		if strings.Count(email, "@") != 1 || strings.ContainsAny(email, " \t\r\n<>()\"") {
			t.Fatalf("accepted %q", email)
		}
	})
}

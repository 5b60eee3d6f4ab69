package sanitize

import (
	"strings"
	"testing"
)

func TestTextRedactsBeforeCutting(t *testing.T) {
	const secret = "sk_live_0123456789"
	tests := []struct {
		name string
		in   string
	}{
		{"straddling the cut", strings.Repeat("a", 15) + secret},
		{"query-escaped", "x " + "sk_live_0123456789%2F"},
		{"repeated", strings.Repeat(secret, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Text(tt.in, 20, []string{secret, ""})
			if len(got) > 20 {
				t.Errorf("got %d bytes, want at most 20", len(got))
			}
			for i := 4; i <= len(secret); i++ {
				if strings.Contains(got, secret[:i]) && i > 8 {
					t.Errorf("got %q, which holds %q of the secret", got, secret[:i])
				}
			}
		})
	}
}

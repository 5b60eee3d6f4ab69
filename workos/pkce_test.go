package workos

import "testing"

func TestPKCEChallengeRFC7636(t *testing.T) {
	// The example of RFC 7636, appendix B.
	got := PKCEChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
	want := "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestNewPKCEVerifier(t *testing.T) {
	a, b := NewPKCEVerifier(), NewPKCEVerifier()
	if len(a) != 43 {
		t.Errorf("got length %d, want 43", len(a))
	}
	if a == b {
		t.Error("two verifiers are equal")
	}
}

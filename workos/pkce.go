package workos

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// NewPKCEVerifier returns a fresh PKCE code verifier: 32 random bytes,
// base64url-encoded without padding (43 characters, as RFC 7636 asks).
func NewPKCEVerifier() string {
	var b [32]byte
	rand.Read(b[:]) // never fails: see crypto/rand.Read
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// PKCEChallenge returns the S256 code challenge of a code verifier.
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

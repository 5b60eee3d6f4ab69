package ssogate

import (
	"os"
	"strings"
)

// ConfigFromEnv returns a Config read from the environment variables that
// WorkOS's SDKs and ssogate's examples use:
//
//	WORKOS_API_KEY                   required: Config.APIKey (sk_...)
//	WORKOS_CLIENT_ID                 required: Config.ClientID (client_...)
//	WORKOS_BASE_URL                  optional: Config.BaseURL
//	WORKOS_REDIRECT_URI              required: Config.RedirectURI
//	WORKOS_COOKIE_PASSWORD           required, 32 bytes or more: the first of Config.CookieSecrets
//	WORKOS_COOKIE_PASSWORD_PREVIOUS  optional: the second, still opening cookies during a rotation
//	WORKOS_COOKIE_PASSWORD_NEXT      optional: Config.NextCookieSecrets, accepted and never sealing
//
// A variable that is missing, too short, or has white space around its
// value (a secret file's trailing newline, say) is a [*ConfigError] naming
// the variable, never its value. Set any other field on the result before
// passing it to [New], which checks the rest. ConfigFromEnv never falls
// back to an emulator or to a made-up secret: without a real environment
// it fails.
func ConfigFromEnv() (Config, error) {
	var cfg Config
	vars := []struct {
		name     string
		dst      *string
		required bool
	}{
		{"WORKOS_API_KEY", &cfg.APIKey, true},
		{"WORKOS_CLIENT_ID", &cfg.ClientID, true},
		{"WORKOS_BASE_URL", &cfg.BaseURL, false},
		{"WORKOS_REDIRECT_URI", &cfg.RedirectURI, true},
	}
	for _, v := range vars {
		s, err := envValue(v.name, v.required, 0)
		if err != nil {
			return Config{}, err
		}
		*v.dst = s
	}
	secrets := []struct {
		name     string
		required bool
		add      func([]byte)
	}{
		{"WORKOS_COOKIE_PASSWORD", true, func(b []byte) { cfg.CookieSecrets = append(cfg.CookieSecrets, b) }},
		{"WORKOS_COOKIE_PASSWORD_PREVIOUS", false, func(b []byte) { cfg.CookieSecrets = append(cfg.CookieSecrets, b) }},
		{"WORKOS_COOKIE_PASSWORD_NEXT", false, func(b []byte) { cfg.NextCookieSecrets = [][]byte{b} }},
	}
	for _, v := range secrets {
		s, err := envValue(v.name, v.required, minSecretLen)
		if err != nil {
			return Config{}, err
		}
		if s != "" {
			v.add([]byte(s))
		}
	}
	return cfg, nil
}

// envValue reads the variable name, which must be set if required and, if
// set, have at least minLen bytes and no white space around it.
func envValue(name string, required bool, minLen int) (string, error) {
	s := os.Getenv(name)
	switch {
	case s == "" && required:
		return "", &ConfigError{Field: name, Problem: "is not set"}
	case s == "":
		return "", nil
	case strings.TrimSpace(s) != s:
		return "", &ConfigError{Field: name, Problem: "has white space around its value"}
	case len(s) < minLen:
		return "", &ConfigError{Field: name, Problem: "must be at least 32 bytes (openssl rand -base64 32 makes one)"}
	}
	return s, nil
}

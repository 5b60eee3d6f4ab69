package ssogate

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	const (
		password = "0123456789abcdef0123456789abcdef"
		previous = "fedcba9876543210fedcba9876543210"
		next     = "00112233445566778899aabbccddeeff"
	)
	full := map[string]string{
		"WORKOS_API_KEY":                  "sk_test_env",
		"WORKOS_CLIENT_ID":                "client_env",
		"WORKOS_BASE_URL":                 "https://api.workos.example",
		"WORKOS_REDIRECT_URI":             "https://app.example.com/callback",
		"WORKOS_COOKIE_PASSWORD":          password,
		"WORKOS_COOKIE_PASSWORD_PREVIOUS": previous,
		"WORKOS_COOKIE_PASSWORD_NEXT":     next,
	}
	setenv := func(t *testing.T, env map[string]string) {
		for k := range full {
			t.Setenv(k, env[k])
		}
	}

	t.Run("every variable", func(t *testing.T) {
		setenv(t, full)
		cfg, err := ConfigFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.APIKey != "sk_test_env" || cfg.ClientID != "client_env" || cfg.BaseURL != "https://api.workos.example" || cfg.RedirectURI != "https://app.example.com/callback" {
			t.Errorf("got %+v", cfg)
		}
		if len(cfg.CookieSecrets) != 2 || string(cfg.CookieSecrets[0]) != password || string(cfg.CookieSecrets[1]) != previous {
			t.Errorf("CookieSecrets: got %q, want the password, then the previous one", cfg.CookieSecrets)
		}
		if len(cfg.NextCookieSecrets) != 1 || string(cfg.NextCookieSecrets[0]) != next {
			t.Errorf("NextCookieSecrets: got %q", cfg.NextCookieSecrets)
		}
		// What it read is what New takes.
		if _, err := New(cfg); err != nil {
			t.Errorf("New: %v", err)
		}
	})

	t.Run("only what is required", func(t *testing.T) {
		setenv(t, map[string]string{"WORKOS_API_KEY": "sk_test_env", "WORKOS_CLIENT_ID": "client_env",
			"WORKOS_REDIRECT_URI": "https://app.example.com/callback", "WORKOS_COOKIE_PASSWORD": password})
		cfg, err := ConfigFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.BaseURL != "" || len(cfg.CookieSecrets) != 1 || cfg.NextCookieSecrets != nil {
			t.Errorf("got %+v", cfg)
		}
	})

	for _, tt := range []struct {
		name, variable, value, problem string
	}{
		{"no API key: never an emulator", "WORKOS_API_KEY", "", "is not set"},
		{"no client ID", "WORKOS_CLIENT_ID", "", "is not set"},
		{"no redirect URI", "WORKOS_REDIRECT_URI", "", "is not set"},
		{"no cookie password: never a made-up one", "WORKOS_COOKIE_PASSWORD", "", "is not set"},
		{"a short cookie password", "WORKOS_COOKIE_PASSWORD", password[:31], "at least 32 bytes"},
		{"a short previous password", "WORKOS_COOKIE_PASSWORD_PREVIOUS", "short-but-secret", "at least 32 bytes"},
		{"a short next password", "WORKOS_COOKIE_PASSWORD_NEXT", "short-but-secret", "at least 32 bytes"},
		{"a password read with its newline", "WORKOS_COOKIE_PASSWORD", password + "\n", "white space"},
		{"an API key with a space", "WORKOS_API_KEY", " sk_test_env", "white space"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range full {
				env[k] = v
			}
			env[tt.variable] = tt.value
			setenv(t, env)
			_, err := ConfigFromEnv()
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != tt.variable || !strings.Contains(ce.Problem, tt.problem) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got %v, want a *ConfigError naming %s: %s", err, tt.variable, tt.problem)
			}
			if v := strings.TrimSpace(tt.value); v != "" && strings.Contains(err.Error(), v) {
				t.Errorf("the error repeats the value: %v", err)
			}
		})
	}
}

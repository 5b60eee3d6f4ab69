package ssogate

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAuditRecord feeds an audit record values a client or an identity
// provider chooses: the X-Request-ID header, the client address a proxy
// header gave, the email and WorkOS's error code. Each record must stay one
// line of valid JSON, keep a request id only when it is a plain token, and
// a code only of WorkOS's form.
func FuzzAuditRecord(f *testing.F) {
	f.Add("req-42", "203.0.113.7", "alice@acme.com", "access_denied")
	f.Add("bad id\twith\ttabs", "::1", "x\u202e@evil.example", "<script>")
	f.Add(strings.Repeat("a", 65), "", "", "")
	var buf bytes.Buffer
	var ip string
	m, err := New(Config{
		APIKey: "sk_test_fuzz", ClientID: "client_fuzz",
		RedirectURI:   "https://app.example.com/callback",
		CookieSecrets: [][]byte{flowSecret},
		AuditLog:      slog.New(slog.NewJSONHandler(&buf, nil)),
		AuditEmails:   true,
		ClientIP:      func(*http.Request) string { return ip },
		// As an operator whose proxy sets the header does.
		RequestID: func(r *http.Request) string { return r.Header.Get("X-Request-ID") },
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, requestID, clientIP, email, code string) {
		buf.Reset()
		ip = clientIP
		r := httptest.NewRequest(http.MethodGet, "/callback", nil)
		r.Header["X-Request-Id"] = []string{requestID}
		m.auditCallback(r, &CallbackInfo{Reason: ReasonIdPError, WorkOSCode: workOSCode(code), Status: 403, email: email})
		out := buf.String()
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Fatalf("not one line: %q", out)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(out), &rec); err != nil {
			t.Fatalf("not JSON: %v: %q", err, out)
		}
		id, _ := rec["request_id"].(string)
		if !plainToken(id, 64) || plainToken(requestID, 64) != (id == requestID) {
			t.Errorf("request id %q from header %q", id, requestID)
		}
		got, _ := rec["workos_code"].(string)
		want := "other"
		switch {
		case code == "":
			want = "" // no attribute
		case workOSCodes[code]:
			want = code
		}
		if got != want {
			t.Errorf("code %q from %q, want %q", got, code, want)
		}
		for _, k := range []string{"email", "client_ip"} {
			v, _ := rec[k].(string)
			if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\u202e' }) {
				t.Errorf("%s %q carries control or format characters", k, v)
			}
		}
	})
}

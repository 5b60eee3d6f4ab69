package workostest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/workostest"
)

// newGatedMux returns an app's mux on a gate that signs in through idp:
// /app for anyone signed in, /admin for Acme's admins.
func newGatedMux(t *testing.T, idp *workostest.Server) *http.ServeMux {
	t.Helper()
	gate, err := ssogate.New(ssogate.Config{
		APIKey:        idp.APIKey,
		ClientID:      idp.ClientID,
		BaseURL:       idp.URL,
		RedirectURI:   "https://app.example.com/callback",
		CookieSecrets: [][]byte{[]byte("0123456789abcdef0123456789abcdef-unit")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gate.Close() })
	mux := http.NewServeMux()
	gate.Mount(mux)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := ssogate.ProfileFromContext(r.Context())
		io.WriteString(w, "hello "+p.Email)
	})
	mux.Handle("/app", gate.RequireSSO(hello))
	mux.Handle("/admin", gate.RequireRole(workostest.AcmeOrganizationID, "admin")(hello))
	return mux
}

// TestSignedInRequest tests handlers with a recorder and no server: the
// request carries a real session, which the gates check as any other.
func TestSignedInRequest(t *testing.T) {
	idp := workostest.NewServer()
	defer idp.Close()
	mux := newGatedMux(t, idp)

	req, err := idp.SignedInRequest(mux, "https://app.example.com/login?organization=org_acme", workostest.BobEmail, http.MethodGet, "/admin")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("/admin for bob, a member: got %d, want 403", rec.Code)
	}

	for _, tt := range []struct{ email, target, want string }{
		{workostest.BobEmail, "/app", "hello bob@acme.com"},
		{workostest.AliceEmail, "/admin", "hello alice@acme.com"},
		{workostest.AliceEmail, "https://app.example.com/app", "hello alice@acme.com"},
	} {
		req, err := idp.SignedInRequest(mux, "https://app.example.com/login?organization=org_acme", tt.email, http.MethodGet, tt.target)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() != tt.want {
			t.Errorf("%s for %s: got %d %q, want 200 %q", tt.target, tt.email, rec.Code, rec.Body, tt.want)
		}
	}

	// The session is the gate's own: a cookie changed by a byte opens nothing.
	req, _ = idp.SignedInRequest(mux, "https://app.example.com/login?organization=org_acme", workostest.AliceEmail, http.MethodGet, "/app")
	forged := httptest.NewRequest(http.MethodGet, "/app", nil)
	for _, c := range req.Cookies() {
		c.Value = c.Value[:len(c.Value)-2] + "AA"
		forged.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, forged)
	if rec.Code == http.StatusOK {
		t.Error("a tampered session cookie opened /app")
	}
}

// TestSignedInRequestOnlyThroughItsServer: an app that signs in through
// another WorkOS (here, another emulator) cannot be signed in to.
func TestSignedInRequestOnlyThroughItsServer(t *testing.T) {
	idp, other := workostest.NewServer(), workostest.NewServer()
	defer idp.Close()
	defer other.Close()
	mux := newGatedMux(t, other)
	_, err := idp.SignedInRequest(mux, "https://app.example.com/login?organization=org_acme", workostest.AliceEmail, http.MethodGet, "/app")
	if err == nil || !strings.Contains(err.Error(), "want a redirect to "+idp.URL) {
		t.Errorf("got %v, want the login refused for going to another WorkOS", err)
	}
	if _, err := idp.SignedInRequest(mux, "/login?organization=org_acme", workostest.AliceEmail, http.MethodGet, "/app"); err == nil {
		t.Error("a relative login URL was taken")
	}
}

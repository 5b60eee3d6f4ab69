package workostest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const testRedirect = "http://app.test/callback"

// newTestServer starts a server that is closed when the test ends.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// noRedirect returns a client for s that stops at every redirect, so each
// hop can be checked.
func noRedirect(s *Server) *http.Client {
	c := *s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// authorizeURL builds an authorization URL from key/value pairs on top of
// the required parameters; a value of "-" removes the parameter.
func authorizeURL(s *Server, kv ...string) string {
	q := url.Values{
		"client_id":     {s.ClientID},
		"redirect_uri":  {testRedirect},
		"response_type": {"code"},
		"state":         {"st-123"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return s.URL + "/sso/authorize?" + q.Encode()
}

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func get(t *testing.T, s *Server, u string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, noRedirect(s), req)
}

// api calls an API route with the API key.
func api(t *testing.T, s *Server, method, path string, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, noRedirect(s), req)
}

// location parses the Location of a redirect response.
func location(t *testing.T, r response) *url.URL {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("got status %d, want 302; body %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatalf("bad Location %q: %v", r.header.Get("Location"), err)
	}
	return u
}

// login signs in email through an auto sign-in authorization and returns
// the code.
func login(t *testing.T, s *Server, email string, kv ...string) string {
	t.Helper()
	s.SetAutoSignIn(email)
	defer s.SetAutoSignIn("")
	u := location(t, get(t, s, authorizeURL(s, kv...)))
	code := u.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", u)
	}
	return code
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("decoding %q: %v", body, err)
	}
}

func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

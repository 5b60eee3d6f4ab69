package ssogate

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/ssogate/ssogate/workos"
)

// BenchmarkRequireSSO measures a whole request through a gated handler with
// a valid session, against three baselines that put the same profile in the
// request's context: no middleware at all (the limit), gorilla/sessions'
// CookieStore with its default gob encoding, and a standard-library floor
// (AES-256-GCM open and JSON decode of a cookie). ssogate-million-revocations
// holds 1,000,000 revocations of other sessions and users, half of each.
// ssogate-revocations-idle has the idle timeout on and 10,000 revocations of other sessions and
// users in force; ssogate-revocation-churn adds a revocation every 100
// requests, so that the session is checked against them again each time.
// ssogate-observed has an [Observer] with every func set. bare-page and
// ssogate-page serve a handler that sets Content-Type and writes a body,
// as real ones do, without and with the gate.
// ssogate-identities has 100,000 identity revocations in force (50,000
// users of alice's organization removed by its directory, each by IdP id
// and email), and ssogate-identities-churn adds a user revocation every
// 100 requests to them, so that the session's identity digests are
// computed again each time.
// Compare the ratios, not the absolute times:
//
//	go test -run '^$' -bench 'BenchmarkRequireSSO$' -benchtime 20000x -count 5 .
func BenchmarkRequireSSO(b *testing.B) {
	alice := aliceProfile()
	// Each handler reads the profile where its setup puts it: the bare
	// ones from a context key of their own, the gated ones with
	// ProfileFromContext; one lookup each, as in an application. A page,
	// as real handlers do, sets a header and writes a body: the first
	// header a response sets costs about as much as the gate, so the ratio
	// against the bare page is the one a user sees.
	handlerFor := func(gated, page bool) http.HandlerFunc {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var p *Profile
			var ok bool
			if gated {
				p, ok = ProfileFromContext(r.Context())
			} else {
				p, ok = r.Context().Value(benchProfileKey{}).(*Profile)
			}
			if !ok || p.ID != alice.ID {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			if !page {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNoContent)
			io.WriteString(w, "hello, "+p.Email)
		})
	}
	handler, gatedHandler := handlerFor(false, false), handlerFor(true, false)
	page, gatedPage := handlerFor(false, true), handlerFor(true, true)
	b.Run("bare-page", func(b *testing.B) {
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			page.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), benchProfileKey{}, alice)))
		})
		benchServe(b, bare, httptest.NewRequest(http.MethodGet, "/app", nil), 0)
	})

	b.Run("ssogate-page", func(b *testing.B) {
		g, r, n := benchGate(b, alice)
		benchServe(b, g.RequireSSO(gatedPage), r, n)
	})

	b.Run("bare-handler", func(b *testing.B) {
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), benchProfileKey{}, alice)))
		})
		benchServe(b, bare, httptest.NewRequest(http.MethodGet, "/app", nil), 0)
	})

	b.Run("ssogate", func(b *testing.B) {
		g, r, n := benchGate(b, alice)
		benchServe(b, g.RequireSSO(gatedHandler), r, n)
	})

	b.Run("ssogate-observed", func(b *testing.B) {
		obs, _ := countingObserver()
		g, r, n := benchGate(b, alice, func(c *Config) { c.Observer = obs })
		benchServe(b, g.RequireSSO(gatedHandler), r, n)
	})

	b.Run("ssogate-revocations-idle", func(b *testing.B) {
		g, r, n := benchGate(b, alice, func(c *Config) { c.IdleTimeout = 30 * time.Minute })
		benchRevocations(b, g, 10000)
		benchServe(b, g.RequireSSO(gatedHandler), r, n)
	})

	b.Run("ssogate-million-revocations", func(b *testing.B) {
		g, r, n := benchGate(b, alice)
		benchRevocations(b, g, 1000000)
		benchServe(b, g.RequireSSO(gatedHandler), r, n)
	})

	b.Run("ssogate-revocation-churn", func(b *testing.B) {
		g, r, n := benchGate(b, alice, func(c *Config) { c.IdleTimeout = 30 * time.Minute })
		benchRevocations(b, g, 10000)
		benchServe(b, benchChurn(g, g.RequireSSO(gatedHandler)), r, n)
	})

	b.Run("ssogate-identities", func(b *testing.B) {
		g, r, n := benchGate(b, alice)
		benchIdentities(b, g, alice.OrganizationID, 50000)
		benchServe(b, g.RequireSSO(gatedHandler), r, n)
	})

	b.Run("ssogate-identities-churn", func(b *testing.B) {
		g, r, n := benchGate(b, alice)
		benchIdentities(b, g, alice.OrganizationID, 50000)
		benchServe(b, benchChurn(g, g.RequireSSO(gatedHandler)), r, n)
	})

	b.Run("ssogate-nocache", func(b *testing.B) {
		g, r, n := benchGate(b, alice)
		g.sessions.cache = nil
		benchServe(b, g.RequireSSO(gatedHandler), r, n)
	})

	b.Run("gorilla-cookiestore-gob", func(b *testing.B) {
		gob.Register(Profile{})
		store := sessions.NewCookieStore(testSecret(1), testSecret(2))
		r := httptest.NewRequest(http.MethodGet, "/app", nil)
		s, _ := store.New(r, "session")
		s.Values["profile"] = *alice
		rec := httptest.NewRecorder()
		if err := store.Save(r, rec, s); err != nil {
			b.Fatal(err)
		}
		c := rec.Result().Cookies()[0]
		mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// New, not Get: Get caches in the request, which the benchmark reuses.
			s, err := store.New(r, "session")
			p, ok := s.Values["profile"].(Profile)
			if err != nil || !ok {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), benchProfileKey{}, &p)))
		})
		benchServe(b, mw, requestWith("/app", c), len(c.Value))
	})

	b.Run("stdlib-floor", func(b *testing.B) {
		block, err := aes.NewCipher(testSecret(3))
		if err != nil {
			b.Fatal(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			b.Fatal(err)
		}
		plain, err := json.Marshal(alice)
		if err != nil {
			b.Fatal(err)
		}
		nonce := make([]byte, gcm.NonceSize())
		value := base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, nil))
		mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie("session")
			if err != nil {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
			if err != nil || len(sealed) < gcm.NonceSize() {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			pt, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], nil)
			var p Profile
			if err != nil || json.Unmarshal(pt, &p) != nil {
				http.Error(w, "signed out", http.StatusUnauthorized)
				return
			}
			handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), benchProfileKey{}, &p)))
		})
		benchServe(b, mw, requestWith("/app", &http.Cookie{Name: "session", Value: value}), len(value))
	})
}

type benchProfileKey struct{}

// benchChurn returns h, which adds a revocation of another user every 100
// requests, so that cached sessions are checked again.
func benchChurn(g *Middleware, h http.Handler) http.Handler {
	i := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i++; i%100 == 0 {
			g.revocations.add([]Revocation{{Kind: UserRevocation, ID: "prof_churn", At: g.now(), Expires: g.now().Add(time.Hour)}}, g.now())
		}
		h.ServeHTTP(w, r)
	})
}

// benchCookies returns n Cookie header values, each a new session of
// Alice's signed in through g.
func benchCookies(b *testing.B, g *Middleware, n int) []string {
	b.Helper()
	cookies := make([]string, n)
	for i := range cookies {
		rec := httptest.NewRecorder()
		if _, err := g.sessions.Save(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), aliceProfile(), false); err != nil {
			b.Fatal(err)
		}
		c := rec.Result().Cookies()[0]
		cookies[i] = c.Name + "=" + c.Value
	}
	return cookies
}

// benchGate returns a Middleware, a request to /app with a valid session
// for p, and the session cookie's length.
func benchGate(b *testing.B, p *Profile, opts ...func(*Config)) (*Middleware, *http.Request, int) {
	b.Helper()
	cfg := Config{
		Provider:      stubProvider{},
		RedirectURI:   "https://app.example/callback",
		CookieSecrets: [][]byte{testSecret(1)},
		Logger:        slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if _, err := g.sessions.Save(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), p, false); err != nil {
		b.Fatal(err)
	}
	c := rec.Result().Cookies()[0]
	return g, requestWith("/app", c), len(c.Value)
}

// benchIdentities puts in force the identity revocations of n users of
// organization orgID, other than the benchmark's, by IdP id and email.
func benchIdentities(b *testing.B, g *Middleware, orgID string, n int) {
	b.Helper()
	revs := make([]Revocation, 0, 2*n)
	for i := range n {
		revs = append(revs, RevokeIdentity(orgID, fmt.Sprintf("idp-removed-%d", i), fmt.Sprintf("removed%d@acme.com", i))...)
	}
	if err := g.Revoke(context.Background(), revs...); err != nil {
		b.Fatal(err)
	}
	if g.revocations.nIdentities.Load() != int64(2*n) {
		b.Fatalf("%d identity revocations in force, want %d", g.revocations.nIdentities.Load(), 2*n)
	}
}

// benchRevocations puts n revocations of other sessions and users in force,
// half of each.
func benchRevocations(b *testing.B, g *Middleware, n int) {
	b.Helper()
	revs := make([]Revocation, n)
	for i := range revs {
		revs[i] = RevokeUser(fmt.Sprintf("prof_other_%d", i))
		if i%2 == 0 {
			revs[i] = RevokeSession(rand.Text())
		}
	}
	if err := g.Revoke(context.Background(), revs...); err != nil {
		b.Fatal(err)
	}
}

// benchServe serves r through h once per iteration, each time into a new
// recorder, and checks that the gated handler ran.
func benchServe(b *testing.B, h http.Handler, r *http.Request, cookieBytes int) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("got status %d, want 204", rec.Code)
		}
	}
	if cookieBytes > 0 {
		b.ReportMetric(float64(cookieBytes), "cookie-bytes")
	}
}

// countingObserver returns an Observer with every func set, each counting
// its calls.
func countingObserver() (*Observer, *atomic.Int64) {
	n := new(atomic.Int64)
	start := func(ctx context.Context) context.Context { n.Add(1); return ctx }
	return &Observer{
		LoginStart:       start,
		LoginDone:        func(context.Context, LoginInfo) { n.Add(1) },
		CallbackStart:    start,
		CallbackDone:     func(context.Context, CallbackInfo) { n.Add(1) },
		SessionRefused:   func(context.Context, RefusalInfo) { n.Add(1) },
		SignedOut:        func(context.Context, SignOutInfo) { n.Add(1) },
		Revoked:          func(context.Context, RevocationInfo) { n.Add(1) },
		BackplaneChanged: func(context.Context, BackplaneInfo) { n.Add(1) },
		WebhookDone:      func(context.Context, WebhookInfo) { n.Add(1) },
		WorkOSCallStart:  func(ctx context.Context, _ string) context.Context { n.Add(1); return ctx },
		WorkOSCallDone:   func(context.Context, workos.CallInfo) { n.Add(1) },
		CacheLookup:      func(context.Context, CacheInfo) { n.Add(1) },
	}, n
}

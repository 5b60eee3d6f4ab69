package ssogate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// Login state ----------------------------------------------------------------

// testState returns a state in slot i%5, unique for each i.
func testState(i int) string {
	return fmt.Sprintf("%d-state-%02d-0123456789abcdef0123456789", i%maxStateCookies, i)
}

// saveState runs SaveState for st on a request carrying cookies and returns
// the recorder.
func saveState(t *testing.T, m *sessionManager, st *loginState, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := m.SaveState(rec, requestWith("/login", cookies...), st); err != nil {
		t.Fatalf("SaveState: %v", err)
	}
	return rec
}

// setCookieByName returns the cookies set on rec, by name.
func setCookieByName(rec *httptest.ResponseRecorder) map[string]*http.Cookie {
	m := make(map[string]*http.Cookie)
	for _, c := range setCookies(rec) {
		m[c.Name] = c
	}
	return m
}

func TestStateRoundTripAndAttributes(t *testing.T) {
	clock := newTestClock()
	cfg := testConfig(clock)
	cfg.Domain = "example.com"
	m := newTestManager(t, cfg)
	st := &loginState{
		State: testState(1), Verifier: workos.NewPKCEVerifier(), ReturnTo: "/reports?q=1",
		OrganizationID: "org_acme", ConnectionID: "conn_acme_okta", Provider: workos.GoogleOAuth,
		LoginHint: "alice@acme.com", ForceLogin: true, Unverified: true, CreatedAt: clock.Now(),
	}
	rec := saveState(t, m, st)
	c := onlyCookie(t, rec)
	checkCookie(t, c, &http.Cookie{
		Name: "ssogate_state_" + st.State[:1], Value: c.Value, Path: "/", Domain: "example.com",
		MaxAge: 600, Expires: clock.Now().Add(10 * time.Minute), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	outer, _ := base64.URLEncoding.DecodeString(c.Value)
	if strings.Contains(c.Value, st.State) || strings.Contains(string(outer), st.State) ||
		strings.Contains(string(outer), st.Verifier) {
		t.Errorf("state cookie shows the state or verifier in clear")
	}

	clock.Advance(time.Minute)
	rec = httptest.NewRecorder()
	got, err := m.TakeState(rec, requestWith("/auth/callback", c), st.State)
	if err != nil {
		t.Fatalf("TakeState: %v", err)
	}
	if !got.CreatedAt.Equal(st.CreatedAt) {
		t.Errorf("got CreatedAt %v, want %v", got.CreatedAt, st.CreatedAt)
	}
	got.CreatedAt = st.CreatedAt
	if !reflect.DeepEqual(got, st) {
		t.Errorf("got %+v, want %+v", got, st)
	}
	checkCookie(t, onlyCookie(t, rec), &http.Cookie{
		Name: c.Name, Path: "/", Domain: "example.com",
		MaxAge: -1, Expires: time.Unix(0, 0), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func TestStateCreatedAtDefaultsToNow(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	st := &loginState{State: testState(1)}
	c := onlyCookie(t, saveState(t, m, st))
	got, err := m.TakeState(httptest.NewRecorder(), requestWith("/", c), st.State)
	if err != nil {
		t.Fatalf("TakeState: %v", err)
	}
	if !got.CreatedAt.Equal(clock.Now()) || !st.CreatedAt.IsZero() {
		t.Errorf("got CreatedAt %v (caller's %v), want %v (caller's zero)", got.CreatedAt, st.CreatedAt, clock.Now())
	}
}

func TestStateTwoFlows(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	a := &loginState{State: testState(1), Verifier: "va", CreatedAt: clock.Now()}
	b := &loginState{State: testState(2), Verifier: "vb", CreatedAt: clock.Now()}
	ca := onlyCookie(t, saveState(t, m, a))
	cb := onlyCookie(t, saveState(t, m, b, ca))
	if ca.Name == cb.Name {
		t.Fatalf("both flows got cookie %q, want one each", ca.Name)
	}
	for _, st := range []*loginState{b, a} {
		got, err := m.TakeState(httptest.NewRecorder(), requestWith("/auth/callback", ca, cb), st.State)
		if err != nil {
			t.Fatalf("TakeState(%s): %v", st.State, err)
		}
		if got.Verifier != st.Verifier {
			t.Errorf("got verifier %q, want %q", got.Verifier, st.Verifier)
		}
	}
}

func TestTakeStateOutcomes(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	st := &loginState{State: testState(1), CreatedAt: clock.Now()}
	good := onlyCookie(t, saveState(t, m, st))
	name := good.Name

	mismatch, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &loginState{State: testState(2), CreatedAt: clock.Now()}))
	if err != nil {
		t.Fatal(err)
	}
	old, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &loginState{State: st.State, CreatedAt: clock.Now().Add(-11 * time.Minute)}))
	if err != nil {
		t.Fatal(err)
	}
	future, err := m.stateCodecs[0].Encode(name, appendLoginState(nil, &loginState{State: st.State, CreatedAt: clock.Now().Add(time.Hour)}))
	if err != nil {
		t.Fatal(err)
	}
	sessionValue := saveSession(t, m, aliceProfile()).Value
	otherFlow := onlyCookie(t, saveState(t, m, &loginState{State: testState(3), CreatedAt: clock.Now()}))

	tests := []struct {
		name    string
		state   string
		cookies []*http.Cookie
		want    error
	}{
		{name: "ok", state: st.State, cookies: []*http.Cookie{good}},
		{name: "empty state", state: "", cookies: []*http.Cookie{good}, want: ErrNoState},
		{name: "no cookie", state: st.State, want: ErrNoState},
		{name: "only another flow's cookie", state: st.State, cookies: []*http.Cookie{otherFlow}, want: ErrNoState},
		{name: "another flow's value under this name", state: st.State, cookies: []*http.Cookie{{Name: name, Value: otherFlow.Value}}, want: ErrNoState},
		{name: "mismatch", state: st.State, cookies: []*http.Cookie{{Name: name, Value: mismatch}}, want: ErrStateMismatch},
		{name: "expired", state: st.State, cookies: []*http.Cookie{{Name: name, Value: old}}, want: ErrNoState},
		{name: "from the future", state: st.State, cookies: []*http.Cookie{{Name: name, Value: future}}, want: ErrNoState},
		{name: "tampered", state: st.State, cookies: []*http.Cookie{{Name: name, Value: "x" + good.Value[1:]}}, want: ErrNoState},
		{name: "garbage", state: st.State, cookies: []*http.Cookie{{Name: name, Value: "garbage"}}, want: ErrNoState},
		{name: "session cookie value", state: st.State, cookies: []*http.Cookie{{Name: name, Value: sessionValue}}, want: ErrNoState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			got, err := m.TakeState(rec, requestWith("/auth/callback", tt.cookies...), tt.state)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if (err == nil) != (got != nil) {
				t.Errorf("got state %v with error %v", got, err)
			}
			set := setCookieByName(rec)
			if tt.state == "" {
				if len(set) != 0 {
					t.Errorf("got cookies %v set, want none", set)
				}
				return
			}
			if c := set[name]; c == nil || c.MaxAge >= 0 || c.Path != "/" {
				t.Errorf("got %v set, want %s deleted at /", rec.Header().Values("Set-Cookie"), name)
			}
			if len(set) != 1 {
				t.Errorf("got %d cookies set, want only the deletion of %s", len(set), name)
			}
		})
	}

	clock.Advance(10*time.Minute + time.Second)
	if _, err := m.TakeState(httptest.NewRecorder(), requestWith("/auth/callback", good), st.State); !errors.Is(err, ErrNoState) {
		t.Errorf("after StateLifetime: got %v, want ErrNoState", err)
	}
}

// TestNewStateSlots checks which slot a new login takes: the first the
// browser holds no live login in, else the oldest login's; so a browser
// never holds more than maxStateCookies state cookies, whoever started
// its logins and however many at once.
func TestNewStateSlots(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	save := func(slot int, age time.Duration) *http.Cookie {
		st := &loginState{State: fmt.Sprintf("%d-state-0123456789abcdef0123456789", slot), CreatedAt: clock.Now().Add(-age)}
		return onlyCookie(t, saveState(t, m, st))
	}
	tests := []struct {
		name    string
		cookies []*http.Cookie
		want    string
	}{
		{"none", nil, "0"},
		{"slot 0 taken", []*http.Cookie{save(0, 0)}, "1"},
		{"a gap", []*http.Cookie{save(0, 0), save(2, 0)}, "1"},
		{"all taken: the oldest", []*http.Cookie{save(0, 3*time.Second), save(1, 1*time.Second), save(2, 5*time.Second), save(3, 2*time.Second), save(4, 4*time.Second)}, "2"},
		{"an expired one", []*http.Cookie{save(0, 0), save(1, 11*time.Minute)}, "1"},
		{"an undecodable one", []*http.Cookie{save(0, 0), {Name: "ssogate_state_1", Value: "garbage"}}, "1"},
		{"well-named junk first", append([]*http.Cookie{{Name: "ssogate_state_0", Value: "junk"}}, save(0, 0)), "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.newStateFor(requestWith("/login", tt.cookies...)); got[:1] != tt.want || len(got) < 40 {
				t.Errorf("got state %q, want one in slot %s", got, tt.want)
			}
		})
	}
	// SaveState writes the slot's cookie, and clears those of the previous
	// naming (a flow id of 12 hex digits).
	st := &loginState{State: m.newStateFor(requestWith("/login")), CreatedAt: clock.Now()}
	rec := saveState(t, m, st, &http.Cookie{Name: "ssogate_state_0123456789ab", Value: "old"}, &http.Cookie{Name: "ssogate_state_other", Value: "v"})
	set := setCookieByName(rec)
	if c := set["ssogate_state_"+st.State[:1]]; c == nil || c.MaxAge <= 0 {
		t.Errorf("the slot's cookie was not set: %v", set)
	}
	if c := set["ssogate_state_0123456789ab"]; c == nil || c.MaxAge >= 0 {
		t.Errorf("the previous naming's cookie was not cleared: %v", set)
	}
	if len(set) != 2 {
		t.Errorf("got %d cookies set, want the slot's and the old one's deletion", len(set))
	}
}

func TestSaveStateSameFlowAgain(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	var cookies []*http.Cookie
	for i := range 5 {
		cookies = append(cookies, onlyCookie(t, saveState(t, m, &loginState{State: testState(i), CreatedAt: clock.Now()})))
	}
	// Saving a flow that is already present replaces its cookie and evicts nothing.
	rec := saveState(t, m, &loginState{State: testState(4), CreatedAt: clock.Now()}, cookies...)
	if c := onlyCookie(t, rec); c.MaxAge <= 0 {
		t.Errorf("got %v, want only the flow's new cookie", c)
	}
}

func TestSaveStateRefuses(t *testing.T) {
	m := newTestManager(t, testConfig(newTestClock()))
	tests := []struct {
		name string
		st   *loginState
	}{
		{name: "nil", st: nil},
		{name: "empty state", st: &loginState{Verifier: "v"}},
		{name: "too large", st: &loginState{State: testState(1), ReturnTo: "/" + strings.Repeat("a", 4000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := m.SaveState(rec, requestWith("/login"), tt.st); err == nil {
				t.Errorf("got no error, want one")
			}
			if h := rec.Header().Values("Set-Cookie"); len(h) != 0 {
				t.Errorf("got Set-Cookie %q, want none", h)
			}
		})
	}
}

func TestClearStates(t *testing.T) {
	clock := newTestClock()
	m := newTestManager(t, testConfig(clock))
	a := onlyCookie(t, saveState(t, m, &loginState{State: testState(1)}))
	b := onlyCookie(t, saveState(t, m, &loginState{State: testState(2)}))
	rec := httptest.NewRecorder()
	m.ClearStates(rec, requestWith("/auth/callback", a, b, a,
		&http.Cookie{Name: "ssogate_session", Value: "v"},
		&http.Cookie{Name: "ssogate_state_x", Value: "v"},
		&http.Cookie{Name: "unrelated", Value: "v"}))
	var got []string
	for _, c := range setCookies(rec) {
		if c.MaxAge >= 0 || c.Path != "/" {
			t.Errorf("got %v, want a deletion at /", c)
		}
		got = append(got, c.Name)
	}
	want := []string{a.Name, b.Name}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %q expired, want %q", got, want)
	}
}

func TestLoginStatePayloadRefuses(t *testing.T) {
	good := appendLoginState(nil, &loginState{State: "s", CreatedAt: time.Unix(5, 0)})
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "empty"},
		{name: "unknown version", b: append([]byte{9}, good[1:]...)},
		{name: "unknown flag", b: append([]byte{good[0], 0x80}, good[2:]...)},
		{name: "truncated", b: good[:len(good)-1]},
		{name: "trailing byte", b: append(slices.Clone(good), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, err := decodeLoginState(tt.b); err == nil {
				t.Errorf("got %+v, want an error", st)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is a connection name that would restyle or spoof a terminal: a
// right-to-left override, CSI as one C1 character, a zero-width joiner, a
// tag character beyond the Basic Multilingual Plane and an ESC sequence.
const hostile = "Acme\u202Egpj.exe\u009B2J\u200D\U000E0041\x1b[31mred"

func TestTerminalText(t *testing.T) {
	got := terminalText(hostile + "\xff")
	if want := "Acme?gpj.exe?2J???[31mred?"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := terminalText("Zoë Ωmega 日本"); got != "Zoë Ωmega 日本" {
		t.Errorf("plain text changed: %q", got)
	}
}

func TestTerminalJSON(t *testing.T) {
	b, err := json.Marshal(map[string]string{"name": hostile})
	if err != nil {
		t.Fatal(err)
	}
	out := terminalJSON(b)
	checkTerminalJSON(t, b, out)
	if !strings.Contains(string(out), `\u202e`) || !strings.Contains(string(out), `\u009b`) || !strings.Contains(string(out), `\udb40\udc41`) {
		t.Errorf("got %s, want the characters escaped", out)
	}
}

// checkTerminalJSON checks that out shows nothing unsafe and means what in
// meant.
func checkTerminalJSON(t *testing.T, in, out []byte) {
	t.Helper()
	for _, r := range string(out) {
		if r >= utf8.RuneSelf && unsafeRune(r) {
			t.Fatalf("output %q holds %U", out, r)
		}
	}
	var a, b any
	if err := json.Unmarshal(in, &a); err != nil {
		return
	}
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatalf("output %q is not JSON: %v", out, err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("output means %s, want %s", jb, ja)
	}
}

// FuzzTerminalJSON checks, for any JSON encoding/json makes, that escaping
// leaves the data whole and nothing unsafe in it.
func FuzzTerminalJSON(f *testing.F) {
	f.Add(hostile)
	f.Add("plain")
	f.Add("\u2028\u2029\x00\x7f\u0085")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.Marshal([]any{s, map[string]string{s: s}})
		if err != nil {
			t.Skip()
		}
		checkTerminalJSON(t, b, terminalJSON(b))
	})
}

// TestConnectionsOutputIsSafe runs the command against an emulator that
// holds a connection with a hostile name: neither the table nor -json
// passes what a terminal would act on.
func TestConnectionsOutputIsSafe(t *testing.T) {
	emu := startEmulator(t)
	body, _ := json.Marshal(map[string]string{"id": "conn_evil", "type": "GenericSAML", "name": hostile})
	if got := emu.admin(t, "POST", "connections", string(body)); got != http.StatusCreated {
		t.Fatalf("admin POST connection: got %d", got)
	}
	for _, args := range [][]string{
		{"connections", "list"},
		{"connections", "list", "-json"},
		{"connections", "get", "conn_evil"},
		{"connections", "get", "-json", "conn_evil"},
	} {
		r := ssogateCmd(t, emu.env(), "", args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d, %s", args, r.code, r.stderr)
		}
		for _, c := range r.stdout {
			if c != '\n' && c != '\t' && unsafeRune(c) {
				t.Errorf("%v: output holds %U:\n%q", args, c, r.stdout)
			}
		}
		if !strings.Contains(r.stdout, "gpj.exe") {
			t.Errorf("%v: output lacks the name:\n%s", args, r.stdout)
		}
	}
	var conn struct{ Name string }
	r := ssogateCmd(t, emu.env(), "", "connections", "get", "-json", "conn_evil")
	if err := json.Unmarshal([]byte(r.stdout), &conn); err != nil || conn.Name != hostile {
		t.Errorf("-json: got name %q (%v), want the name as WorkOS has it", conn.Name, err)
	}
}

package workos

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

const webhookSecret = "whsec_test_0123456789abcdef"

var webhookNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const deactivatedBody = `{"object":"event","id":"event_01","event":"connection.deactivated",` +
	`"data":{"object":"connection","id":"conn_acme","organization_id":"org_acme","connection_type":"OktaSAML","state":"inactive"},` +
	`"created_at":"2026-03-01T11:59:59.500Z"}`

const tolerance = 180 * time.Second

// TestVerifyWebhook checks what a signature is bound to: the body, the
// secret and a timestamp within the tolerance, either way.
func TestVerifyWebhook(t *testing.T) {
	body := []byte(deactivatedBody)
	good := workostest.SignWebhook(webhookSecret, webhookNow, body)
	if err := VerifyWebhook(body, good, webhookSecret, webhookNow, tolerance); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	for _, skew := range []time.Duration{tolerance, -tolerance} {
		if err := VerifyWebhook(body, good, webhookSecret, webhookNow.Add(skew), tolerance); err != nil {
			t.Errorf("a signature %v away: %v, want accepted", skew, err)
		}
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] ^= 1
	for name, tc := range map[string]struct {
		body   []byte
		header string
		secret string
		now    time.Time
		want   error
	}{
		"tampered body":   {tampered, good, webhookSecret, webhookNow, ErrSignatureInvalid},
		"other secret":    {body, good, webhookSecret + "x", webhookNow, ErrSignatureInvalid},
		"too old":         {body, good, webhookSecret, webhookNow.Add(tolerance + time.Millisecond), ErrSignatureInvalid},
		"from the future": {body, good, webhookSecret, webhookNow.Add(-tolerance - time.Millisecond), ErrSignatureInvalid},
		"no header":       {body, "", webhookSecret, webhookNow, ErrSignatureMalformed},
		"no v1":           {body, "t=" + strconv.FormatInt(webhookNow.UnixMilli(), 10), webhookSecret, webhookNow, ErrSignatureMalformed},
		"short v1":        {body, "t=1, v1=abcd", webhookSecret, webhookNow, ErrSignatureMalformed},
	} {
		if err := VerifyWebhook(tc.body, tc.header, tc.secret, tc.now, tolerance); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", name, err, tc.want)
		}
	}
}

func TestVerifyWebhookAcceptsAnyOfSeveralSignatures(t *testing.T) {
	body := []byte(deactivatedBody)
	good := workostest.SignWebhook(webhookSecret, webhookNow, body)
	_, v1, _ := strings.Cut(good, "v1=")
	ts := strconv.FormatInt(webhookNow.UnixMilli(), 10)
	header := "t=" + ts + ", v1=" + strings.Repeat("00", 32) + ", v1=" + v1 + ", v0=ignored"
	if err := VerifyWebhook(body, header, webhookSecret, webhookNow, tolerance); err != nil {
		t.Errorf("got %v, want the second signature accepted", err)
	}
	if err := VerifyWebhook(body, good, "", webhookNow, tolerance); !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("empty secret: got %v, want ErrSignatureInvalid", err)
	}
}

// FuzzParseSignatureHeader checks that the WorkOS-Signature parser never
// panics, accepts only well-formed headers, and that a header rebuilt from
// what it accepted parses to the same values.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{
		workostest.SignWebhook(webhookSecret, webhookNow, []byte(deactivatedBody)),
		"t=1772366400000,v1=" + strings.Repeat("ab", 32),
		" t = 1 , v1 = " + strings.Repeat("AB", 32) + " , v2=x",
		"t=1772366400000, v1=" + strings.Repeat("ab", 32) + ", v1=" + strings.Repeat("cd", 32),
		"t=1772366400000",
		"v1=" + strings.Repeat("ab", 32),
		"t=-1, v1=" + strings.Repeat("ab", 32),
		"t=+1, v1=" + strings.Repeat("ab", 32),
		"t=99999999999999999999, v1=" + strings.Repeat("ab", 32),
		"t=1, t=2, v1=" + strings.Repeat("ab", 32),
		"t=1,,v1=" + strings.Repeat("ab", 32),
		"t==1, v1==" + strings.Repeat("ab", 32),
		strings.Repeat(",", 40),
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ts, sigs, err := parseSignatureHeader(h)
		if err != nil {
			if !errors.Is(err, ErrSignatureMalformed) || sigs != nil {
				t.Fatalf("got %v, %v on failure", sigs, err)
			}
			return
		}
		if ts <= 0 || len(sigs) == 0 || len(h) > maxSignatureHeaderLen {
			t.Fatalf("accepted %q as t=%d with %d signatures", h, ts, len(sigs))
		}
		var b strings.Builder
		b.WriteString("t=" + strconv.FormatInt(ts, 10))
		for _, s := range sigs {
			if len(s) != 32 {
				t.Fatalf("signature of %d bytes", len(s))
			}
			b.WriteString(", v1=" + hex.EncodeToString(s))
		}
		ts2, sigs2, err := parseSignatureHeader(b.String())
		if err != nil || ts2 != ts || len(sigs2) != len(sigs) {
			t.Fatalf("rebuilt header %q parsed to %d, %d signatures, %v", b.String(), ts2, len(sigs2), err)
		}
		for i := range sigs {
			if !bytes.Equal(sigs[i], sigs2[i]) {
				t.Fatalf("signature %d differs after rebuilding", i)
			}
		}
	})
}

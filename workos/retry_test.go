package workos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"zero", "0", 0, true},
		{"spaces", "  7 ", 7 * time.Second, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"overflow clamps", "99999999999999999999999", maxRetryAfterSeconds * time.Second, true},
		{"large clamps", "9223372036", maxRetryAfterSeconds * time.Second, true},
		{"IMF date", "Sun, 01 Mar 2026 12:00:30 GMT", 30 * time.Second, true},
		{"RFC 850 date", "Sunday, 01-Mar-26 12:01:00 GMT", time.Minute, true},
		{"asctime date", "Sun Mar  1 12:00:05 2026", 5 * time.Second, true},
		{"past date", "Sun, 01 Mar 2026 11:00:00 GMT", 0, true},
		{"far past date", "Mon, 01 Jan 0001 00:00:00 GMT", 0, true},
		{"empty", "", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"unit", "5s", 0, false},
		{"garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %v, %t; want %v, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	maxRand := func(n int64) int64 { return n - 1 }
	minRand := func(int64) int64 { return 0 }
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	def, err := RetryPolicy{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		policy  RetryPolicy
		attempt int
		randN   func(int64) int64
		want    time.Duration
	}{
		{"first, longest", def, 0, maxRand, s(1)},
		{"first, shortest", def, 0, minRand, 500 * time.Millisecond},
		{"fourth, longest", def, 3, maxRand, s(8)},
		{"fourth, shortest", def, 3, minRand, s(4)},
		{"capped", def, 5, maxRand, s(30)},
		{"capped, shortest", def, 5, minRand, s(15)},
		{"far attempt", def, 1000, maxRand, s(30)},
		{"no overflow", RetryPolicy{MinBackoff: 1 << 61, MaxBackoff: 1<<63 - 1}, 10, maxRand, 1<<63 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.backoff(tt.attempt, tt.randN); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   RetryPolicy
		want RetryPolicy
	}{
		{"zero", RetryPolicy{}, RetryPolicy{MaxRetries: 5, MinBackoff: time.Second, MaxBackoff: 30 * time.Second, MaxRetryAfter: time.Minute}},
		{"no retries", RetryPolicy{MaxRetries: -3}, RetryPolicy{MaxRetries: 0, MinBackoff: time.Second, MaxBackoff: 30 * time.Second, MaxRetryAfter: time.Minute}},
		{"kept", RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Second, MaxRetryAfter: 5 * time.Second}, RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Second, MaxRetryAfter: 5 * time.Second}},
		{"large MinBackoff raises the default MaxBackoff", RetryPolicy{MinBackoff: time.Minute}, RetryPolicy{MaxRetries: 5, MinBackoff: time.Minute, MaxBackoff: time.Minute, MaxRetryAfter: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.withDefaults()
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRetryableStatus(t *testing.T) {
	tests := []struct {
		status     int
		idempotent bool
		want       bool
	}{
		{429, false, true},
		{429, true, true},
		{500, true, true},
		{502, true, true},
		{503, true, true},
		{504, true, true},
		{500, false, false},
		{503, false, false},
		{501, true, false},
		{400, true, false},
		{404, true, false},
		{408, true, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d idempotent=%t", tt.status, tt.idempotent), func(t *testing.T) {
			if got := retryableStatus(tt.status, tt.idempotent); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestNotSent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no route to host")}, true},
		{"refused", fmt.Errorf("wrapped: %w", os.NewSyscallError("connect", syscall.ECONNREFUSED)), true},
		{"read", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, false},
		{"write", &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}, false},
		{"EOF", errors.New("EOF"), false},
		{"timeout", context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notSent(tt.err); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestSleepContext(t *testing.T) {
	if err := sleepContext(context.Background(), time.Millisecond); err != nil {
		t.Errorf("short sleep: got %v, want nil", err)
	}
	// An hour-long sleep that ignored its context would hang this test.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{
		"0", "5", "120", " 7 ", "-1", "1.5", "99999999999999999999", "9223372036854775807",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Fri, 31 Dec 9999 23:59:59 GMT", "", "soon",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 {
			t.Errorf("parseRetryAfter(%q): got %v, want >= 0", v, d)
		}
		if !ok && d != 0 {
			t.Errorf("parseRetryAfter(%q): got %v with ok=false, want 0", v, d)
		}
		if _, err := http.ParseTime(v); err == nil && !ok {
			t.Errorf("parseRetryAfter(%q): got ok=false for an HTTP date", v)
		}
	})
}

package ssogate

import (
	"sync"
	"time"
)

// rateLimit is a token bucket that allows perMinute events a minute, and up
// to a tenth of that (at least one) at once. A negative perMinute means no
// limit. The zero value allows nothing; make one with newRateLimit.
type rateLimit struct {
	perMinute int

	// mu guards tokens and last.
	mu     sync.Mutex
	tokens float64
	last   int64 // nanoseconds on the caller's clock, at the last refill
}

func newRateLimit(perMinute int) *rateLimit {
	l := &rateLimit{perMinute: perMinute}
	l.tokens = l.burst()
	return l
}

// allow takes a token at time now (nanoseconds on any clock that does not
// go back), and reports whether there was one.
func (l *rateLimit) allow(now int64) bool {
	if l.perMinute < 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	perNano := float64(l.perMinute) / float64(time.Minute)
	if d := now - l.last; d > 0 {
		l.tokens = min(l.burst(), l.tokens+float64(d)*perNano)
		l.last = now
	}
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

func (l *rateLimit) burst() float64 {
	return max(1, float64(l.perMinute)/10)
}

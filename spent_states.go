package ssogate

import (
	"crypto/sha256"
	"sync"
	"time"
)

// spentStates remembers, until they expire, the login states that have
// bought a code exchange on this replica, so that a client that ignores
// Set-Cookie and sends a state cookie again cannot make WorkOS calls with
// it. Its size is bounded: states enter only through the exchange budget
// ([Config].MaxExchangesPerMinute) and leave when their login would have
// expired anyway.
type spentStates struct {
	max int

	// mu guards m and lastPrune.
	mu        sync.Mutex
	m         map[[16]byte]int64 // SHA-256 of the state, cut to 128 bits → Unix ms of its expiry
	lastPrune int64
}

// maxSpentStatesUnlimited bounds the record when exchanges are not limited.
const maxSpentStatesUnlimited = 1 << 17

// newSpentStates returns a record big enough for every state that the
// exchange budget lets through in one state lifetime.
func newSpentStates(perMinute int, stateLifetime time.Duration) *spentStates {
	n := maxSpentStatesUnlimited
	if perMinute >= 0 {
		l := rateLimit{perMinute: perMinute}
		n = int(l.burst()) + int(float64(perMinute)*stateLifetime.Minutes()) + 1
	}
	return &spentStates{max: n, m: make(map[[16]byte]int64)}
}

func stateKey(state string) [16]byte {
	sum := sha256.Sum256([]byte(state))
	return [16]byte(sum[:16])
}

// spent reports whether state has been spent.
func (s *spentStates) spent(state string, now time.Time) bool {
	k := stateKey(state)
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.m[k]
	return ok && now.UnixMilli() <= exp
}

// spend records state as spent until expires. It returns [ErrStateSpent]
// if it was spent already, and [ErrTooManySignIns] if the record is full of
// live states.
func (s *spentStates) spend(state string, expires, now time.Time) error {
	k := stateKey(state)
	nowMS := now.UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.m[k]; ok && nowMS <= exp {
		return ErrStateSpent
	}
	if len(s.m) >= s.max || nowMS-s.lastPrune >= time.Minute.Milliseconds() {
		s.lastPrune = nowMS
		for k, exp := range s.m {
			if exp < nowMS {
				delete(s.m, k)
			}
		}
		if len(s.m) >= s.max {
			return ErrTooManySignIns
		}
	}
	s.m[k] = expires.UnixMilli()
	return nil
}

// len returns the number of states recorded.
func (s *spentStates) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

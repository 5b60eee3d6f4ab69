package ssogate

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/ssogate/ssogate/internal/sanitize"
)

// clientBudgets hold back the client whose WorkOS calls keep failing, not
// everyone: each client (by [Config].ClientIP; IPv6 by its /64) has a
// bucket of perMinute tokens, refilled over a minute. A call takes a token
// before it is made, so that a client cannot outrun the bucket with calls
// in parallel, and gives it back when it succeeds: the employees of one
// customer, signing in from one office address, are never held back by
// their own successful sign-ins, while a client that sends made-up codes
// or domains is, after perMinute of them.
type clientBudgets struct {
	what      string // what is budgeted, for the log
	perMinute float64
	log       *slog.Logger

	mu      sync.Mutex // guards the fields below
	clients map[string]*clientBucket
	// refused counts the refusals since the last log line, by client.
	refused map[string]int
	logged  int64 // when the last line was logged, in ns
}

type clientBucket struct {
	tokens float64
	last   int64 // ns
}

// maxBudgetClients bounds the clients tracked. Past it, clients whose
// buckets are full are forgotten first; under an attack from more
// addresses than this, the replica's own budget is what holds.
const maxBudgetClients = 10000

// budgetLogInterval is how often refusals are logged, with the client
// refused most.
const budgetLogInterval = time.Minute

// clientShare is how many failing calls a minute one client may make of a
// replica's budget of perMinute: a fiftieth, and at least 10.
func clientShare(perMinute int) int { return max(10, perMinute/50) }

func newClientBudgets(what string, perMinute int, log *slog.Logger) *clientBudgets {
	return &clientBudgets{what: what, perMinute: float64(perMinute), log: log,
		clients: map[string]*clientBucket{}, refused: map[string]int{}}
}

// clientKey is the key of a client's bucket: an IPv6 address by its /64,
// which one host or customer holds whole; anything else as it is, bounded.
func clientKey(client string) string {
	a, err := netip.ParseAddr(client)
	if err != nil {
		return sanitize.Text(client, 64, nil)
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// take takes a token of client's at time now (ns), and reports whether
// there was one; a refusal is counted for the log.
func (b *clientBudgets) take(client string, now int64) bool {
	if b == nil {
		return true
	}
	key := clientKey(client)
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.bucketLocked(key, now)
	if c.tokens >= 1 {
		c.tokens--
		return true
	}
	b.refused[key]++
	if time.Duration(now-b.logged) >= budgetLogInterval || b.logged == 0 {
		b.logRefusalsLocked(now)
	}
	return false
}

// giveBack returns the token of a call that succeeded.
func (b *clientBudgets) giveBack(client string, now int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.bucketLocked(clientKey(client), now)
	c.tokens = min(b.perMinute, c.tokens+1)
}

// bucketLocked returns key's bucket, refilled to now.
func (b *clientBudgets) bucketLocked(key string, now int64) *clientBucket {
	c := b.clients[key]
	if c == nil {
		if len(b.clients) >= maxBudgetClients {
			b.evictLocked(now)
		}
		c = &clientBucket{tokens: b.perMinute, last: now}
		b.clients[key] = c
		return c
	}
	if d := now - c.last; d > 0 {
		c.tokens = min(b.perMinute, c.tokens+float64(d)*b.perMinute/float64(time.Minute))
		c.last = now
	}
	return c
}

// evictLocked forgets the clients whose buckets have refilled (they are
// as if new), or, if none has, any one.
func (b *clientBudgets) evictLocked(now int64) {
	for k, c := range b.clients {
		if c.tokens+float64(now-c.last)*b.perMinute/float64(time.Minute) >= b.perMinute {
			delete(b.clients, k)
		}
	}
	for k := range b.clients {
		if len(b.clients) < maxBudgetClients {
			break
		}
		delete(b.clients, k)
	}
}

// logRefusalsLocked logs the refusals since the last line: how many, and
// the client refused most (not a line per refusal: a flood would be one
// per request).
func (b *clientBudgets) logRefusalsLocked(now int64) {
	total, top, most := 0, "", 0
	for k, n := range b.refused {
		total += n
		if n > most {
			top, most = k, n
		}
	}
	b.log.Warn("ssogate: a client's failing "+b.what+" are held back",
		"refused", total, "clients", len(b.refused), "top_client", top, "top_client_refused", most,
		"per_client_per_minute", int(b.perMinute))
	clear(b.refused)
	b.logged = now
}

// maxSignOutsPerUser bounds the sign-outs of one user that a replica keeps
// as session revocations within a session lifetime. Past it, a sign-out
// revokes the user instead (every session of theirs issued until then):
// one record, however often an account signs in and out.
const maxSignOutsPerUser = 20

// maxSignOutUsers bounds the users whose sign-outs are counted.
const maxSignOutUsers = 100000

// signOutCounts counts each user's sign-outs on this replica, over windows
// of a session lifetime.
type signOutCounts struct {
	mu    sync.Mutex // guards users
	users map[string]signOutCount
}

type signOutCount struct {
	n     int
	until int64 // the window's end, in Unix ns
}

// tooMany counts a sign-out of profileID at now and reports whether it is
// past maxSignOutsPerUser in its window.
func (c *signOutCounts) tooMany(profileID string, now time.Time, window time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users == nil {
		c.users = map[string]signOutCount{}
	}
	ns := now.UnixNano()
	e := c.users[profileID]
	if e.until <= ns {
		if len(c.users) >= maxSignOutUsers {
			for k, v := range c.users {
				if v.until <= ns || len(c.users) >= maxSignOutUsers {
					delete(c.users, k)
				}
			}
		}
		e = signOutCount{until: ns + int64(window)}
	}
	e.n++
	c.users[profileID] = e
	return e.n > maxSignOutsPerUser
}

package ssogate

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const (
	// sessionCacheShards spreads the cache over locks, so that parallel
	// requests for different users do not meet on one.
	sessionCacheShards = 16
	// evictionSample is how many entries a full shard looks at to find one
	// to evict.
	evictionSample = 4
	// keyBytes is how much of the end of a value the cache hashes: a sealed
	// cookie ends with its 32-byte HMAC-SHA256 in base64, at least 31 bytes
	// of it in the last 44 characters, padding included. Hashing those
	// rather than the whole value (about 424 bytes) costs a tenth as much
	// and tells distinct sessions apart as well.
	keyBytes = 44
)

// cacheResult is the outcome of a cache lookup.
type cacheResult int

const (
	cacheMiss    cacheResult = iota // unknown value: verify it
	cacheHit                        // verified and live
	cacheExpired                    // verified once, but expired since
)

// sessionCache maps session cookie values that verified to their decoded,
// immutable sessions, so that a request repeating a cookie skips the HMAC,
// the decryption and the decoding.
//
// It is sound because opening a cookie is a pure function of the value and
// the manager's keys, which never change, except for the expiry, which is
// checked on every hit. Only values that verified are inserted, so forged
// values cannot fill it. Lookups hash the end of the value (its MAC) with a
// per-process random seed and then compare the whole value in constant
// time, so that a hit needs every byte of a cookie that verified, and the
// response time says nothing about the cached values: a value that shares
// a cached one's MAC but differs anywhere else is a miss, and then fails
// verification.
//
// It holds at most size entries. When a shard is full, an
// insert samples a few of its entries (Go randomizes map iteration) and
// evicts the expired ones among them, or else the first one sampled: random
// replacement, which costs a single re-verification when it guesses wrong.
type sessionCache struct {
	seed     maphash.Seed
	shardCap int // entries a shard holds
	shards   [sessionCacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex // guards m
	m  map[uint64]*cacheEntry

	_ [32]byte // keeps shards on separate cache lines
}

type cacheEntry struct {
	value    string
	sess     *Session
	deadline int64 // Unix second at which sess expires
	// checked is the revocation epoch at which sess was last found not
	// revoked.
	checked atomic.Uint64
}

// newSessionCache returns a cache of about size entries, at least one a
// shard.
func newSessionCache(size int) *sessionCache {
	c := &sessionCache{seed: maphash.MakeSeed(), shardCap: max(1, size/sessionCacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]*cacheEntry, c.shardCap)
	}
	return c
}

// shard returns the shard for hash h.
func (c *sessionCache) shard(h uint64) *cacheShard {
	return &c.shards[h>>(64-4)] // top 4 bits: 16 shards
}

// hash returns the hash of value that get and put take.
func (c *sessionCache) hash(value string) uint64 {
	return maphash.String(c.seed, value[max(0, len(value)-keyBytes):])
}

// get looks value up at Unix second now. It also returns value's hash, for
// a put after a miss.
func (c *sessionCache) get(value string, now int64) (*cacheEntry, uint64, cacheResult) {
	h := c.hash(value)
	sh := c.shard(h)
	sh.mu.RLock()
	e, ok := sh.m[h]
	sh.mu.RUnlock()
	if !ok || !constantTimeEqual(e.value, value) {
		return nil, h, cacheMiss
	}
	if now >= e.deadline {
		sh.mu.Lock()
		if cur, ok := sh.m[h]; ok && cur.sess == e.sess {
			delete(sh.m, h)
		}
		sh.mu.Unlock()
		return e, h, cacheExpired
	}
	return e, h, cacheHit
}

// put caches e, whose value (of hash h) verified to e.sess, which is live
// until deadline and was found not revoked at the given revocation epoch;
// now is the current Unix second. e.value must be the cache's own copy,
// not a slice of a Cookie header.
func (c *sessionCache) put(e *cacheEntry, h uint64, deadline, now int64, epoch uint64) {
	sh := c.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[h]; !ok && len(sh.m) >= c.shardCap {
		sh.evict(now)
	}
	e.deadline = deadline
	e.checked.Store(epoch)
	sh.m[h] = e
}

// evict makes room in a full shard at Unix second now. The caller holds sh.mu.
func (sh *cacheShard) evict(now int64) {
	var first uint64
	seen, evicted := 0, false
	for h, e := range sh.m {
		if seen == 0 {
			first = h
		}
		if e.deadline <= now {
			delete(sh.m, h)
			evicted = true
		}
		if seen++; seen == evictionSample {
			break
		}
	}
	if !evicted {
		delete(sh.m, first)
	}
}

// remove drops value from the cache.
func (c *sessionCache) remove(value string) {
	h := c.hash(value)
	sh := c.shard(h)
	sh.mu.Lock()
	if e, ok := sh.m[h]; ok && constantTimeEqual(e.value, value) {
		delete(sh.m, h)
	}
	sh.mu.Unlock()
}

// len returns the number of cached sessions.
func (c *sessionCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// constantTimeEqual reports whether a == b in time that depends only on
// their lengths. It is subtle.ConstantTimeCompare for strings, 32 bytes at a
// time (the compiler merges each le64's byte loads into one), which makes it
// five times as fast on a session cookie: the comparison is on every gated
// request.
func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	n := len(a)
	b = b[:n]
	var v uint64
	i := 0
	for ; i+32 <= n; i += 32 {
		a32, b32 := a[i:i+32], b[i:i+32]
		// | and ^ bind alike in Go: each pair needs its parentheses.
		v |= (le64(a32[0:8]) ^ le64(b32[0:8])) | (le64(a32[8:16]) ^ le64(b32[8:16])) |
			(le64(a32[16:24]) ^ le64(b32[16:24])) | (le64(a32[24:32]) ^ le64(b32[24:32]))
	}
	for ; i+8 <= n; i += 8 {
		v |= le64(a[i:i+8]) ^ le64(b[i:i+8])
	}
	for ; i < n; i++ {
		v |= uint64(a[i] ^ b[i])
	}
	return v == 0
}

// le64 returns the first eight bytes of s as a little-endian uint64.
func le64(s string) uint64 {
	_ = s[7] // one bounds check
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
)

var _ ssogate.CursorStore = (*Store)(nil)

// cursorTTL is how long a cursor outlives its last move: WorkOS keeps
// events 30 days, and a cursor older than its events is of no use.
const cursorTTL = 30 * 24 * time.Hour

// maxCursorLen bounds a cursor's name and value: an event id is a few
// dozen bytes.
const maxCursorLen = 256

// cursorKey is the key of the cursor called name, beside the store's
// other keys (one hash tag, so one Redis Cluster node).
func (s *Store) cursorKey(name string) string {
	return "{" + s.opts.Prefix + "}cursor:" + name
}

// Cursor returns the cursor stored under name, or "" if there is none.
// It makes the Store the [ssogate.CursorStore] of
// [ssogate.Middleware.FollowEvents], so that every replica on this Redis
// goes on from one cursor. A cursor that Redis lost (a restart without
// persistence, a failover) only makes FollowEvents read events it has
// handled before, which changes nothing.
func (s *Store) Cursor(ctx context.Context, name string) (string, error) {
	if err := checkCursor(name, ""); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.cursorKey(name)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("redisstore: %w", err)
	case len(v) > maxCursorLen:
		return "", errors.New("redisstore: the stored cursor is too long")
	}
	return v, nil
}

// swapCursorScript sets KEYS[1] to ARGV[2], for ARGV[3] ms, if it holds
// ARGV[1] ("" for no key), and returns 1 if it did.
var swapCursorScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// SwapCursor stores next under name if the cursor stored there is still
// prev ("" for none), and reports whether it did. A stored cursor expires
// 30 days after its last move.
func (s *Store) SwapCursor(ctx context.Context, name, prev, next string) (bool, error) {
	if err := checkCursor(name, prev); err != nil {
		return false, err
	}
	if err := checkCursor(name, next); err != nil {
		return false, err
	}
	if next == "" {
		return false, errors.New("redisstore: an empty cursor cannot be stored")
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	n, err := swapCursorScript.Run(ctx, s.rdb, []string{s.cursorKey(name)}, prev, next, cursorTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: %w", err)
	}
	return n == 1, nil
}

// checkCursor checks a cursor's name and value.
func checkCursor(name, value string) error {
	switch {
	case name == "" || len(name) > maxCursorLen:
		return errors.New("redisstore: a cursor's name must have 1 to 256 bytes")
	case len(value) > maxCursorLen:
		return errors.New("redisstore: a cursor must have at most 256 bytes")
	}
	return nil
}

package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssogate/ssogate"
)

// The set's marker is a member "epoch:" + the epoch, scored 0, that only
// the epoch's creation and a full read after a write-back add. Trimming
// never removes it (it removes scores above 0), and a reader skips it as
// long expired. A set without it was evicted or deleted.

// errWriteBacks says that Redis's data is too new to trust yet.
var errWriteBacks = errors.New("redisstore: Redis lost its data (or is new) a moment ago; waiting for the running replicas to write back")

var errNotSynced = errors.New("redisstore: the revocations in force have not been read from Redis yet")

// errResyncing says that a replica doubts what it read and reads it again.
var errResyncing = errors.New("redisstore: reading the revocations in force again")

// epochAge returns how long ago the epoch was made, as its maker's clock
// said; an epoch of unknown age counts as old.
func (s *Store) epochAge(epoch string) time.Duration {
	_, at, ok := strings.Cut(epoch, ":")
	ms, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil {
		return s.opts.WriteBackGrace
	}
	return s.now().Sub(time.UnixMilli(ms))
}

// luaStreamInfo defines streamInfo(key), which returns a stream's
// last-generated-id, entries-added, length and recorded-first-entry-id
// (XINFO STREAM), or those of an empty stream if there is none.
const luaStreamInfo = `
local function streamInfo(key)
  local last, added, len, first = '0-0', 0, 0, '0-0'
  if redis.call('EXISTS', key) == 1 then
    local info = redis.call('XINFO', 'STREAM', key)
    for i = 1, #info, 2 do
      local k = info[i]
      if k == 'last-generated-id' then last = info[i + 1]
      elseif k == 'entries-added' then added = info[i + 1]
      elseif k == 'length' then len = info[i + 1]
      elseif k == 'recorded-first-entry-id' then first = info[i + 1] end
    end
  end
  return last, added, len, first
end
`

// noteScript says where Redis stands, read only: its epoch, whether the
// set holds the epoch's marker, the stream's last id and entries-added,
// the replication id, Redis's time, and how many clients of the previous
// format are subscribed to its channel.
var noteScript = redis.NewScript("#!lua flags=no-writes\n" + luaStreamInfo + `
local e = redis.call('GET', KEYS[1])
local marked = 0
if e and redis.call('ZSCORE', KEYS[2], 'epoch:' .. e) then marked = 1 end
local last, added = streamInfo(KEYS[3])
local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)') or ''
local t = redis.call('TIME')
local old = redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2]
return {e or '', marked, last, added, replid, t[1] * 1000 + math.floor(t[2] / 1000), old}
`)

// note is what noteScript answers.
type note struct {
	epoch    string
	marked   bool
	lastID   string
	added    int64
	replid   string
	redisNow int64
	old      int64
}

func (s *Store) note(ctx context.Context) (note, error) {
	v, err := noteScript.Run(ctx, s.rdb, []string{s.keys.epoch, s.keys.set, s.keys.log}, s.keys.v1Channel).Slice()
	if err != nil {
		return note{}, err
	}
	if len(v) != 7 {
		return note{}, errors.New("redisstore: unexpected answer to the state check")
	}
	return note{epoch: str(v[0]), marked: num(v[1]) == 1, lastID: str(v[2]), added: num(v[3]),
		replid: str(v[4]), redisNow: num(v[5]), old: num(v[6])}, nil
}

func str(x any) string { s, _ := x.(string); return s }
func num(x any) int64  { n, _ := x.(int64); return n }

// epochScript makes the epoch, and marks the set with it, if Redis has
// none.
var epochScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], 0, 'epoch:' .. ARGV[1])
  return 1
end
return 0
`)

// markScript adds the epoch's marker to the set, if the epoch is still
// ARGV[1].
var markScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('ZADD', KEYS[2], 0, 'epoch:' .. ARGV[1])
  return 1
end
return 0
`)

// ensureEpoch returns Redis's epoch, making it if this Redis has none (it
// is new, lost its data, or the key was evicted): only then does it
// write, so that a Redis out of memory, which refuses writes, can still be
// read. A new epoch also carries the previous format's revocations over.
func (s *Store) ensureEpoch(ctx context.Context) (string, error) {
	epoch, err := s.rdb.Get(ctx, s.keys.epoch).Result()
	if err == nil {
		return epoch, nil
	}
	if !errors.Is(err, redis.Nil) {
		return "", err
	}
	value := rand.Text() + ":" + strconv.FormatInt(s.now().UnixMilli(), 10)
	created, err := epochScript.Run(ctx, s.rdb, []string{s.keys.epoch, s.keys.set}, value).Int()
	if err != nil {
		return "", err
	}
	if created == 1 {
		s.old.migrate(ctx)
	}
	return s.rdb.Get(ctx, s.keys.epoch).Result()
}

// sync reads the whole set and delivers it to every subscriber, as a
// Resync update, having noted first where the stream ends, so that the
// stream brings whatever is added during the read. Unless forced (for a
// new subscriber), it does nothing once another sync has read the set:
// the follower and Subscribe may both find the store unsynced at once.
// A forced sync for a subscriber that joined when the store had made
// seen full reads does nothing either once a later one has delivered the
// set to every subscriber, it included.
func (s *Store) sync(ctx context.Context, force bool, seen int64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	synced, reads := s.synced, s.reads
	s.mu.Unlock()
	if synced && (!force || reads > seen) {
		return nil
	}
	return s.readAll(ctx, false)
}

// readAll is sync's work, under syncMu. A replica that has just written
// back what it holds (restoring) trusts Redis at once; otherwise it waits
// for the running replicas to write back into data that is new, or into a
// set that lost its marker.
func (s *Store) readAll(ctx context.Context, restoring bool) error {
	start := s.now()
	n, err := s.note(ctx)
	if err != nil {
		return err
	}
	if n.epoch == "" {
		if _, err := s.ensureEpoch(ctx); err != nil {
			return err
		}
		if n, err = s.note(ctx); err != nil {
			return err
		}
	}
	s.noteSkew(start, n.redisNow)
	if !restoring {
		if left := s.opts.WriteBackGrace - s.epochAge(n.epoch); left > 100*time.Millisecond {
			return fmt.Errorf("%w (for %v more)", errWriteBacks, left)
		} else if left > 0 {
			// Not worth a retry: wait it out here.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(left):
			}
		}
	}
	if !n.marked {
		if !restoring {
			s.mu.Lock()
			if s.markerMissing.IsZero() {
				s.markerMissing = s.now()
			}
			since := s.now().Sub(s.markerMissing)
			s.mu.Unlock()
			if since < s.opts.WriteBackGrace {
				return fmt.Errorf("%w: the set has no marker (evicted, or written by an older version) (for %v more)", errWriteBacks, s.opts.WriteBackGrace-since)
			}
		}
		if err := markScript.Run(ctx, s.rdb, []string{s.keys.epoch, s.keys.set}, n.epoch).Err(); err != nil {
			return err
		}
	}
	revs, err := s.readSet(ctx)
	if err != nil {
		return err
	}
	// The subscribers delivered to and the count of reads change together,
	// so that one that joins meanwhile reads the set itself (see sync).
	s.mu.Lock()
	subs := append([]*subscriber(nil), s.subs...)
	s.reads++
	s.mu.Unlock()
	for _, p := range subs {
		p.Apply(ssogate.Update{Revocations: revs, Resync: true})
	}
	s.mu.Lock()
	s.synced = true
	s.pos = position{epoch: n.epoch, replid: n.replid, lastID: n.lastID, added: n.added}
	s.markerMissing = time.Time{}
	s.mu.Unlock()
	s.recovered()
	s.old.seen(n.old)
	s.checkPolicy(ctx)
	return nil
}

// checkPolicy warns, once, when Redis may evict the store's keys.
func (s *Store) checkPolicy(ctx context.Context) {
	if !s.policyOK.CompareAndSwap(false, true) {
		return
	}
	v, err := s.rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		// Managed Redis services often rename or forbid CONFIG.
		s.log.Debug("redisstore: could not read Redis's maxmemory-policy", "err", err)
		return
	}
	if p := v["maxmemory-policy"]; strings.HasPrefix(p, "allkeys-") {
		s.log.Warn("redisstore: Redis's maxmemory-policy lets it evict the store's keys, which loses revocations when memory is short: set it to noeviction (or a volatile-* policy)",
			"maxmemory-policy", p)
	}
}

// readSet reads every revocation in force, a page at a time.
func (s *Store) readSet(ctx context.Context) ([]ssogate.Revocation, error) {
	nowMS := s.now().UnixMilli()
	// Sized once from the set's size, with room for what is added while it
	// is read: growing it a page at a time copied the slice over and over,
	// a fifth of a cold start with 500,000 revocations (BenchmarkReplicaStart).
	card, err := s.rdb.ZCard(ctx, s.keys.set).Result()
	if err != nil {
		return nil, err
	}
	revs := make([]ssogate.Revocation, 0, min(card+card/16+scanCount, maxPrealloc))
	skipped, unknown := 0, 0
	var cursor uint64
	for {
		page, next, err := s.rdb.ZScan(ctx, s.keys.set, cursor, "", scanCount).Result()
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(page); i += 2 {
			score, err := strconv.ParseFloat(page[i+1], 64)
			if err != nil {
				skipped++
				continue
			}
			if score < float64(nowMS) {
				continue // expired, or the marker
			}
			r, err := decodeMember(page[i], int64(score))
			if errors.Is(err, errUnknownKind) {
				unknown++
				continue
			}
			if err != nil {
				skipped++
				continue
			}
			revs = append(revs, r)
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if skipped > 0 {
		s.log.Warn("redisstore: malformed revocation records skipped", "key", s.keys.set, "count", skipped)
	}
	if unknown > 0 {
		s.log.Info("redisstore: revocations of a kind this version does not know skipped (a newer version wrote them)", "key", s.keys.set, "count", unknown)
	}
	return revs, nil
}

// pollScript checks, read only, that a replica at position ARGV[1..4]
// (epoch, last id, entries-added, replication id) can resume the stream,
// and returns the verdict ('ok', 'lost', 'evicted', 'history' or 'gap'),
// Redis's time if ARGV[6] is 1 (else 0), how many clients of the previous
// format are subscribed to ARGV[5], and, if 'ok', up to 100 entries after
// the last id. The reply of a replica with nothing new is a few dozen
// bytes.
var pollScript = redis.NewScript("#!lua flags=no-writes\n" + luaStreamInfo + `
local function cmp(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  if am ~= bm then return am < bm and -1 or 1 end
  if as ~= bs then return as < bs and -1 or 1 end
  return 0
end
local now = 0
if ARGV[6] == '1' then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local old = redis.call('PUBSUB', 'NUMSUB', ARGV[5])[2]
local e = redis.call('GET', KEYS[1])
if e ~= ARGV[1] then return {'lost', now, old, {}} end
if not redis.call('ZSCORE', KEYS[2], 'epoch:' .. e) then return {'evicted', now, old, {}} end
local replid = string.match(redis.call('INFO', 'replication'), 'master_replid:(%x+)') or ''
if replid ~= ARGV[4] then return {'history', now, old, {}} end
local pos, seen = ARGV[2], tonumber(ARGV[3])
local last, added, len, first = streamInfo(KEYS[3])
if added < seen or cmp(last, pos) < 0 then return {'history', now, old, {}} end
if added == seen then
  if last ~= pos then return {'history', now, old, {}} end
  return {'ok', now, old, {}}
end
local entries = redis.call('XRANGE', KEYS[3], '(' .. pos, '+', 'COUNT', 100)
local present
if len == 0 then
  present = 0
elseif pos == '0-0' or cmp(first, pos) > 0 then
  present = len
else
  if #redis.call('XRANGE', KEYS[3], pos, pos) == 0 then return {'history', now, old, {}} end
  if #entries < 100 then present = #entries end
end
if present and present ~= added - seen then return {'gap', now, old, {}} end
return {'ok', now, old, entries}
`)

// pollResult is what pollScript answers.
type pollResult struct {
	verdict  string
	redisNow int64
	old      int64
	entries  []redis.XMessage
}

func parsePoll(cmd *redis.Cmd) (pollResult, error) {
	v, err := cmd.Slice()
	if err != nil {
		return pollResult{}, err
	}
	if len(v) != 4 {
		return pollResult{}, errors.New("redisstore: unexpected answer to the stream check")
	}
	res := pollResult{verdict: str(v[0]), redisNow: num(v[1]), old: num(v[2])}
	raw, _ := v[3].([]any)
	for _, e := range raw {
		pair, _ := e.([]any)
		if len(pair) != 2 {
			return pollResult{}, errors.New("redisstore: unexpected stream entry")
		}
		fields, _ := pair[1].([]any)
		values := make(map[string]any, len(fields)/2)
		for i := 0; i+1 < len(fields); i += 2 {
			values[str(fields[i])] = fields[i+1]
		}
		res.entries = append(res.entries, redis.XMessage{ID: str(pair[0]), Values: values})
	}
	return res, nil
}

// follow reads the stream from where this replica stopped, until Close.
func (s *Store) follow() {
	defer s.done.Done()
	ctx := s.ctx
	for ctx.Err() == nil {
		s.mu.Lock()
		synced, pos := s.synced, s.pos
		haveSubs := len(s.subs) > 0
		wantTime := s.now().Sub(s.lastSkew) >= time.Minute
		s.mu.Unlock()
		if !haveSubs {
			select {
			case <-ctx.Done():
			case <-s.subscribed:
			}
			continue
		}
		if !synced {
			sctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			err := s.sync(sctx, false, 0)
			cancel()
			switch {
			case errors.Is(err, errWriteBacks):
				s.sleep(s.opts.RetryInterval)
			case err != nil && ctx.Err() == nil:
				s.failed(err)
				s.sleep(s.opts.RetryInterval)
			}
			continue
		}
		// Whether this replica can resume from pos, and what follows it.
		args := []any{pos.epoch, pos.lastID, pos.added, pos.replid, s.keys.v1Channel, btoi(wantTime)}
		start := s.now()
		pctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		poll := pollScript.EvalSha(pctx, s.reader, []string{s.keys.epoch, s.keys.set, s.keys.log}, args...)
		cancel()
		if isNoScript(poll.Err()) {
			// A Redis that never ran the script (new, or restarted).
			if lerr := pollScript.Load(ctx, s.rdb).Err(); lerr != nil && ctx.Err() == nil {
				s.failed(lerr)
				s.sleep(s.opts.RetryInterval)
			}
			continue
		}
		res, err := parsePoll(poll)
		if err != nil {
			s.pause(ctx, err)
			continue
		}
		if wantTime {
			s.noteSkew(start, res.redisNow)
		}
		s.old.seen(res.old)
		if res.verdict != "ok" {
			s.restore(ctx, res.verdict)
			continue
		}
		s.applyEntries(pos, res.entries)
		s.recovered()
		if len(res.entries) > 0 {
			continue
		}
		// Nothing new: wait on the stream, up to followBlock, for what
		// comes next. What it brings, the next look checks. The wait is
		// apart from the check, so that a check's verdict is acted on at
		// once, not after the wait.
		streams, err := s.reader.XRead(ctx, &redis.XReadArgs{Streams: []string{s.keys.log, pos.lastID}, Count: 100, Block: followBlock}).Result()
		switch {
		case errors.Is(err, redis.Nil): // nothing within followBlock
		case err != nil:
			s.pause(ctx, err)
		case len(streams) > 0:
			s.applyEntries(pos, streams[0].Messages)
		}
	}
}

// pause notes a failed look at Redis and waits before the next: briefly
// while a Cluster slot moves, RetryInterval otherwise.
func (s *Store) pause(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	s.failed(err)
	if classify(err) == migrating {
		s.sleep(50 * time.Millisecond)
	} else {
		s.sleep(s.opts.RetryInterval)
	}
}

// applyEntries delivers stream entries that follow from, in order, and
// notes how far they go, unless the position moved meanwhile (a restore).
func (s *Store) applyEntries(from position, msgs []redis.XMessage) {
	if len(msgs) == 0 {
		return
	}
	skipped := 0
	for _, m := range msgs {
		u, err := decodeEntry(m.Values)
		switch {
		case errors.Is(err, errUnknownKind):
		case err != nil:
			skipped++
		default:
			s.deliver(u)
		}
	}
	s.mu.Lock()
	if s.pos == from {
		s.pos.lastID = msgs[len(msgs)-1].ID
		s.pos.added += int64(len(msgs))
	}
	s.mu.Unlock()
	if skipped > 0 {
		s.log.Warn("redisstore: malformed updates skipped", "key", s.keys.log, "count", skipped)
	}
}

// restore acts on a verdict other than 'ok': for a gap in the stream it
// reads the whole set again; for Redis's data lost, the set's marker
// gone or a change of history, it first writes back every revocation
// this replica holds, so that the set has them all again. With FailClosed
// the replica refuses sessions meanwhile.
func (s *Store) restore(ctx context.Context, verdict string) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	switch verdict {
	case "gap":
		s.log.Warn("redisstore: updates were trimmed from the stream before this replica read them (away longer than LogRetention); reading the revocations in force again")
	case "lost":
		s.log.Warn("redisstore: Redis lost revocations (a restart without persistence, or its keys evicted); writing back the revocations this replica holds")
	case "evicted":
		s.log.Warn("redisstore: Redis lost revocations (the set was evicted or deleted); writing back the revocations this replica holds")
	default:
		s.log.Warn("redisstore: Redis's history changed (a failover, a restart from an older copy, or a split brain healed); writing back the revocations this replica holds and reading them all again")
	}
	if s.opts.FailClosed {
		for _, p := range s.subscribers() {
			s.setClosed(p, errResyncing)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
	defer cancel()
	if verdict != "gap" {
		if _, err := s.ensureEpoch(rctx); err != nil {
			s.restoreFailed(err)
			return
		}
		revs := s.known()
		n, err := s.writeBack(rctx, revs)
		if err != nil {
			s.restoreFailed(err)
			return
		}
		s.log.Info("redisstore: revocations written back", "held", len(revs), "missing", n)
	}
	if err := s.readAll(rctx, true); err != nil {
		s.restoreFailed(err)
	}
}

func (s *Store) restoreFailed(err error) {
	if s.ctx.Err() != nil {
		return
	}
	s.failed(err)
	s.sleep(s.opts.RetryInterval)
}

// writeBackScript adds the members the set lacks, and adds those to the
// stream, so that the other replicas learn of them too. The stream is
// trimmed by Redis's clock to ARGV[1] ms.
var writeBackScript = redis.NewScript(`
local added = {}
for i = 2, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], ARGV[i]) == 1 then
    added[#added + 1] = ARGV[i] .. ' ' .. ARGV[i + 1]
  end
end
if #added > 0 then
  local t = redis.call('TIME')
  local minid = string.format('%d', t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(ARGV[1]))
  redis.call('XADD', KEYS[2], 'MINID', '~', minid, '*', 'v', '2', 'r', table.concat(added, '\n'))
end
return #added
`)

// writeBack writes revs back, a chunk at a time; it returns how many the
// set lacked.
func (s *Store) writeBack(ctx context.Context, revs []ssogate.Revocation) (int, error) {
	now := s.now()
	added := 0
	for i := 0; i < len(revs); i += maxEntryRevocations {
		args := []any{s.opts.LogRetention.Milliseconds()}
		for _, r := range revs[i:min(i+maxEntryRevocations, len(revs))] {
			if r.Expires.Before(now) {
				continue
			}
			args = append(args, memberOf(r), formatMS(r.Expires.UnixMilli()))
		}
		if len(args) == 1 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		n, err := writeBackScript.Run(cctx, s.rdb, []string{s.keys.set, s.keys.log}, args...).Int()
		cancel()
		if err != nil {
			return added, err
		}
		added += n
	}
	if added > 0 {
		s.wrote()
	}
	return added, nil
}

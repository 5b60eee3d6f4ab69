package workostest

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// storedEvent is an event as GET /events lists it.
type storedEvent struct {
	id, event string
	body      []byte // the event as JSON, exactly as the webhook sent it
	at        time.Time
	org       string // the organization of its data, if any
}

// eventRetention is how long WorkOS keeps events for GET /events.
const eventRetention = 30 * 24 * time.Hour

// newEventID returns an event id that sorts by time, as WorkOS's (ULIDs)
// do: 48 bits of Unix milliseconds and 80 random bits, in Crockford's
// base32.
func newEventID(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	rand.Read(b[6:])
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var out [26]byte
	// 128 bits in 26 digits of 5 bits: the first digit holds the top 3.
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	for i := 25; i >= 0; i-- {
		out[i] = alphabet[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return "event_" + string(out[:])
}

// organizationOf returns the organization_id of an event's data.
func organizationOf(data any) string {
	b, err := json.Marshal(data)
	if err != nil {
		return ""
	}
	var v struct {
		OrganizationID string `json:"organization_id"`
	}
	json.Unmarshal(b, &v)
	return v.OrganizationID
}

// Events returns the types of the events the server has recorded, oldest
// first: every event it emits is kept for GET /events, whether or not a
// webhook is configured.
func (s *Server) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.events))
	for i, e := range s.events {
		out[i] = e.event
	}
	return out
}

// listEvents serves GET /events as WorkOS does: events (the types, comma
// separated, repeated, or as events[]) is required; after is an event id;
// range_start and range_end (RFC 3339) bound the creation time;
// organization_id filters by the data's organization; limit is 1 to 100
// (default 10). Events are listed oldest first whatever order says, and
// list_metadata has only after: the last event of a full page.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var types []string
	for _, v := range append(q["events"], q["events[]"]...) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				types = append(types, t)
			}
		}
	}
	var errs []fieldErrorJSON
	if len(types) == 0 {
		errs = append(errs, fieldErrorJSON{Field: "events", Code: "required"})
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fieldErrorJSON{Field: "limit", Code: "limit must be between 1 and 100"})
		}
		limit = n
	}
	var start, end time.Time
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"range_start", &start}, {"range_end", &end}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				errs = append(errs, fieldErrorJSON{Field: f.name, Code: f.name + " must be an ISO 8601 date"})
			}
			*f.t = t
		}
	}
	if len(errs) > 0 {
		validationFailed(w, errs)
		return
	}
	after, orgID := q.Get("after"), q.Get("organization_id")

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	from := 0
	if after != "" {
		i := slices.IndexFunc(s.events, func(e storedEvent) bool { return e.id == after })
		if i < 0 {
			validationFailed(w, []fieldErrorJSON{{Field: "after", Code: "after must be the id of an event"}})
			return
		}
		from = i + 1
	}
	var page []json.RawMessage
	last, more := "", false
	for _, e := range s.events[from:] {
		switch {
		case now.Sub(e.at) > eventRetention,
			!slices.Contains(types, e.event),
			orgID != "" && e.org != orgID,
			!start.IsZero() && e.at.Before(start),
			!end.IsZero() && e.at.After(end):
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, json.RawMessage(bytes.Clone(e.body)))
		last = e.id
	}
	out := struct {
		Object       string            `json:"object"`
		Data         []json.RawMessage `json:"data"`
		ListMetadata struct {
			After *string `json:"after"`
		} `json:"list_metadata"`
	}{Object: "list", Data: append([]json.RawMessage{}, page...)}
	if more {
		out.ListMetadata.After = &last
	}
	writeJSON(w, http.StatusOK, out)
}

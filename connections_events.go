package ssogate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/workos"
)

// InvalidateConnection drops every cached answer that holds the connection,
// and the answer for its id.
func (c *ConnectionCache) InvalidateConnection(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidateLocked(id, "", nil)
}

// InvalidateOrganization drops the cached answers for an organization and
// every answer that holds one of its connections.
func (c *ConnectionCache) InvalidateOrganization(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.deleteLocked(kindOrganization, id)
	c.deleteWhereLocked(func(s *ConnectionSet) bool {
		if s.OrganizationID == id {
			return true
		}
		for i := range s.Connections {
			if s.Connections[i].OrganizationID == id {
				return true
			}
		}
		return false
	})
}

// InvalidateDomain drops the cached answer for an email domain.
func (c *ConnectionCache) InvalidateDomain(domain string) {
	d, err := NormalizeDomain(domain)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	c.deleteLocked(kindDomain, d)
}

// Purge drops every cached answer. The connection events applied so far
// are kept, so that an old event still cannot undo a newer one.
func (c *ConnectionCache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for k := range c.entries {
		c.entries[k].Clear()
	}
	c.count = 0
}

// invalidateLocked drops the answers that hold a connection or name its
// organization or one of its domains.
func (c *ConnectionCache) invalidateLocked(connID, orgID string, domains []string) {
	c.gen.Add(1)
	c.deleteLocked(kindConnection, connID)
	if orgID != "" {
		c.deleteLocked(kindOrganization, orgID)
	}
	for _, d := range domains {
		if n, err := NormalizeDomain(d); err == nil {
			c.deleteLocked(kindDomain, n)
		}
	}
	c.deleteWhereLocked(func(s *ConnectionSet) bool { return s.has(connID) })
}

func (c *ConnectionCache) deleteLocked(k lookupKind, key string) {
	if _, ok := c.entries[k].LoadAndDelete(key); ok {
		c.count--
	}
}

// deleteWhereLocked drops the positive answers for which match is true.
func (c *ConnectionCache) deleteWhereLocked(match func(*ConnectionSet) bool) {
	for k := range c.entries {
		c.entries[k].Range(func(key, v any) bool {
			if s := v.(*lookupEntry).set; s != nil && match(s) {
				c.entries[k].Delete(key)
				c.count--
			}
			return true
		})
	}
}

// eventHook is called with each connection event applied through
// [ConnectionCache.ApplyEvent], and the connection it names.
type eventHook func(ctx context.Context, ev *workos.Event, conn *Connection) error

// eventShareTimeout bounds the sharing of an event applied by ApplyEvent.
const eventShareTimeout = 5 * time.Second

// ApplyEvent brings the cache up to date with a WorkOS event: a connection's
// activation, deactivation or deletion drops the cached answers it affects
// (by connection, organization and domains), so the next lookup asks WorkOS.
// Other events are ignored.
//
// WorkOS delivers events out of order and retries them for days, so an event
// older than one already applied for the same connection is ignored, and a
// deleted connection stays deleted. The event's data is never cached as an
// answer: events only ever take access away; WorkOS's own answers grant it.
//
// When the cache serves a [Middleware], the event also reaches the other
// replicas through its [Backplane], and a deactivation or deletion revokes
// the connection's sessions (see [Config].KeepSessionsOfRemovedConnections).
// An error matching [ErrInvalidEvent] reports a malformed event; any other,
// that it could not be shared in time (it holds here all the same).
func (c *ConnectionCache) ApplyEvent(ev *workos.Event) error {
	ctx, cancel := context.WithTimeout(context.Background(), eventShareTimeout)
	defer cancel()
	return c.applyAndShare(ctx, ev)
}

// applyAndShare applies ev here and hands it to the hook, if any.
func (c *ConnectionCache) applyAndShare(ctx context.Context, ev *workos.Event) error {
	conn, err := c.applyEvent(ev)
	if err != nil {
		return err
	}
	if h := c.onEvent.Load(); h != nil {
		return (*h)(ctx, ev, conn)
	}
	return nil
}

// applyEvent is ApplyEvent on this cache alone. It returns the connection
// a connection event names, and nil for other events.
func (c *ConnectionCache) applyEvent(ev *workos.Event) (*Connection, error) {
	switch ev.Event {
	case workos.EventConnectionActivated, workos.EventConnectionDeactivated, workos.EventConnectionDeleted:
	default:
		return nil, nil
	}
	var conn Connection
	if err := json.Unmarshal(ev.Data, &conn); err != nil || !wellFormed(&conn) {
		return nil, fmt.Errorf("%w: %s without a valid connection", ErrInvalidEvent, ev.Event)
	}
	if ev.CreatedAt.IsZero() {
		return nil, fmt.Errorf("%w: %s without created_at", ErrInvalidEvent, ev.Event)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	state := connectionEventState{
		at:       ev.CreatedAt,
		inactive: ev.Event == workos.EventConnectionDeactivated,
		deleted:  ev.Event == workos.EventConnectionDeleted,
	}
	last, seen := c.events[conn.ID]
	switch {
	case seen && (last.deleted || ev.CreatedAt.Before(last.at)):
		return &conn, nil // older than what is known
	case seen && ev.CreatedAt.Equal(last.at):
		// Events of the same instant cannot be ordered: keep the more
		// restrictive record, and let WorkOS's answer decide.
		state.inactive = state.inactive || last.inactive
		state.deleted = state.deleted || last.deleted
	case !seen && len(c.events) >= c.cfg.MaxEntries:
		c.forgetOldestEventLocked()
	}
	c.events[conn.ID] = state
	// The cached answer for the connection knows its organization and
	// domains even when the event does not (deletions carry no domains).
	domains := make([]string, 0, len(conn.Domains))
	for _, d := range conn.Domains {
		domains = append(domains, d.Domain)
	}
	if v, ok := c.entries[kindConnection].Load(conn.ID); ok {
		if s := v.(*lookupEntry).set; s != nil {
			for _, d := range s.Connections[0].Domains {
				domains = append(domains, d.Domain)
			}
			if cached := s.Connections[0].OrganizationID; cached != conn.OrganizationID {
				c.deleteLocked(kindOrganization, cached)
			}
		}
	}
	c.invalidateLocked(conn.ID, conn.OrganizationID, domains)
	return &conn, nil
}

// forgetOldestEventLocked makes room in the bounded record of events.
// Deletions are forgotten last: they are what must never be undone.
func (c *ConnectionCache) forgetOldestEventLocked() {
	var oldest string
	var at time.Time
	oldestDeleted := true
	for id, ev := range c.events {
		if oldest == "" || (oldestDeleted && !ev.deleted) || (ev.deleted == oldestDeleted && ev.at.Before(at)) {
			oldest, at, oldestDeleted = id, ev.at, ev.deleted
		}
	}
	delete(c.events, oldest)
}

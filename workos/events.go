package workos

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The Directory Sync events.
const (
	EventDirectoryActivated   = "dsync.activated"
	EventDirectoryDeleted     = "dsync.deleted"
	EventDirectoryUserCreated = "dsync.user.created"
	EventDirectoryUserUpdated = "dsync.user.updated"
	EventDirectoryUserDeleted = "dsync.user.deleted"
)

// ListEventsOptions select events of the Events API. Events is required.
type ListEventsOptions struct {
	// Events are the event types to list, such as "dsync.user.deleted".
	Events []string
	// After is the id of the last event read: the list starts after it.
	After string
	// RangeStart and RangeEnd, when set, bound the events' creation time.
	RangeStart, RangeEnd time.Time
	OrganizationID       string
	// Limit is the page size, 1 to 100, or 0 for WorkOS's default of 10.
	Limit int
}

// EventList is one page of events, oldest first. ListMetadata.After is
// the cursor of the next page, "" when there is none yet.
type EventList struct {
	Data         []Event      `json:"data"`
	ListMetadata ListMetadata `json:"list_metadata"`
}

// maxEventTypes bounds the event types of one listing.
const maxEventTypes = 100

// ListEvents returns one page of events (GET /events), oldest first:
// WorkOS lists events in the order they happened whatever an order
// parameter says, so none is sent. WorkOS keeps events for 30 days, and
// holds a new event back from reads for a few seconds, so that a cursor
// never moves past an event not yet visible. The ids are those of the
// webhook deliveries of the same events.
func (c *Client) ListEvents(ctx context.Context, opts ListEventsOptions) (*EventList, error) {
	if len(opts.Events) == 0 || len(opts.Events) > maxEventTypes {
		return nil, invalidOptions("Events must name 1 to %d event types", maxEventTypes)
	}
	for _, e := range opts.Events {
		if e == "" || strings.ContainsAny(e, ", ") {
			return nil, invalidOptions("an event type is empty or holds a comma or a space")
		}
	}
	if opts.Limit < 0 || opts.Limit > 100 {
		return nil, invalidOptions("Limit must be between 1 and 100, or 0 for the default")
	}
	if !opts.RangeStart.IsZero() && !opts.RangeEnd.IsZero() && opts.RangeEnd.Before(opts.RangeStart) {
		return nil, invalidOptions("RangeEnd is before RangeStart")
	}
	q := url.Values{}
	// The spec's form style without explode: one comma-joined value.
	q.Set("events", strings.Join(opts.Events, ","))
	setNonEmpty(q, "after", opts.After)
	if !opts.RangeStart.IsZero() {
		q.Set("range_start", opts.RangeStart.UTC().Format(time.RFC3339Nano))
	}
	if !opts.RangeEnd.IsZero() {
		q.Set("range_end", opts.RangeEnd.UTC().Format(time.RFC3339Nano))
	}
	setNonEmpty(q, "organization_id", opts.OrganizationID)
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	var l EventList
	if err := c.do(ctx, &call{route: "GET /events", method: http.MethodGet, path: "/events", query: q}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// AllEvents walks the events that opts selects from opts.After to the
// newest visible one, page by page. An error is yielded once and ends the
// walk. To follow events over time, keep the id of the last event handled
// and start the next walk after it.
func (c *Client) AllEvents(ctx context.Context, opts ListEventsOptions) iter.Seq2[Event, error] {
	return All(Page{After: opts.After, Limit: opts.Limit}, func(p Page) ([]Event, ListMetadata, error) {
		opts.After = p.After
		l, err := c.ListEvents(ctx, opts)
		if err != nil {
			return nil, ListMetadata{}, err
		}
		return l.Data, l.ListMetadata, nil
	})
}

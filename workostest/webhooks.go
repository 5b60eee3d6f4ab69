package workostest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// webhookTimeout bounds one delivery attempt.
const webhookTimeout = 10 * time.Second

// Delivery is one attempt to deliver a webhook event, as listed by
// [Server.Deliveries].
type Delivery struct {
	// EventID is the event's id (event_...).
	EventID string
	// Event is the event type, such as "connection.activated".
	Event string
	// Body is the exact request body that was signed and sent.
	Body []byte
	// Signature is the WorkOS-Signature header sent.
	Signature string
	// Status is the receiver's response status, or 0 if there was none.
	Status int
	// Err is why the attempt failed to get a response, or nil.
	Err error
	// Time is when the event was signed, on the server clock.
	Time time.Time
}

// SignWebhook returns the WorkOS-Signature header value for body sent at t:
// "t=<unix ms>, v1=<hex HMAC-SHA256(secret, "<unix ms>.<body>")>". Tests of
// webhook receivers use it to forge valid and invalid signatures.
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ", v1=" + hex.EncodeToString(mac.Sum(nil))
}

type eventJSON struct {
	Object    string `json:"object"`
	ID        string `json:"id"`
	Event     string `json:"event"`
	Data      any    `json:"data"`
	CreatedAt string `json:"created_at"`
}

type queuedEvent struct {
	id, event string
	body      []byte
	at        time.Time
}

// webhooks delivers events, one at a time and in order, from a single
// goroutine.
type webhooks struct {
	url, secret string
	client      *http.Client
	done        chan struct{}

	// mu guards the fields below; cond signals changes to them.
	mu         sync.Mutex
	cond       *sync.Cond
	queue      []queuedEvent
	busy       bool
	closed     bool
	deliveries []Delivery
}

func newWebhooks(url, secret string) *webhooks {
	h := &webhooks{
		url:    url,
		secret: secret,
		client: &http.Client{Timeout: webhookTimeout},
		done:   make(chan struct{}),
	}
	h.cond = sync.NewCond(&h.mu)
	go h.run()
	return h
}

// emitLocked records an event, for GET /events, and queues it for the
// webhook. Called with s.mu held, so events are kept and queued in the
// order the changes happened.
func (s *Server) emitLocked(event string, data any) {
	now := s.nowLocked()
	ev := eventJSON{
		Object:    "event",
		ID:        newEventID(now),
		Event:     event,
		Data:      data,
		CreatedAt: formatTime(now),
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return // the types above always marshal
	}
	s.events = append(s.events, storedEvent{id: ev.ID, event: event, body: body, at: now, org: organizationOf(data)})
	if s.hooks != nil {
		s.hooks.enqueue(queuedEvent{id: ev.ID, event: event, body: body, at: now})
	}
}

func (h *webhooks) enqueue(ev queuedEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.queue = append(h.queue, ev)
	h.cond.Broadcast()
}

func (h *webhooks) run() {
	defer close(h.done)
	for {
		h.mu.Lock()
		for len(h.queue) == 0 && !h.closed {
			h.cond.Wait()
		}
		if len(h.queue) == 0 { // closed and drained
			h.mu.Unlock()
			return
		}
		ev := h.queue[0]
		h.queue = h.queue[1:]
		h.busy = true
		h.mu.Unlock()

		d := h.deliver(ev)

		h.mu.Lock()
		h.deliveries = append(h.deliveries, d)
		h.busy = false
		h.cond.Broadcast()
		h.mu.Unlock()
	}
}

func (h *webhooks) deliver(ev queuedEvent) Delivery {
	d := Delivery{EventID: ev.id, Event: ev.event, Body: ev.body, Time: ev.at,
		Signature: SignWebhook(h.secret, ev.at, ev.body)}
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(ev.body))
	if err != nil {
		d.Err = err
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("WorkOS-Signature", d.Signature)
	req.Header.Set("User-Agent", "workostest-webhooks")
	resp, err := h.client.Do(req)
	if err != nil {
		d.Err = err
		return d
	}
	resp.Body.Close()
	d.Status = resp.StatusCode
	return d
}

// flush waits until the queue is empty and no delivery is under way.
func (h *webhooks) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.queue) > 0 || h.busy {
		h.cond.Wait()
	}
}

// close attempts every queued event, then stops the delivery goroutine.
func (h *webhooks) close() {
	h.mu.Lock()
	h.closed = true
	h.cond.Broadcast()
	h.mu.Unlock()
	<-h.done
}

// FlushWebhooks waits until every webhook event queued so far has been
// attempted. Without [WithWebhook] it returns at once.
func (s *Server) FlushWebhooks() {
	if s.hooks != nil {
		s.hooks.flush()
	}
}

// Deliveries returns the webhook delivery attempts so far, in order. Each
// event is attempted once; a failed attempt is not retried.
func (s *Server) Deliveries() []Delivery {
	if s.hooks == nil {
		return nil
	}
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	out := make([]Delivery, len(s.hooks.deliveries))
	copy(out, s.hooks.deliveries)
	return out
}

package redistest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy on a loopback port in front of a server, for
// network faults a test makes on purpose: [Proxy.Cut] drops every
// connection and refuses new ones, as a partition whose hosts answer with
// resets; [Proxy.Blackhole] keeps connections open and forwards nothing
// either way, as a partition that drops packets; [Proxy.Heal] forwards
// again. It is closed when the test ends.
type Proxy struct {
	// Addr is the proxy's host:port on 127.0.0.1.
	Addr string

	ln net.Listener

	mu     sync.Mutex // guards the fields below
	target string
	state  proxyState
	conns  map[net.Conn]bool
	healed *sync.Cond // signalled when the state changes
	closed bool
}

type proxyState int

const (
	forwarding proxyState = iota
	cut
	blackholed
)

// StartProxy starts a proxy to target (host:port).
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.healed = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Retarget makes new connections go to target, as a failover that moves a
// service's address does; connections open now are dropped.
func (p *Proxy) Retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
	p.dropAll()
}

// Cut drops every connection and refuses new ones until [Proxy.Heal].
func (p *Proxy) Cut() {
	p.set(cut)
	p.dropAll()
}

// Blackhole stops forwarding in both directions, keeping connections open
// and accepting new ones that go nowhere, until [Proxy.Heal]. What was
// held back is then dropped with the connections, as TCP gives up on a
// long partition.
func (p *Proxy) Blackhole() { p.set(blackholed) }

// Heal forwards again. Connections held in a blackhole are dropped.
func (p *Proxy) Heal() {
	p.mu.Lock()
	was := p.state
	p.mu.Unlock()
	if was == blackholed {
		p.dropAll()
	}
	p.set(forwarding)
}

// Close stops the proxy and drops its connections.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.healed.Broadcast()
	p.mu.Unlock()
	p.ln.Close()
	p.dropAll()
}

func (p *Proxy) set(s proxyState) {
	p.mu.Lock()
	p.state = s
	p.healed.Broadcast()
	p.mu.Unlock()
}

func (p *Proxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		state, target := p.state, p.target
		p.mu.Unlock()
		if state == cut {
			c.Close()
			continue
		}
		if !p.track(c) {
			return
		}
		go p.serve(c, target)
	}
}

func (p *Proxy) serve(c net.Conn, target string) {
	up, err := net.DialTimeout("tcp", target, time.Second)
	if err != nil || !p.track(up) {
		c.Close()
		return
	}
	go p.pipe(up, c)
	p.pipe(c, up)
}

// pipe copies from src to dst while the proxy forwards; in a blackhole it
// holds what it read until the state changes (and drops it with the
// connection).
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.state == blackholed && !p.closed {
				p.healed.Wait()
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF or a dropped connection
		}
	}
}

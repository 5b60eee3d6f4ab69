// Package redistest runs real redis-server processes for tests, in the
// shape of net/http/httptest: [Start] starts one on a random loopback port
// and stops it when the test ends.
//
// The server comes from Debian's redis-server package. Where it is not
// installed, the test is skipped with a message that names the package;
// under CI=true it fails instead, so that a CI run never passes by skipping.
package redistest

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Server is a redis-server process of a test's own, with nothing saved to
// disk.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string
	// URL is redis://Addr.
	URL string

	t   testing.TB
	bin string
	cmd *exec.Cmd
}

// Binary returns the path of redis-server, or skips t (fails it under
// CI=true) when it is not installed.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		const msg = "redis-server not found: install Debian's redis-server package (apt-get install redis-server)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// Start starts a redis-server on a free loopback port and waits until it
// accepts connections. It is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{Addr: addr, URL: "redis://" + addr, t: t, bin: bin}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Shared returns the address of a Redis for tests that do not stop it: the
// one named by REDISSTORE_TEST_ADDR (which .ci/run starts), or else one
// started for this test.
func Shared(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv("REDISSTORE_TEST_ADDR"); addr != "" {
		return addr
	}
	return Start(t).Addr
}

// Stop kills the server, as a crash would, and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart starts the server again on the same port, empty, and waits until
// it accepts connections.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command(s.bin, "--bind", "127.0.0.1", "--port", port,
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir())
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.cmd = cmd
	// The bound only keeps a broken machine from hanging the test.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.ping()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.t.Fatalf("redis-server on %s does not answer: %v", s.Addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping sends PING over a new connection and checks for PONG.
func (s *Server) ping() error {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != "+PONG\r\n" {
		return errors.New("unexpected answer to PING")
	}
	return nil
}

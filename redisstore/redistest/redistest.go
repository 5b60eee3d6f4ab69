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
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

	t    testing.TB
	bin  string
	args []string // more command-line arguments
	conf string   // a sentinel's configuration file
	cmd  *exec.Cmd
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
// accepts connections. It is stopped when the test ends. args are added to
// its command line, such as "--replicaof", "127.0.0.1", "6379".
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	s := &Server{Addr: freeAddr(t), t: t, bin: Binary(t), args: args}
	s.URL = "redis://" + s.Addr
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartReplica starts a redis-server that replicates primary, and waits
// until it has synchronized.
func StartReplica(t testing.TB, primary *Server) *Server {
	t.Helper()
	host, port, _ := net.SplitHostPort(primary.Addr)
	r := Start(t, "--replicaof", host, port)
	r.WaitFor(func() bool { return strings.Contains(r.Info("replication"), "master_link_status:up") })
	return r
}

// StartSentinels starts n Redis Sentinels that watch primary under the
// name master, quick to act: a primary that does not answer for a second
// is failed over.
func StartSentinels(t testing.TB, primary *Server, master string, n int) []*Server {
	t.Helper()
	host, port, _ := net.SplitHostPort(primary.Addr)
	var out []*Server
	for range n {
		dir := t.TempDir()
		addr := freeAddr(t)
		_, sport, _ := net.SplitHostPort(addr)
		conf := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor %s %s %s %d\n"+
			"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 5000\nsentinel parallel-syncs %s 1\n",
			sport, dir, master, host, port, n/2+1, master, master, master)
		path := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		s := &Server{Addr: addr, URL: "redis://" + addr, t: t, bin: Binary(t), conf: path}
		s.Restart()
		t.Cleanup(s.Stop)
		out = append(out, s)
	}
	return out
}

// StartCluster starts n redis-servers in cluster mode, joins them into one
// Redis Cluster with redis-cli, and waits until it serves every slot.
func StartCluster(t testing.TB, n int) []*Server {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatal("redis-cli not found: install Debian's redis-tools package")
	}
	var nodes []*Server
	args := []string{"--cluster", "create"}
	for range n {
		s := Start(t, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000")
		nodes = append(nodes, s)
		args = append(args, s.Addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, s := range nodes {
		s.WaitFor(func() bool {
			return strings.Contains(s.Info("cluster"), "cluster_state:ok") || strings.Contains(s.Command("CLUSTER", "INFO"), "cluster_state:ok")
		})
	}
	return nodes
}

// WaitFor polls cond; the bound only keeps a broken machine from hanging
// the test.
func (s *Server) WaitFor(cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s: still not ready", s.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Info returns a section of INFO, or "" if the server does not answer.
func (s *Server) Info(section string) string { return s.Command("INFO", section) }

// Command sends one command over a new connection and returns the raw
// reply (RESP), or "" on failure.
func (s *Server) Command(args ...string) string {
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return ""
	}
	buf := make([]byte, 64<<10)
	n, _ := io.ReadAtLeast(c, buf, 1)
	return string(buf[:n])
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
	args := []string{"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", s.t.TempDir()}
	if s.conf != "" {
		args = []string{s.conf, "--sentinel"}
	}
	cmd := exec.Command(s.bin, append(args, s.args...)...)
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

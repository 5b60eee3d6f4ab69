package e2e

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// examples/basic prints these lines on its embedded emulator: where the
// emulator is, and, once it listens, where the app is.
var (
	basicEmulatorRE = regexp.MustCompile(`signing in through the WorkOS emulator at (http://\S+)$`)
	basicReadyRE    = regexp.MustCompile(`^Open (http://\S+) and sign in as one of the test users:$`)
)

// startBasic builds examples/basic, runs it on a free loopback port on its
// embedded WorkOS emulator and returns its base URL and its emulator's. The process is killed
// when the test ends; its output is logged if the test failed.
func startBasic(t *testing.T) (base, emulator string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go not found to build examples/basic: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "basic")
	buildCtx, cancelBuild := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancelBuild()
	// Built from the repository's root, as "go run ./examples/basic" builds
	// it there through go.work: this module's go.sum covers only what its
	// own tests import.
	build := exec.CommandContext(buildCtx, goTool, "build", "-o", bin, "./examples/basic")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build examples/basic: %v\n%s", err, out)
	}

	cmd := exec.Command(bin)
	// No WORKOS_* from the environment reaches the app: without an API key
	// it signs in through its embedded emulator.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WORKOS_") && !strings.HasPrefix(kv, "ADDR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ADDR=127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting examples/basic: %v", err)
	}

	// Read the output until the app says where it listens, then keep
	// draining it so that the app never blocks on a full pipe.
	baseURL := make(chan string, 1)
	var emulatorURL string // written before baseURL is sent
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			out.Write([]byte(line + "\n"))
			if m := basicEmulatorRE.FindStringSubmatch(line); m != nil {
				emulatorURL = m[1]
			}
			if m := basicReadyRE.FindStringSubmatch(line); m != nil {
				select {
				case baseURL <- m[1]:
				default:
				}
			}
		}
		io.Copy(out, stdout)
	}()
	exited := make(chan error, 1)
	go func() {
		<-drained // Wait must not close the pipe while it is read
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		select {
		case <-exited:
		case <-ctx.Done():
			t.Errorf("examples/basic (pid %d) did not exit after being killed", cmd.Process.Pid)
		}
		if t.Failed() {
			t.Logf("output of examples/basic:\n%s", out.String())
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	select {
	case u := <-baseURL:
		return u, emulatorURL
	case err := <-exited:
		t.Fatalf("examples/basic exited before it listened: %v\n%s", err, out.String())
	case <-ctx.Done():
		t.Fatalf("examples/basic did not print its URL within a minute\n%s", out.String())
	}
	return "", ""
}

// lockedBuffer is a bytes.Buffer that several goroutines may write to.
type lockedBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

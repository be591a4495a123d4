// Package proctest runs the project's binaries in end-to-end tests: built once per test
// process, started as daemons whose output is kept for failure messages, stopped with
// SIGTERM, or run as commands.
package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// modulePath is the import path of the module's binaries: cmd/<name>.
const modulePath = "github.com/larsgo/lars/cmd/"

// stopLimit bounds the wait for a daemon's exit after SIGTERM: above the 30 s
// -shutdown-limit the end-to-end tests give the daemons.
const stopLimit = 60 * time.Second

var (
	mu     sync.Mutex // guards binDir and built
	binDir string     // set by Main
	built  = map[string]bool{}
)

// Main runs the package's tests with a fresh directory for the binaries Build makes,
// removes it, and exits with the tests' code. Call it from TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "lars-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mu.Lock()
	binDir = dir
	mu.Unlock()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Build builds the module's commands names (cmd/<name>) that are not built yet, with one
// go build, failing t if it fails. Main must run the tests.
func Build(t testing.TB, names ...string) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if binDir == "" {
		t.Fatal("proctest: call proctest.Main(m) from TestMain before Build")
	}
	args := []string{"build", "-o", binDir + string(filepath.Separator)}
	var missing []string
	for _, n := range names {
		if !built[n] {
			missing = append(missing, n)
			args = append(args, modulePath+n)
		}
	}
	if len(missing) == 0 {
		return
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(missing, " "), err, out)
	}
	for _, n := range missing {
		built[n] = true
	}
}

// Bin returns the path of a binary: name itself when it holds a path separator, else
// the command Build built under that name.
func Bin(name string) string {
	if strings.ContainsRune(name, filepath.Separator) {
		return name
	}
	mu.Lock()
	defer mu.Unlock()
	return filepath.Join(binDir, name)
}

// FreePort returns a loopback port, "tcp" or "udp", that was free a moment ago.
func FreePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns "127.0.0.1:PORT" with a TCP port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t, "tcp"))
}

// Daemon is a running binary; its output is kept for failure messages.
type Daemon struct {
	name   string
	cmd    *exec.Cmd
	out    Buffer
	exited chan struct{} // closed once the process has exited
}

// Start starts the binary name (see Bin) with args. When t ends, a daemon still
// running is killed, and a failed test logs its output.
func Start(t testing.TB, name string, args ...string) *Daemon {
	t.Helper()
	d := &Daemon{name: filepath.Base(name), cmd: exec.Command(Bin(name), args...), exited: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", d.name, d.Output())
		}
	})
	return d
}

// Output returns what the daemon has written to stdout and stderr so far.
func (d *Daemon) Output() string { return d.out.String() }

// WaitListening waits until addr accepts TCP connections, failing t after within or
// when the daemon exits first.
func (d *Daemon) WaitListening(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	Eventually(t, within, d.name+" listening on "+addr, func() (bool, string) {
		select {
		case <-d.exited:
			t.Fatalf("%s exited (code %d) before listening on %s:\n%s", d.name, d.cmd.ProcessState.ExitCode(), addr, d.Output())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
}

// Stop sends SIGTERM and returns the exit code and how long the exit took; it kills the
// daemon and fails t when it has not exited within 10s.
func (d *Daemon) Stop(t testing.TB) (code int, took time.Duration) {
	t.Helper()
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(stopLimit):
		d.cmd.Process.Kill()
		<-d.exited
		t.Fatalf("%s: no exit within %v of SIGTERM", d.name, stopLimit)
	}
	return d.cmd.ProcessState.ExitCode(), time.Since(start)
}

// PID is the daemon's process id.
func (d *Daemon) PID() int { return d.cmd.Process.Pid }

// Kill kills the daemon with SIGKILL, as a crash would, and waits for it to be gone.
func (d *Daemon) Kill() {
	d.cmd.Process.Kill()
	<-d.exited
}

// Run runs the binary name (see Bin) with args and returns its exit code and combined
// output; it fails t when the binary cannot be run.
func Run(t testing.TB, name string, args ...string) (code int, output string) {
	t.Helper()
	out, err := exec.Command(Bin(name), args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatal(err)
	}
	return 0, string(out)
}

// RunUntil runs the binary name with args again and again (see Eventually) until it
// exits with code want, and returns that run's output; it fails t after within,
// showing the last output.
func RunUntil(t testing.TB, within time.Duration, want int, name string, args ...string) string {
	t.Helper()
	var out string
	Eventually(t, within, fmt.Sprintf("%s %s exiting %d", filepath.Base(name), strings.Join(args, " "), want), func() (bool, string) {
		var code int
		code, out = Run(t, name, args...)
		return code == want, fmt.Sprintf("exit %d, output:\n%s", code, out)
	})
	return out
}

// Eventually calls cond every 20ms until it returns true, failing t after within with
// what and the state cond returned last.
func Eventually(t testing.TB, within time.Duration, what string, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, within, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Buffer is a bytes.Buffer that a process or a logger writes while a test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

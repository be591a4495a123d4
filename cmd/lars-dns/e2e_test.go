package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the real binaries as a user would: lars-dns on a SQLite
// store, lars-agent pulling from it, larsctl writing routes and asking the agent.

// binDir holds the binaries built once for the package's tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lars-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build builds the binaries the end-to-end tests need, once.
func build(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(binDir, "larsctl")); err == nil {
		return
	}
	args := []string{"build", "-o", binDir + "/", "github.com/larsgo/lars/cmd/lars-dns", "github.com/larsgo/lars/cmd/lars-agent", "github.com/larsgo/lars/cmd/larsctl"}
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

// freePort returns a loopback port that was free a moment ago, TCP or UDP.
func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// daemon is a running binary; its output is kept for the failure message.
type daemon struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

func start(t *testing.T, name string, args ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(filepath.Join(binDir, name), args...)}
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, d.out.String())
		}
	})
	return d
}

// stop sends SIGTERM and returns the exit code and how long the exit took.
func (d *daemon) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
		t.Fatal("no exit within 10s of SIGTERM")
	}
	return d.cmd.ProcessState.ExitCode(), time.Since(start)
}

// larsctl runs larsctl and returns its exit code and output.
func larsctl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "larsctl"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
	}
	return 0, string(out)
}

// eventually runs larsctl until it exits with code want, failing after d.
func eventually(t *testing.T, d time.Duration, want int, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		code, out := larsctl(t, args...)
		if code == want {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("larsctl %s: exit %d, want %d within %v; output:\n%s", strings.Join(args, " "), code, want, d, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func startDNS(t *testing.T, db string) (*daemon, string) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	d := start(t, "lars-dns", "-db", db, "-listen", addr, "-poll", "100ms")
	// Ready when it accepts connections.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return d, addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("lars-dns not listening on %s within 20s:\n%s", addr, d.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEndToEndRouteAddedAndDeleted(t *testing.T) {
	build(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	dns, dnsAddr := startDNS(t, db)
	port := freePort(t, "udp")
	agent := start(t, "lars-agent", "-dns", dnsAddr, "-ports", fmt.Sprint(port))
	getHost := []string{"-ports", fmt.Sprint(port), "get-host", "1", "1"}

	eventually(t, 10*time.Second, 4, getHost...) // the agent is up; the key does not exist
	if code, out := larsctl(t, "-db", db, "route", "add", "1", "1", "10.0.0.1", "9000"); code != 0 {
		t.Fatalf("route add: exit %d: %s", code, out)
	}
	start := time.Now()
	out := eventually(t, 5*time.Second, 0, getHost...)
	if !strings.Contains(out, "10.0.0.1:9000") {
		t.Fatalf("get-host after route add: %q", out)
	}
	t.Logf("route add served by the agent after %v", time.Since(start))

	if code, out := larsctl(t, "-db", db, "route", "drop", "1", "1"); code != 0 {
		t.Fatalf("route drop: exit %d: %s", code, out)
	}
	eventually(t, 5*time.Second, 4, getHost...)

	if code, took := dns.stop(t); code != 0 || took > 2*time.Second {
		t.Fatalf("lars-dns SIGTERM: exit %d after %v, want 0 within 2s", code, took)
	}
	if code, _ := agent.stop(t); code != 0 {
		t.Fatalf("lars-agent exit %d", code)
	}
}

func TestEndToEndAgentFailsOverBetweenRouteServices(t *testing.T) {
	build(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	if code, out := larsctl(t, "-db", db, "route", "add", "2", "2", "10.0.0.2", "9000"); code != 0 {
		t.Fatalf("route add: exit %d: %s", code, out)
	}
	first, firstAddr := startDNS(t, db)
	_, secondAddr := startDNS(t, db)
	port := freePort(t, "udp")
	start(t, "lars-agent", "-dns", firstAddr+","+secondAddr, "-ports", fmt.Sprint(port))
	getHost := []string{"-ports", fmt.Sprint(port), "get-host", "2", "2"}
	eventually(t, 10*time.Second, 0, getHost...)

	if code, _ := first.stop(t); code != 0 {
		t.Fatalf("first lars-dns exit %d", code)
	}
	// A change made after the first route service is gone reaches the agent through
	// the second: the agent failed over and subscribed its keys there.
	if code, out := larsctl(t, "-db", db, "route", "set", "2", "2", "10.0.0.3:9001"); code != 0 {
		t.Fatalf("route set: exit %d: %s", code, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out := larsctl(t, getHost...)
		if code == 0 && strings.Contains(out, "10.0.0.3:9001") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change did not reach the agent through the second route service: exit %d %q", code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

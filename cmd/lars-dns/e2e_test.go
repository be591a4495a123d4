package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
)

// The end-to-end tests run the real binaries as a user would: lars-dns on a SQLite
// store, lars-agent pulling from it, larsctl writing routes and asking the agent.

func TestMain(m *testing.M) { proctest.Main(m) }

// build builds the binaries the end-to-end tests need, once.
func build(t *testing.T) {
	t.Helper()
	proctest.Build(t, "lars-dns", "lars-agent", "larsctl")
}

// larsctl runs larsctl and returns its exit code and output.
func larsctl(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return proctest.Run(t, "larsctl", args...)
}

// eventually runs larsctl until it exits with code want, failing after d.
func eventually(t *testing.T, d time.Duration, want int, args ...string) string {
	t.Helper()
	return proctest.RunUntil(t, d, want, "larsctl", args...)
}

func startDNS(t *testing.T, db string) (*proctest.Daemon, string) {
	addr := proctest.FreeAddr(t)
	d := proctest.Start(t, "lars-dns", "-db", db, "-listen", addr, "-poll", "100ms", "-shutdown-limit", stopWithin.String())
	d.WaitListening(t, addr, eventWithin)
	return d, addr
}

func TestEndToEndRouteAddedAndDeleted(t *testing.T) {
	build(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	dns, dnsAddr := startDNS(t, db)
	port := proctest.FreePort(t, "udp")
	agent := proctest.Start(t, "lars-agent", "-dns", dnsAddr, "-ports", fmt.Sprint(port), "-shutdown-limit", stopWithin.String())
	getHost := []string{"-ports", fmt.Sprint(port), "get-host", "1", "1"}

	eventually(t, eventWithin, 4, getHost...) // the agent is up; the key does not exist
	if code, out := larsctl(t, "-db", db, "route", "add", "1", "1", "10.0.0.1", "9000"); code != 0 {
		t.Fatalf("route add: exit %d: %s", code, out)
	}
	start := time.Now()
	out := eventually(t, eventWithin, 0, getHost...)
	if !strings.Contains(out, "10.0.0.1:9000") {
		t.Fatalf("get-host after route add: %q", out)
	}
	t.Logf("route add served by the agent after %v", time.Since(start))

	if code, out := larsctl(t, "-db", db, "route", "drop", "1", "1"); code != 0 {
		t.Fatalf("route drop: exit %d: %s", code, out)
	}
	eventually(t, eventWithin, 4, getHost...)

	// Exit 0: the service stopped within its shutdown limit, given as stopWithin so
	// that a stalled machine cannot reach it. How much sooner is not under test.
	if code, took := dns.Stop(t); code != 0 {
		t.Fatalf("lars-dns SIGTERM: exit %d after %v, want 0", code, took)
	}
	if code, _ := agent.Stop(t); code != 0 {
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
	port := proctest.FreePort(t, "udp")
	proctest.Start(t, "lars-agent", "-dns", firstAddr+","+secondAddr, "-ports", fmt.Sprint(port))
	getHost := []string{"-ports", fmt.Sprint(port), "get-host", "2", "2"}
	eventually(t, eventWithin, 0, getHost...)

	if code, _ := first.Stop(t); code != 0 {
		t.Fatalf("first lars-dns exit %d", code)
	}
	// A change made after the first route service is gone reaches the agent through
	// the second: the agent failed over and subscribed its keys there.
	if code, out := larsctl(t, "-db", db, "route", "set", "2", "2", "10.0.0.3:9001"); code != 0 {
		t.Fatalf("route set: exit %d: %s", code, out)
	}
	proctest.Eventually(t, eventWithin, "the change reaching the agent through the second route service", func() (bool, string) {
		code, out := larsctl(t, getHost...)
		return code == 0 && strings.Contains(out, "10.0.0.3:9001"), fmt.Sprintf("exit %d %q", code, out)
	})
}

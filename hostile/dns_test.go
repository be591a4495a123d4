package hostile

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/route"
)

// The probes of lars-dns (issue 28): a flood of subscriptions to unknown keys, silent
// connections holding every place under -max-conns, silent connections never closed.

// dnsEnvBin and dnsEnvAgentBin, if set, are the lars-dns and lars-agent binaries the
// probes run instead of the ones they build (to measure an older build: flags that
// binary does not have are left out, logged).
const (
	dnsEnvBin      = "LARS_DNS_BIN"
	dnsEnvAgentBin = "LARS_DNS_AGENT_BIN"
)

// dnsWithin bounds each wait for something that must happen (a process listening, an
// answer, a change reaching the agent, a close): generous, so that only a broken build
// reaches it, never a busy machine.
const dnsWithin = 30 * time.Second

// dnsFloodKeys is how many unknown keys the flood pulls on one connection, and
// dnsFloodGrowth the bound on lars-dns's RSS growth it causes (the figures).
const (
	dnsFloodKeys   = 300_000
	dnsFloodGrowth = 30 << 20
)

// dnsKey is the key the probes' agent serves and whose route they change.
const dnsKey = "1"

// dnsRig is a route store, a lars-dns on it, and optionally a real lars-agent pulling
// from it.
type dnsRig struct {
	t       *testing.T
	db      string
	addr    string // lars-dns's agent port
	admin   string // lars-dns's admin endpoint
	dns     *proctest.Daemon
	ports   string // the agent's UDP port
	changes int    // route changes made so far
}

// dnsBin returns the binary to run for name: the one env names, else the built one.
func dnsBin(env, name string) string {
	if b := os.Getenv(env); b != "" {
		return b
	}
	return name
}

// dnsStart builds the binaries, creates a store with key 1/1, and starts lars-dns with
// extra flags (those the binary has).
func dnsStart(t *testing.T, extra ...string) *dnsRig {
	t.Helper()
	proctest.Build(t, "lars-dns", "lars-agent", "larsctl")
	r := &dnsRig{t: t, db: "sqlite:" + filepath.Join(t.TempDir(), "lars.db"),
		addr: proctest.FreeAddr(t), admin: proctest.FreeAddr(t)}
	r.larsctl("-db", r.db, "route", "add", dnsKey, dnsKey, "10.0.0.1", "9000")
	bin := dnsBin(dnsEnvBin, "lars-dns")
	args := append([]string{"-db", r.db, "-listen", r.addr, "-admin", r.admin, "-poll", "100ms", "-log-level", "warn"},
		dnsKnownFlags(t, bin, extra)...)
	r.dns = proctest.Start(t, bin, args...)
	r.dns.WaitListening(t, r.addr, dnsWithin)
	return r
}

// dnsKnownFlags returns the flags of args (pairs "-name value", or "-name=value"
// alone) that bin has, logging those it leaves out: an older build lacks the new
// bounds, and is probed without them.
func dnsKnownFlags(t *testing.T, bin string, args []string) []string {
	t.Helper()
	_, help := proctest.Run(t, bin, "-h")
	var kept []string
	for i := 0; i < len(args); i++ {
		name, _, single := strings.Cut(args[i], "=")
		flag := args[i : i+1]
		if !single && i+1 < len(args) {
			flag = args[i : i+2]
			i++
		}
		if strings.Contains(help, "  "+name+" ") || strings.Contains(help, "  "+name+"\n") {
			kept = append(kept, flag...)
		} else {
			t.Logf("%s has no %s flag: left out", bin, name)
		}
	}
	return kept
}

// larsctl runs larsctl, failing the test unless it exits 0.
func (r *dnsRig) larsctl(args ...string) {
	r.t.Helper()
	if code, out := proctest.Run(r.t, "larsctl", args...); code != 0 {
		r.t.Fatalf("larsctl %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
}

// startAgent starts a real lars-agent on the rig's lars-dns and waits until it serves
// key 1/1 from it.
func (r *dnsRig) startAgent() {
	r.t.Helper()
	r.ports = strconv.Itoa(proctest.FreePort(r.t, "udp"))
	proctest.Start(r.t, dnsBin(dnsEnvAgentBin, "lars-agent"), "-dns", r.addr, "-ports", r.ports, "-log-level", "warn")
	r.waitAgentHost("10.0.0.1:9000")
}

// waitAgentHost waits until the agent answers get_host of key 1/1 with host and
// returns how long that took, failing the test after dnsWithin.
func (r *dnsRig) waitAgentHost(host string) time.Duration {
	r.t.Helper()
	start := time.Now()
	proctest.Eventually(r.t, dnsWithin, "the agent serving "+host+" for key 1/1", func() (bool, string) {
		code, out := proctest.Run(r.t, "larsctl", "-ports", r.ports, "get-host", dnsKey, dnsKey)
		return code == 0 && strings.Contains(out, host), fmt.Sprintf("exit %d: %s", code, strings.TrimSpace(out))
	})
	return time.Since(start)
}

// changeReachesAgent changes the route of key 1/1 in the store and waits until the
// agent serves the new host; it logs how long that took.
func (r *dnsRig) changeReachesAgent() {
	r.t.Helper()
	r.changes++
	host := fmt.Sprintf("10.0.1.%d:9000", r.changes)
	r.larsctl("-db", r.db, "route", "set", dnsKey, dnsKey, host)
	r.t.Logf("route change reached the agent after %v", r.waitAgentHost(host))
}

// metric returns lars-dns's series name (with its labels), or -1 when it has none.
func (r *dnsRig) metric(name string) float64 {
	r.t.Helper()
	series, err := proctest.Scrape(r.admin)
	if err != nil {
		r.t.Fatalf("lars-dns: %v", err)
	}
	if v, ok := series[name]; ok {
		return v
	}
	return -1
}

// rss returns lars-dns's resident set size (VmRSS).
func (r *dnsRig) rss() int64 {
	r.t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.dns.PID()))
	if err != nil {
		r.t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				r.t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	r.t.Fatal("no VmRSS in /proc/<pid>/status")
	return 0
}

// dnsConn is a client's raw connection to lars-dns.
type dnsConn struct {
	t  *testing.T
	nc net.Conn
	sr *codec.StreamReader
}

func (r *dnsRig) dial() *dnsConn {
	r.t.Helper()
	nc, err := net.Dial("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { nc.Close() })
	return &dnsConn{t: r.t, nc: nc, sr: codec.NewStreamReader(nc, 0)}
}

// pullFrame returns the GetRouteRequest frame of modid/cmdid.
func dnsPullFrame(modid, cmdid int32) []byte {
	frame, err := codec.AppendFrame(nil, codec.MsgGetRouteRequest, &larspb.GetRouteRequest{Modid: modid, Cmdid: cmdid})
	if err != nil {
		panic(err)
	}
	return frame
}

// next reads the next frame within d.
func (c *dnsConn) next(d time.Duration) (codec.MsgID, []byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(d))
	return c.sr.Next()
}

// closedWithin reports whether lars-dns closed the connection within d: a read ends
// with an error other than a timeout.
func (c *dnsConn) closedWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, _, err := c.next(time.Until(deadline)); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
	return false
}

// TestDNSUnknownKeyFlood: one connection pulls dnsFloodKeys keys that do not exist.
// lars-dns answers them all, grows by less than dnsFloodGrowth, counts the
// subscriptions it refused past -max-unknown-subs-per-conn, and a route change still
// reaches a real agent.
func TestDNSUnknownKeyFlood(t *testing.T) {
	requireHostile(t)
	r := dnsStart(t)
	r.startAgent()
	before := r.rss()

	flood := r.dial()
	answered := make(chan error, 1)
	var answers atomic.Int64
	go func() {
		for answers.Load() < dnsFloodKeys {
			if _, _, err := flood.next(dnsWithin); err != nil {
				answered <- err
				return
			}
			answers.Add(1)
		}
		answered <- nil
	}()
	start := time.Now()
	batch := make([]byte, 0, 1000*16)
	for i := range int32(dnsFloodKeys) {
		batch = append(batch, dnsPullFrame(1_000_000+i, 7)...)
		if len(batch) >= 1000*14 || i == dnsFloodKeys-1 {
			if _, err := flood.nc.Write(batch); err != nil {
				t.Fatalf("flood write after %d pulls: %v", i, err)
			}
			batch = batch[:0]
		}
	}
	if err := <-answered; err != nil {
		t.Fatalf("flood: %d of %d pulls answered: %v", answers.Load(), dnsFloodKeys, err)
	}
	took := time.Since(start)
	after := r.rss()
	growth := after - before
	t.Logf("%d pulls of unknown keys answered in %v; lars-dns RSS %.1f MB -> %.1f MB (%+.1f MB)",
		dnsFloodKeys, took, float64(before)/(1<<20), float64(after)/(1<<20), float64(growth)/(1<<20))
	if growth >= dnsFloodGrowth {
		t.Errorf("lars-dns grew by %.1f MB, want < %d MB", float64(growth)/(1<<20), dnsFloodGrowth>>20)
	}
	t.Logf("lars-dns heap in use %.1f MB, next GC at %.1f MB", r.metric("go_memstats_heap_inuse_bytes")/(1<<20),
		r.metric("go_memstats_next_gc_bytes")/(1<<20))
	refused := r.metric(`lars_dns_subscriptions_refused_total{cause="unknown_per_conn"}`)
	unknown := r.metric("lars_dns_unknown_key_subscriptions")
	t.Logf("subscriptions refused (unknown_per_conn) %.0f, unknown-key subscriptions %.0f, subscriptions %.0f",
		refused, unknown, r.metric("lars_dns_subscriptions"))
	if refused <= 0 || unknown <= 0 || refused+unknown != dnsFloodKeys {
		t.Errorf("the counters do not name the cause: refused{cause=unknown_per_conn} %.0f + unknown-key subscriptions %.0f, want %d",
			refused, unknown, dnsFloodKeys)
	}
	r.changeReachesAgent()
}

// TestDNSSilentConnectionsDoNotLockOutAgents: with -max-conns 5 held by five
// connections that never send anything, a real agent still connects and gets routes
// (a silent connection is evicted or closed for silence, counted).
func TestDNSSilentConnectionsDoNotLockOutAgents(t *testing.T) {
	requireHostile(t)
	r := dnsStart(t, "-max-conns", "5", "-idle-timeout", "8s")
	// The listening check's connection, accepted and ended, must not hold a place.
	proctest.Eventually(t, dnsWithin, "the connection of the listening check accepted and gone", func() (bool, string) {
		n, accepted := r.metric("lars_dns_connections"), r.metric("lars_dns_connections_accepted_total")
		return n == 0 && accepted >= 1, fmt.Sprintf("%.0f open, %.0f accepted", n, accepted)
	})
	for range 5 {
		r.dial()
	}
	proctest.Eventually(t, dnsWithin, "five connections open", func() (bool, string) {
		n := r.metric("lars_dns_connections")
		return n == 5, fmt.Sprintf("%.0f open, %.0f accepted, %.0f refused, %.0f closed for silence", n,
			r.metric("lars_dns_connections_accepted_total"), r.metric("lars_dns_connections_refused_total"),
			r.metric(`lars_dns_connections_closed_total{cause="idle"}`))
	})
	start := time.Now()
	r.startAgent()
	t.Logf("the agent served routes %v after five silent connections took every place", time.Since(start))
	evicted := r.metric(`lars_dns_connections_closed_total{cause="evicted"}`)
	idle := r.metric(`lars_dns_connections_closed_total{cause="idle"}`)
	t.Logf("silent connections evicted %.0f, closed for silence %.0f, refused %.0f", evicted, idle,
		r.metric("lars_dns_connections_refused_total"))
	if evicted+idle <= 0 {
		t.Errorf("no counter names the cause: evicted %.0f, idle %.0f", evicted, idle)
	}
	r.changeReachesAgent()
}

// TestDNSIdleConnectionsClosed: with -idle-timeout 2s, a connection that sends
// nothing, and one that sent a single Hello, are closed (counted); one that pulled a
// key and waits for pushes, as Lars's C++ agent does, is kept and pushed the change;
// a real agent still gets it too.
func TestDNSIdleConnectionsClosed(t *testing.T) {
	requireHostile(t)
	r := dnsStart(t, "-idle-timeout", "2s")
	r.startAgent()
	silent, hello, subscribed := r.dial(), r.dial(), r.dial()
	if _, err := hello.nc.Write(vectors.Frame("ext_hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := subscribed.nc.Write(dnsPullFrame(1, 1)); err != nil {
		t.Fatal(err)
	}
	if id, _, err := subscribed.next(dnsWithin); err != nil || id != codec.MsgGetRouteResponse {
		t.Fatalf("pull of 1/1: %v %v", id, err)
	}
	start := time.Now()
	if !silent.closedWithin(dnsWithin) {
		t.Errorf("a silent connection is still open after %v", dnsWithin)
	}
	if !hello.closedWithin(dnsWithin) {
		t.Errorf("a connection silent since its Hello is still open after %v", dnsWithin)
	}
	t.Logf("silent connections closed after %v", time.Since(start))
	if idle := r.metric(`lars_dns_connections_closed_total{cause="idle"}`); idle < 2 {
		t.Errorf("closed for silence: %.0f, want 2", idle)
	}
	r.changeReachesAgent()
	// The subscribed connection, silent all along, was kept and pushed the change.
	for {
		id, body, err := subscribed.next(dnsWithin)
		if err != nil {
			t.Fatalf("the subscribed silent connection got no push: %v", err)
		}
		var resp larspb.GetRouteResponse
		if id == codec.MsgGetRouteResponse && resp.UnmarshalVT(body) == nil && len(resp.Host) == 1 &&
			route.AddrPortFromWire(resp.Host[0].Ip, resp.Host[0].Port).String() == "10.0.1.1:9000" {
			break
		}
	}
}

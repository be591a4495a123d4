package hostile

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
)

// The probes of lars-agent (issue 28): unknown keys pulled through an agent are given
// back to lars-dns once the agent drops them; a flood of unknown keys from one source,
// lars-dns unreachable, does not refuse another source's real key; get_route from off
// loopback is no amplifier.

// agentEnvBin, if set, is the lars-agent binary the probes run instead of the one they
// build (to measure an older build: flags that binary does not have are left out,
// logged). lars-dns is always the one built.
const agentEnvBin = "LARS_AGENT_BIN"

// agentWithin bounds each wait for something that must happen (a process listening,
// an answer, keys dropped, a change reaching the agent): generous, so that only a
// broken build reaches it, never a busy machine.
const agentWithin = 30 * time.Second

// The floods: agentFloodKeys unknown keys in all, from agentFloodSources sources for the
// probe of the subscriptions (so that no per-source limit holds the keys back: that
// probe is about giving them back) and from one source for the probe of the key table.
const (
	agentFloodKeys    = 50_000
	agentFloodSources = 50
	agentFloodModid   = 100_000 // the flood's keys are modid agentFloodModid+i/1000, cmdid i%1000
)

// agentBigHosts is the size of the route the amplification probe asks for (the
// issue's: a 12-byte get_route answered with 50,012 bytes).
const agentBigHosts = 5000

// agentRig is a route store with key 1/1 (one host) and 2/2 (agentBigHosts hosts), a
// lars-dns on it (started or not), and a lars-agent pulling from it.
type agentRig struct {
	t        *testing.T
	db       string
	dnsAddr  string
	dnsAdmin string
	dns      *proctest.Daemon
	bin      string // the agent binary
	port     int    // the agent's UDP port
	admin    string // the agent's admin endpoint
	host     string // the address the agent's port is reached at
	changes  int
}

// agentNewRig builds the binaries and fills a store; nothing runs yet.
func agentNewRig(t *testing.T) *agentRig {
	t.Helper()
	proctest.Build(t, "lars-dns", "lars-agent", "larsctl")
	dir := t.TempDir()
	r := &agentRig{t: t, db: "sqlite:" + filepath.Join(dir, "lars.db"),
		dnsAddr: proctest.FreeAddr(t), dnsAdmin: proctest.FreeAddr(t), bin: "lars-agent",
		port: proctest.FreePort(t, "udp"), admin: proctest.FreeAddr(t), host: "127.0.0.1"}
	if b := os.Getenv(agentEnvBin); b != "" {
		r.bin = b
	}
	var routes strings.Builder
	routes.WriteString("1 1 10.0.0.1 9000\n")
	for i := range agentBigHosts {
		fmt.Fprintf(&routes, "2 2 10.1.%d.%d 9000\n", i/250, 1+i%250)
	}
	file := filepath.Join(dir, "routes.txt")
	if err := os.WriteFile(file, []byte(routes.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r.larsctl("-db", r.db, "route", "import", file)
	return r
}

func (r *agentRig) larsctl(args ...string) {
	r.t.Helper()
	if code, out := proctest.Run(r.t, "larsctl", args...); code != 0 {
		r.t.Fatalf("larsctl %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
}

// startDNS starts lars-dns on the rig's address, with extra flags. Its bound on one
// connection's subscriptions to keys without hosts (10,000 by default) is raised above
// the flood, so that every key of the flood is subscribed, as before that bound: the
// probe is about the agent giving them back.
func (r *agentRig) startDNS(extra ...string) {
	r.t.Helper()
	args := append([]string{"-db", r.db, "-listen", r.dnsAddr, "-admin", r.dnsAdmin,
		"-poll", "100ms", "-log-level", "warn", "-max-unknown-subs-per-conn", strconv.Itoa(2 * agentFloodKeys)}, extra...)
	r.dns = proctest.Start(r.t, "lars-dns", args...)
	r.dns.WaitListening(r.t, r.dnsAddr, agentWithin)
}

// startAgent starts the agent on the rig's lars-dns (whether it runs or not) with the
// extra flags ("-name=value" each) its binary has.
func (r *agentRig) startAgent(extra ...string) {
	r.t.Helper()
	args := []string{"-dns", r.dnsAddr, "-ports", strconv.Itoa(r.port), "-admin", r.admin, "-log-level", "warn"}
	args = append(args, agentKnownFlags(r.t, r.bin, extra)...)
	d := proctest.Start(r.t, r.bin, args...)
	d.WaitListening(r.t, r.admin, agentWithin)
}

// agentKnownFlags returns the flags of args ("-name=value" each) that bin has, logging
// those it leaves out: an older build lacks the new bounds, and is probed without them.
func agentKnownFlags(t *testing.T, bin string, args []string) []string {
	t.Helper()
	_, help := proctest.Run(t, bin, "-h")
	var kept []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if strings.Contains(help, "  "+name+" ") || strings.Contains(help, "  "+name+"\n") {
			kept = append(kept, a)
		} else {
			t.Logf("%s has no %s flag: left out", bin, name)
		}
	}
	return kept
}

// agentMetricSum returns the sum of the series at addr whose name (with labels) starts
// with prefix, or -1 if the endpoint cannot be read.
func agentMetricSum(addr, prefix string) float64 {
	series, err := proctest.Scrape(addr)
	if err != nil {
		return -1
	}
	sum := 0.0
	for name, v := range series {
		if name == prefix || strings.HasPrefix(name, prefix+"{") {
			sum += v
		}
	}
	return sum
}

// agentUDP is a client socket of the agent's port, bound to src ("" : loopback).
type agentUDP struct {
	conn *net.UDPConn
	buf  []byte
}

func (r *agentRig) dialUDP(src string) *agentUDP {
	r.t.Helper()
	var laddr *net.UDPAddr
	if src != "" {
		laddr = &net.UDPAddr{IP: net.ParseIP(src)}
	}
	c, err := net.DialUDP("udp", laddr, &net.UDPAddr{IP: net.ParseIP(r.host), Port: r.port})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { c.Close() })
	return &agentUDP{conn: c, buf: make([]byte, 70_000)}
}

// agentFrame encodes a request.
func agentFrame(id codec.MsgID, modid, cmdid int32) []byte {
	var b []byte
	var err error
	switch id {
	case codec.MsgGetHostRequest:
		b, err = codec.AppendFrame(nil, id, &larspb.GetHostRequest{Seq: 1, Modid: modid, Cmdid: cmdid})
	default:
		b, err = codec.AppendFrame(nil, id, &larspb.GetRouteRequest{Modid: modid, Cmdid: cmdid})
	}
	if err != nil {
		panic(err)
	}
	return b
}

// ask sends req and returns the answer, or nil if none came within wait.
func (u *agentUDP) ask(req []byte, wait time.Duration) []byte {
	if _, err := u.conn.Write(req); err != nil {
		return nil
	}
	u.conn.SetReadDeadline(time.Now().Add(wait))
	n, err := u.conn.Read(u.buf)
	if err != nil {
		return nil
	}
	return u.buf[:n]
}

// getHost asks the agent for a host of the key; it returns "" when the answer holds
// none (or none came).
func (u *agentUDP) getHost(modid, cmdid int32) string {
	ans := u.ask(agentFrame(codec.MsgGetHostRequest, modid, cmdid), time.Second)
	_, body, r := codec.ParseDatagram(ans)
	var m larspb.GetHostResponse
	if r != codec.ReasonOK || m.UnmarshalVT(body) != nil || m.Retcode != int32(codec.RetSucc) || m.Host == nil {
		return ""
	}
	return route.AddrPortFromWire(m.Host.Ip, m.Host.Port).String()
}

// flood sends n requests of id for distinct unknown keys, from key first on, in
// windows of 256 with their answers read (a lost datagram costs a short wait), and
// returns how many were answered.
func (u *agentUDP) flood(id codec.MsgID, first, n int) int {
	const window = 256
	answered := 0
	for done := 0; done < n; {
		w := min(window, n-done)
		for i := range w {
			k := first + done + i
			if _, err := u.conn.Write(agentFrame(id, int32(agentFloodModid+k/1000), int32(k%1000))); err != nil {
				return answered
			}
		}
		done += w
		u.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		for range w {
			if _, err := u.conn.Read(u.buf); err != nil {
				break
			}
			answered++
		}
	}
	return answered
}

// waitHost waits until src's get_host of key 1/1 answers host, and returns how long
// that took.
func (r *agentRig) waitHost(u *agentUDP, host string) time.Duration {
	r.t.Helper()
	start := time.Now()
	proctest.Eventually(r.t, agentWithin, "the agent serving "+host+" for key 1/1", func() (bool, string) {
		got := u.getHost(1, 1)
		return got == host, "get_host 1/1: " + got
	})
	return time.Since(start)
}

// agentHasKey reports whether the agent's /routes lists the key.
func (r *agentRig) agentHasKey(modid, cmdid int32) (bool, error) {
	resp, err := http.Get("http://" + r.admin + "/routes")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var routes []struct{ Modid, Cmdid int32 }
	if err := json.NewDecoder(resp.Body).Decode(&routes); err != nil {
		return false, err
	}
	for _, k := range routes {
		if k.Modid == modid && k.Cmdid == cmdid {
			return true, nil
		}
	}
	return false, nil
}

// changeReachesAgent changes the route of key 1/1 and waits until the agent serves
// the new host to u.
func (r *agentRig) changeReachesAgent(u *agentUDP) {
	r.t.Helper()
	r.changes++
	host := fmt.Sprintf("10.0.1.%d:9000", r.changes)
	r.larsctl("-db", r.db, "route", "set", "1", "1", host)
	r.t.Logf("route change reached the agent after %v", r.waitHost(u, host))
}

// TestAgentGivesBackDroppedKeys: 50,000 get_route for unknown keys through a real
// agent subscribe them at a real lars-dns; once the agent has dropped them (answered
// empty, kept the negative TTL of 1 s, then removed), lars_dns_subscriptions comes back
// to its baseline, because the agent unsubscribes them (before: it stayed 50,000 higher
// until the connection closed). lars-dns keeps serving the agent.
func TestAgentGivesBackDroppedKeys(t *testing.T) {
	requireHostile(t)
	r := agentNewRig(t)
	r.startDNS()
	r.startAgent()
	real := r.dialUDP("")
	r.waitHost(real, "10.0.0.1:9000")
	base := agentMetricSum(r.dnsAdmin, "lars_dns_subscriptions")
	pulls := agentMetricSum(r.dnsAdmin, "lars_dns_pulls_total")

	answered := 0
	for s := range agentFloodSources {
		per := agentFloodKeys / agentFloodSources
		answered += r.dialUDP("").flood(codec.MsgAPIGetRouteRequest, s*per, per)
	}
	t.Logf("flood: %d get_route for unknown keys from %d sources, %d answered", agentFloodKeys, agentFloodSources, answered)
	proctest.Eventually(t, agentWithin, "the flood's keys pulled at lars-dns", func() (bool, string) {
		n := agentMetricSum(r.dnsAdmin, "lars_dns_pulls_total") - pulls
		return n >= 0.9*agentFloodKeys, fmt.Sprintf("%.0f pulls", n)
	})
	peak := agentMetricSum(r.dnsAdmin, "lars_dns_subscriptions")
	proctest.Eventually(t, agentWithin, "the agent dropping the flood's keys", func() (bool, string) {
		n := agentMetricSum(r.admin, "lars_agent_keys")
		return n >= 0 && n <= 10, fmt.Sprintf("%.0f keys in the agent", n)
	})
	var subs float64
	proctest.Eventually(t, agentWithin, "lars_dns_subscriptions back near its baseline", func() (bool, string) {
		subs = agentMetricSum(r.dnsAdmin, "lars_dns_subscriptions")
		return subs >= 0 && subs <= base+500, fmt.Sprintf("baseline %.0f, peak seen %.0f, now %.0f", base, peak, subs)
	})
	freed := agentMetricSum(r.dnsAdmin, `lars_dns_unsubscribed_keys_total{result="freed"}`)
	given := agentMetricSum(r.admin, "lars_agent_route_service_unsubscribed_keys_total")
	t.Logf("lars_dns_subscriptions: baseline %.0f, peak seen %.0f, after the drops %.0f; agent gave back %.0f keys, lars-dns freed %.0f",
		base, peak, subs, given, freed)
	if freed < 0.9*agentFloodKeys || given < 0.9*agentFloodKeys {
		t.Fatalf("the counters naming the cause: lars-dns freed %.0f subscriptions, the agent gave back %.0f keys; want about %d",
			freed, given, agentFloodKeys)
	}
	r.changeReachesAgent(real)
}

// TestAgentUnknownKeyFloodSparesRealKeys: lars-dns unreachable, one source floods the
// agent with 50,000 get_host for unknown keys; another source's real key is still
// created (pulled once lars-dns is back) and served. Before, the flood filled the key
// table (-max-keys, 20,000 here) and the real key was refused until the flood's keys
// were answered.
func TestAgentUnknownKeyFloodSparesRealKeys(t *testing.T) {
	requireHostile(t)
	r := agentNewRig(t)
	// lars-dns not started: unreachable. A key never answered is dropped after 10 s
	// (instead of 30), so that even a flood slowed down by a busy machine past the
	// bound of keys without a route leaves room within the wait below.
	r.startAgent("-max-keys=20000", "-no-answer-ttl=10s")
	flood := r.dialUDP("")
	answered := flood.flood(codec.MsgGetHostRequest, 0, agentFloodKeys)
	keys := agentMetricSum(r.admin, "lars_agent_keys")
	t.Logf("flood: %d get_host for unknown keys from one source, %d answered; the agent holds %.0f keys", agentFloodKeys, answered, keys)

	real := r.dialUDP("")
	var has bool
	proctest.Eventually(t, agentWithin, "the real key 1/1 created in the agent", func() (bool, string) {
		real.getHost(1, 1) // a real client asks again and again
		var err error
		has, err = r.agentHasKey(1, 1)
		return has, fmt.Sprintf("in /routes: %v (%v); %.0f keys, refused %.0f", has, err,
			agentMetricSum(r.admin, "lars_agent_keys"), agentMetricSum(r.admin, "lars_agent_unknown_keys_refused_total"))
	})
	limited := agentMetricSum(r.admin, `lars_agent_unknown_keys_refused_total{cause="rate_limited"}`)
	t.Logf("the agent holds %.0f keys (%.0f without a route), %.0f of the flood's refused as rate limited",
		agentMetricSum(r.admin, "lars_agent_keys"), agentMetricSum(r.admin, "lars_agent_no_route_keys"), limited)
	if keys > 10_000 || limited < agentFloodKeys/2 {
		t.Fatalf("one source made the agent hold %.0f keys (%.0f rate limited); want at most 10,000 (half of -max-keys), most of the flood limited", keys, limited)
	}
	r.startDNS()
	t.Logf("lars-dns started: the real key served after %v", r.waitHost(real, "10.0.0.1:9000"))
	r.changeReachesAgent(real)
}

// agentOffLoopback returns an IPv4 address of this machine off loopback that a socket
// can bind, or skips the test: 127.0.0.2 is loopback too.
func agentOffLoopback(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("no interface addresses: %v", err)
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil || !p.Addr().Is4() || p.Addr().IsLoopback() {
			continue
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: p.Addr().AsSlice()})
		if err == nil {
			c.Close()
			return p.Addr().String()
		}
	}
	t.Skip("no IPv4 address off loopback to bind: the decision on the source address is unit-tested in package agent (TestRemoteGetRoute)")
	return ""
}

// TestAgentNoAmplificationOffLoopback: an agent listening off loopback answers a
// 12-byte get_route from a source off loopback for a key of 5,000 hosts with nothing
// (dropped, counted), and with -allow-remote-get-route with at most 3 times the
// request; a loopback source still gets the whole route. Before: 50,012 bytes (4,168x)
// toward whatever source address the request carried.
func TestAgentNoAmplificationOffLoopback(t *testing.T) {
	requireHostile(t)
	ip := agentOffLoopback(t)
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow-remote-get-route=%v", allow), func(t *testing.T) {
			r := agentNewRig(t)
			r.startDNS()
			r.startAgent("-listen=0.0.0.0", fmt.Sprintf("-allow-remote-get-route=%v", allow))
			req := agentFrame(codec.MsgAPIGetRouteRequest, 2, 2)
			local := r.dialUDP("")
			var whole int
			proctest.Eventually(t, agentWithin, "the agent serving the 5,000-host route to loopback", func() (bool, string) {
				ans := local.ask(req, time.Second)
				whole = len(ans)
				return whole > 50_000, fmt.Sprintf("%d-byte answer", whole)
			})
			r.host = ip
			remote := r.dialUDP(ip)
			var got []byte
			for range 5 { // a lost datagram must not pass for a refusal: several tries
				if got = remote.ask(req, 500*time.Millisecond); got != nil {
					break
				}
			}
			t.Logf("%d-byte get_route from %s: answer %d bytes (%.0fx); to loopback %d bytes (%.0fx)", len(req), ip,
				len(got), float64(len(got))/float64(len(req)), whole, float64(whole)/float64(len(req)))
			if len(got) > 3*len(req) {
				t.Fatalf("a get_route from %s off loopback answered with %d bytes for a %d-byte request", ip, len(got), len(req))
			}
			cause := "remote_get_route"
			if allow {
				cause = "remote_route_capped"
			}
			if n := agentMetricSum(r.admin, `lars_agent_drops_total{reason="`+cause+`"}`); n < 1 {
				t.Fatalf("drops_total{reason=%q} = %.0f, want the request counted", cause, n)
			}
			if len(local.ask(req, time.Second)) != whole {
				t.Fatal("the loopback source no longer gets the whole route")
			}
		})
	}
}

// TestAgentKeepaliveHoldsIdleConnection: lars-dns closes a connection that sends no
// valid frame for -idle-timeout unless it holds a subscription; an agent that holds no
// key keeps its connection with keepalive Hellos at a third of the idle timeout its
// HelloReply gave. Before: the agent sent nothing, and was closed and reconnected once
// an idle timeout.
func TestAgentKeepaliveHoldsIdleConnection(t *testing.T) {
	requireHostile(t)
	r := agentNewRig(t)
	r.startDNS("-idle-timeout", "600ms")
	r.startAgent()
	idle := `lars_dns_connections_closed_total{cause="idle"}`
	proctest.Eventually(t, agentWithin, "ten keepalives, or an idle close", func() (bool, string) {
		hellos := agentMetricSum(r.admin, "lars_agent_route_service_hellos_sent_total")
		closed := agentMetricSum(r.dnsAdmin, idle)
		return hellos >= 10 || closed >= 1, fmt.Sprintf("%.0f Hellos sent, %.0f idle closes", hellos, closed)
	})
	closed, connects := agentMetricSum(r.dnsAdmin, idle), agentMetricSum(r.admin, "lars_agent_route_service_connects_total")
	t.Logf("idle timeout 600 ms: %.0f Hellos sent, %.0f idle closes, %.0f connections",
		agentMetricSum(r.admin, "lars_agent_route_service_hellos_sent_total"), closed, connects)
	if closed != 0 || connects != 1 {
		t.Fatalf("lars-dns closed the idle agent %.0f times (%.0f connections); want the keepalives to hold one", closed, connects)
	}
	if peer := agentMetricSum(r.admin, `lars_agent_route_service_peer{kind="ours"}`); peer != 1 {
		t.Fatalf("the agent does not see lars-dns as a peer that answers the Hello (%.0f)", peer)
	}
	real := r.dialUDP("")
	r.waitHost(real, "10.0.0.1:9000")
	r.changeReachesAgent(real)
}

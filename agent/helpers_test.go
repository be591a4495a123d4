package agent_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// patience bounds every wait for something a working agent does: a datagram answered,
// a route pulled, a counter moved. It is never reached on a working build, however
// busy the machine; a test that reaches it has found a defect.
const patience = 30 * time.Second

// quietLogger drops every log line.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ip(s string) int32 {
	v, err := route.ParseWireIP(s)
	if err != nil {
		panic(err)
	}
	return v
}

// wireIP returns the wire form of h's IPv4 address (0 for any other).
func wireIP(h route.Host) int32 {
	ip, _, _ := h.Wire()
	return ip
}

// hostInfoOf returns the HostInfo a Lars client sends for the IPv4 host at a.
func hostInfoOf(a netip.AddrPort) *pb.HostInfo {
	ip, _ := route.WireIP(a.Addr())
	return &pb.HostInfo{Ip: ip, Port: int32(a.Port())}
}

// goldenRoutes are the routes the vectors speak of: key (1,1) with three hosts.
func goldenRoutes() map[route.Key][]route.Host {
	return map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {
		route.FromWire(ip("127.0.0.1"), 7000), route.FromWire(ip("127.0.0.2"), 7001), route.FromWire(ip("127.0.0.3"), 7002),
	}}
}

// startAgent starts an agent on three ephemeral ports of 127.0.0.1 and stops it when
// the test ends, allowing the shutdown patience rather than Close's 2 s (a busy
// machine may stall the last cache write or flush for longer).
func startAgent(t testing.TB, cfg agent.Config) *agent.Agent {
	t.Helper()
	if cfg.Ports == nil {
		cfg.Ports = []int{0, 0, 0}
	}
	if cfg.SocketsPerPort == 0 {
		cfg.SocketsPerPort = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return a
}

// client is a UDP socket connected to one agent port.
type client struct {
	t    testing.TB
	conn *net.UDPConn
	buf  []byte
}

func dial(t testing.TB, addr netip.AddrPort) *client {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c, buf: make([]byte, 70000)}
}

func (c *client) send(frame []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(frame); err != nil {
		c.t.Fatal(err)
	}
}

// recv waits up to d for one datagram; ok is false on timeout. A datagram that must
// come is waited for with patience.
func (c *client) recv(d time.Duration) (frame []byte, ok bool) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(d))
	n, err := c.conn.Read(c.buf)
	if err != nil {
		return nil, false
	}
	return c.buf[:n], true
}

// roundTrip sends a frame and returns the decoded answer's id and body.
func (c *client) roundTrip(frame []byte) (codec.MsgID, []byte) {
	c.t.Helper()
	c.send(frame)
	ans, ok := c.recv(patience)
	if !ok {
		c.t.Fatalf("no answer to %x", frame)
	}
	id, body, r := codec.ParseDatagram(ans)
	if r != codec.ReasonOK {
		c.t.Fatalf("malformed answer %x: %v", ans, r)
	}
	return id, body
}

func frameOf(t testing.TB, id codec.MsgID, m codec.Marshaler) []byte {
	t.Helper()
	f, err := codec.AppendFrame(nil, id, m)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (c *client) getHost(seq uint32, modid, cmdid int32) *pb.GetHostResponse {
	c.t.Helper()
	id, body := c.roundTrip(frameOf(c.t, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: seq, Modid: modid, Cmdid: cmdid}))
	if id != codec.MsgGetHostResponse {
		c.t.Fatalf("answer msgid %d, want 5", id)
	}
	var m pb.GetHostResponse
	if err := m.UnmarshalVT(body); err != nil {
		c.t.Fatal(err)
	}
	if m.Seq != seq || m.Modid != modid || m.Cmdid != cmdid {
		c.t.Fatalf("answer %v does not echo seq %d key (%d,%d)", &m, seq, modid, cmdid)
	}
	return &m
}

func (c *client) getRoute(modid, cmdid int32) []route.Host {
	c.t.Helper()
	id, body := c.roundTrip(frameOf(c.t, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: modid, Cmdid: cmdid}))
	if id != codec.MsgAPIGetRouteResponse {
		c.t.Fatalf("answer msgid %d, want 8", id)
	}
	var m pb.GetRouteResponse
	if err := m.UnmarshalVT(body); err != nil {
		c.t.Fatal(err)
	}
	if m.Modid != modid || m.Cmdid != cmdid {
		c.t.Fatalf("route answer for (%d,%d), want (%d,%d)", m.Modid, m.Cmdid, modid, cmdid)
	}
	var hosts []route.Host
	for _, h := range m.Host {
		hosts = append(hosts, route.FromWire(h.Ip, h.Port))
	}
	return hosts
}

func (c *client) report(modid, cmdid int32, h route.Host, retcode int32) {
	c.t.Helper()
	c.send(frameOf(c.t, codec.MsgReportRequest, &pb.ReportRequest{Modid: modid, Cmdid: cmdid,
		Host: hostInfoOf(h.Addr), Retcode: retcode}))
}

// eventually polls cond every few milliseconds until it holds or d passes; callers pass
// patience.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

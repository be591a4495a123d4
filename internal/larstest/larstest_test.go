package larstest

import (
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// wait bounds each wait of these tests for something that must happen (an answer, a
// connection, a goroutine's end): generous, so that only a broken fake reaches it, never
// a busy machine.
const wait = 30 * time.Second

var (
	h1 = route.FromWire(10<<24|1, 8001)
	h2 = route.FromWire(-1<<31, 8002) // 128.0.0.0: negative on the wire
)

// client is a raw protocol client of a fake.
type client struct {
	t    *testing.T
	conn net.Conn
	sr   *codec.StreamReader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, sr: codec.NewStreamReader(conn, 0)}
}

func (c *client) send(id codec.MsgID, m codec.Marshaler) {
	c.t.Helper()
	b, err := codec.AppendFrame(nil, id, m)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) ask(modid, cmdid int32) {
	c.t.Helper()
	c.send(codec.MsgGetRouteRequest, &larspb.GetRouteRequest{Modid: modid, Cmdid: cmdid})
}

// answer reads the next GetRouteResponse.
func (c *client) answer() (route.Key, []route.Host) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(wait))
	id, body, err := c.sr.Next()
	if err != nil {
		c.t.Fatal(err)
	}
	if id != codec.MsgGetRouteResponse {
		c.t.Fatalf("msgid %d, want 2", id)
	}
	var resp larspb.GetRouteResponse
	if err := resp.UnmarshalVT(body); err != nil {
		c.t.Fatal(err)
	}
	var hosts []route.Host
	for _, h := range resp.Host {
		rh := route.FromWire(h.Ip, h.Port)
		if len(h.Ip6) == 16 {
			rh.Addr = netip.AddrPortFrom(netip.AddrFrom16([16]byte(h.Ip6)), uint16(h.Port))
		}
		rh.Weight, rh.Zone = h.Weight, h.Zone
		hosts = append(hosts, rh)
	}
	return route.Key{Modid: resp.Modid, Cmdid: resp.Cmdid}, hosts
}

func (c *client) wantAnswer(k route.Key, hosts ...route.Host) {
	c.t.Helper()
	gk, gh := c.answer()
	if gk != k || !slices.Equal(gh, hosts) {
		c.t.Fatalf("answer %v %v, want %v %v", gk, gh, k, hosts)
	}
}

func TestRouteServiceAnswersAndPushes(t *testing.T) {
	CheckGoroutines(t, wait)
	s := NewRouteService(t)
	s.SetRoute(1, 2, h1, h2)
	c := dial(t, s.Addr())
	c.ask(1, 2)
	c.wantAnswer(route.Key{Modid: 1, Cmdid: 2}, h1, h2)
	c.ask(7, 7)
	c.wantAnswer(route.Key{Modid: 7, Cmdid: 7}) // unknown: empty

	s.SetRoute(1, 2, h2)
	c.wantAnswer(route.Key{Modid: 1, Cmdid: 2}, h2)
	s.SetRoute(9, 9, h1) // never asked: not pushed
	s.RemoveRoute(1, 2)
	c.wantAnswer(route.Key{Modid: 1, Cmdid: 2})
	if n := s.Push(7, 7); n != 1 {
		t.Fatalf("Push reached %d connections, want 1", n)
	}
	c.wantAnswer(route.Key{Modid: 7, Cmdid: 7})

	s.SetSilent(true)
	c.ask(3, 4)
	if err := s.WaitRequestCount(3, 4, 1, wait); err != nil {
		t.Fatal(err)
	}
	s.SetSilent(false)
	c.ask(9, 9)
	c.wantAnswer(route.Key{Modid: 9, Cmdid: 9}, h1) // the silent request got nothing
	want := []route.Key{{Modid: 1, Cmdid: 2}, {Modid: 7, Cmdid: 7}, {Modid: 3, Cmdid: 4}, {Modid: 9, Cmdid: 9}}
	if got, err := s.WaitRequests(4, wait); err != nil || !slices.Equal(got, want) {
		t.Fatalf("requests %v (%v), want %v", got, err, want)
	}

	c.send(codec.MsgReportStatusRequest, &larspb.ReportStatusRequest{}) // wrong msgid
	if err := s.Wait(wait, func() bool { return s.BadFrames() == 1 }); err != nil {
		t.Fatal(err)
	}
	if s.Accepted() != 1 || s.Active() != 1 {
		t.Fatalf("accepted %d active %d, want 1 1", s.Accepted(), s.Active())
	}
}

// TestRouteServiceExtHosts: IPv6 hosts, weights and zones go out in the extension's
// fields; a plain IPv4 host is Lars's HostInfo.
func TestRouteServiceExtHosts(t *testing.T) {
	s := NewRouteService(t)
	v6 := route.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:7001"), Weight: 100}
	w := h1
	w.Weight, w.Zone = 200, "sh-a"
	s.SetRoute(1, 1, w, v6, h2)
	c := dial(t, s.Addr())
	c.ask(1, 1)
	c.wantAnswer(route.Key{Modid: 1, Cmdid: 1}, w, v6, h2)
	if hi := HostInfo(h2); hi.Ip6 != nil || hi.Weight != 0 || hi.Zone != "" {
		t.Fatalf("plain IPv4 host as %v", hi)
	}
	if hi := HostInfo(v6); hi.Ip != 0 || len(hi.Ip6) != 16 {
		t.Fatalf("IPv6 host as %v", hi)
	}
}

func TestRouteServiceRestart(t *testing.T) {
	CheckGoroutines(t, wait)
	s := NewRouteService(t)
	s.SetRoute(1, 2, h1)
	addr := s.Addr()
	c := dial(t, addr)
	c.ask(1, 2)
	c.wantAnswer(route.Key{Modid: 1, Cmdid: 2}, h1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.conn.SetReadDeadline(time.Now().Add(wait))
	if _, _, err := c.sr.Next(); err == nil {
		t.Fatal("connection still open after Close")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", s.Addr(), addr)
	}
	c = dial(t, addr)
	c.ask(1, 2)
	c.wantAnswer(route.Key{Modid: 1, Cmdid: 2}, h1) // routes survive a restart
	if err := s.WaitAccepted(2, wait); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err == nil {
		t.Fatal("Restart of a running fake succeeded")
	}
	s.CloseConns()
	if err := s.WaitActive(0, wait); err != nil {
		t.Fatal(err)
	}
}

func TestRouteServiceSubscriptionsFollowConnections(t *testing.T) {
	CheckGoroutines(t, wait)
	s := NewRouteService(t)
	a, b := dial(t, s.Addr()), dial(t, s.Addr())
	a.ask(1, 2)
	a.wantAnswer(route.Key{Modid: 1, Cmdid: 2})
	a.ask(3, 4)
	a.wantAnswer(route.Key{Modid: 3, Cmdid: 4})
	b.ask(1, 2)
	b.wantAnswer(route.Key{Modid: 1, Cmdid: 2})
	if err := s.WaitSubscriptions(3, wait); err != nil {
		t.Fatal(err)
	}
	if n, m, total := s.Subscribed(1, 2), s.Subscribed(3, 4), s.RequestTotal(); n != 2 || m != 1 || total != 3 {
		t.Fatalf("subscribed (1,2) %d (3,4) %d, %d requests; want 2 1 3", n, m, total)
	}
	// A connection's subscriptions end with it; the requests stay counted.
	s.CloseConns()
	if err := s.WaitActive(0, wait); err != nil {
		t.Fatal(err)
	}
	if n, total := s.Subscriptions(), s.RequestTotal(); n != 0 || total != 3 || s.Subscribed(1, 2) != 0 {
		t.Fatalf("%d subscriptions, %d requests after the connections closed; want 0 3", n, total)
	}
}

func TestRouteServiceProtocolErrorClosesConn(t *testing.T) {
	CheckGoroutines(t, wait)
	s := NewRouteService(t)
	c := dial(t, s.Addr())
	if err := s.WaitActive(1, wait); err != nil {
		t.Fatal(err)
	}
	c.conn.Write([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}) // msglen -1
	if err := s.WaitActive(0, wait); err != nil {
		t.Fatal(err)
	}
}

func TestReportServiceRecords(t *testing.T) {
	CheckGoroutines(t, wait)
	s := NewReportService(t)
	c := dial(t, s.Addr())
	msg := &larspb.ReportStatusRequest{Modid: 1, Cmdid: 2, Caller: 3, Ts: 4,
		Results: []*larspb.HostCallResult{{Ip: -1 << 31, Port: 8002, Succ: 5, Err: 6, Overload: true}}}
	before := time.Now()
	c.send(codec.MsgReportStatusRequest, msg)
	c.send(codec.MsgGetRouteRequest, &larspb.GetRouteRequest{}) // wrong msgid
	c.send(codec.MsgReportStatusRequest, msg)
	got, err := s.WaitReports(2, wait)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if !r.Msg.EqualVT(msg) || r.At.Before(before) {
			t.Fatalf("report %v at %v, want %v after %v", r.Msg, r.At, msg, before)
		}
	}
	if s.BadFrames() != 1 {
		t.Fatalf("bad frames %d, want 1", s.BadFrames())
	}
	s.Close()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	dial(t, s.Addr())
	if err := s.WaitAccepted(2, wait); err != nil {
		t.Fatal(err)
	}
}

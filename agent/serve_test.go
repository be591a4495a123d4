package agent_test

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

func hostSet(hs []route.Host) []route.Host {
	out := slices.Clone(hs)
	slices.SortFunc(out, route.Compare)
	return out
}

// TestGoldenGetHost sends the golden get_host frame and checks the golden answer's
// shape: seq, modid and cmdid echoed, retcode 0, a host of the route.
func TestGoldenGetHost(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes()})
	for _, addr := range a.Addrs() { // every port answers every key
		c := dial(t, addr)
		id, body := c.roundTrip(vectors.Frame("get_host_request"))
		if id != codec.MsgGetHostResponse {
			t.Fatalf("msgid %d", id)
		}
		var m pb.GetHostResponse
		if err := m.UnmarshalVT(body); err != nil {
			t.Fatal(err)
		}
		if m.Seq != 1 || m.Modid != 1 || m.Cmdid != 1 || m.Retcode != 0 || m.Host == nil {
			t.Fatalf("answer %v", &m)
		}
		if !slices.Contains(goldenRoutes()[route.Key{Modid: 1, Cmdid: 1}], route.FromWire(m.Host.Ip, m.Host.Port)) {
			t.Fatalf("host %v not in the route", m.Host)
		}
	}
}

// TestGoldenAnswerBytes checks the agent's answer byte for byte against the golden
// get_host_response_succ frame, on a key with one host.
func TestGoldenAnswerBytes(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: {route.FromWire(ip("127.0.0.1"), 7000)}}})
	c := dial(t, a.Addrs()[0])
	c.send(vectors.Frame("get_host_request"))
	got, ok := c.recv(patience)
	if !ok {
		t.Fatal("no answer")
	}
	if want := vectors.Frame("get_host_response_succ"); !bytes.Equal(got, want) {
		t.Fatalf("answer %x, want %x", got, want)
	}
	// And the golden empty route answer for a key without hosts.
	c.send(frameOf(t, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: 5, Cmdid: 5}))
	got, ok = c.recv(patience)
	if want := vectors.Frame("api_get_route_response_empty"); !ok || !bytes.Equal(got, want) {
		t.Fatalf("answer %x, want %x", got, want)
	}
}

func TestGoldenGetRoute(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes()})
	c := dial(t, a.Addrs()[1])
	id, body := c.roundTrip(vectors.Frame("api_get_route_request"))
	if id != codec.MsgAPIGetRouteResponse {
		t.Fatalf("msgid %d", id)
	}
	var got, want pb.GetRouteResponse
	if err := got.UnmarshalVT(body); err != nil {
		t.Fatal(err)
	}
	_, wbody, _ := codec.ParseDatagram(vectors.Frame("api_get_route_response"))
	if err := want.UnmarshalVT(wbody); err != nil {
		t.Fatal(err)
	}
	toHosts := func(m *pb.GetRouteResponse) []route.Host {
		var hs []route.Host
		for _, h := range m.Host {
			hs = append(hs, route.FromWire(h.Ip, h.Port))
		}
		return hostSet(hs)
	}
	if got.Modid != 1 || got.Cmdid != 1 || !slices.Equal(toHosts(&got), toHosts(&want)) {
		t.Fatalf("route %v, want %v in any order", &got, &want)
	}
}

func TestGetHostRoundRobinOverPorts(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes()})
	seen := map[route.Host]int{}
	for i := range 30 {
		c := dial(t, a.Addrs()[i%3])
		m := c.getHost(uint32(i), 1, 1)
		seen[route.FromWire(m.Host.Ip, m.Host.Port)]++
	}
	for _, h := range goldenRoutes()[route.Key{Modid: 1, Cmdid: 1}] {
		if seen[h] != 10 {
			t.Fatalf("host %v chosen %d times of 30, want 10: %v", h, seen[h], seen)
		}
	}
}

func TestUnknownKeyStaticIsNoExist(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes()})
	c := dial(t, a.Addrs()[0])
	if m := c.getHost(3, 9, 9); m.Retcode != int32(codec.RetNoExist) || m.Host != nil {
		t.Fatalf("answer %v, want RET_NOEXIST", m)
	}
	if hs := c.getRoute(9, 9); len(hs) != 0 {
		t.Fatalf("route %v, want empty", hs)
	}
}

// TestOverloadAndProbe: a key's only host fails 15 times in a row and is overloaded;
// then every call is RET_OVERLOAD except every 11th, a probe that returns the host.
// The table's clock stands still, so no idle window or overload timeout can end while
// a slow machine works through the calls.
func TestOverloadAndProbe(t *testing.T) {
	h := route.FromWire(ip("10.0.0.1"), 80)
	a := startAgent(t, agent.Config{Routes: map[route.Key][]route.Host{{Modid: 2, Cmdid: 3}: {h}},
		Table: lb.Config{Clock: fakeclock.New().Now}})
	c := dial(t, a.Addrs()[0])
	for range 15 {
		c.report(2, 3, h, 1)
	}
	eventually(t, patience, "host overloaded", func() bool { return a.Table().Stats().HostsOverloaded == 1 })
	var codes []int32
	for i := range 22 {
		m := c.getHost(uint32(i), 2, 3)
		codes = append(codes, m.Retcode)
		if m.Retcode == 0 && (m.Host == nil || m.Host.Ip != wireIP(h)) {
			t.Fatalf("probe answer %v", m)
		}
	}
	for i, rc := range codes {
		want := int32(codec.RetOverload)
		if i == 10 || i == 21 {
			want = 0
		}
		if rc != want {
			t.Fatalf("call %d: retcode %d, want %d (all: %v)", i+1, rc, want, codes)
		}
	}
	if got := a.Counters().Answers[codec.RetOverload]; got != 20 {
		t.Fatalf("overload answers counted %d, want 20", got)
	}
}

func TestReportUnknownHostIgnored(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes()})
	c := dial(t, a.Addrs()[0])
	c.report(1, 1, route.FromWire(ip("10.9.9.9"), 1), 1)
	c.report(7, 7, route.FromWire(ip("127.0.0.1"), 7000), 1)
	eventually(t, patience, "reports counted as ignored", func() bool { return a.Table().Stats().ReportsIgnored == 2 })
	if m := c.getHost(1, 1, 1); m.Retcode != 0 {
		t.Fatalf("answer %v", m)
	}
}

func TestRouteTooLargeAnsweredEmpty(t *testing.T) {
	hosts := make([]route.Host, 6000)
	for i := range hosts {
		hosts[i] = route.FromWire(-int32(i)-1, 65000)
	}
	a := startAgent(t, agent.Config{Routes: map[route.Key][]route.Host{{Modid: 4, Cmdid: 4}: hosts, {Modid: 5, Cmdid: 5}: hosts[:3000]}})
	c := dial(t, a.Addrs()[0])
	if hs := c.getRoute(4, 4); len(hs) != 0 {
		t.Fatalf("%d hosts in a too-large answer", len(hs))
	}
	if got := a.Counters().Drop(agent.DropRouteTooLarge); got != 1 {
		t.Fatalf("route_too_large = %d", got)
	}
	// A large route that fits one datagram goes out whole, from a pooled buffer.
	if hs := c.getRoute(5, 5); len(hs) != 3000 {
		t.Fatalf("%d hosts, want 3000", len(hs))
	}
}

// TestMalformedDatagrams sends every malformed class of the protocol: none is
// answered, each is counted under its reason, and serving goes on. Each malformed
// datagram is followed by a get_host on the same socket, which the agent's one
// serving goroutine handles after it: the first datagram back must be that answer
// (so the malformed one was not answered), and by then the drop is counted.
func TestMalformedDatagrams(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes()})
	c := dial(t, a.Addrs()[0])
	hdr := func(id, n int32, body int) []byte {
		b := make([]byte, 8+body)
		binary.LittleEndian.PutUint32(b, uint32(id))
		binary.LittleEndian.PutUint32(b[4:], uint32(n))
		return b
	}
	cases := []struct {
		name   string
		frame  []byte
		reason agent.DropReason
	}{
		{"empty", []byte{}, agent.DropTooShort},
		{"short", []byte{4, 0, 0}, agent.DropTooShort},
		{"negative length", hdr(4, -1, 0), agent.DropNegativeLength},
		{"too large", hdr(4, 65528, 0), agent.DropTooLarge},
		{"length mismatch", hdr(4, 3, 2), agent.DropLengthMismatch},
		{"unknown msgid", hdr(42, 0, 0), agent.DropUnknownMsgID},
		{"answer msgid sent to the agent", vectors.Frame("get_host_response_succ"), agent.DropUnknownMsgID},
		{"bad body", append(hdr(4, 2, 0), 0x08, 0xff), agent.DropBadBody},
		{"bad report body", append(hdr(6, 1, 0), 0x1a), agent.DropBadBody},
		{"bad route body", append(hdr(7, 3, 0), 0x08, 0x80, 0x80), agent.DropBadBody},
		{"truncated (over the slot)", append(hdr(4, 3000, 0), make([]byte, 3000)...), agent.DropTruncated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := a.Counters().Drop(tc.reason)
			c.send(tc.frame)
			if m := c.getHost(77, 1, 1); m.Retcode != 0 {
				t.Fatalf("serving broken after %s: %v", tc.name, m)
			}
			if got := a.Counters().Drop(tc.reason) - before; got != 1 {
				t.Fatalf("%s counted %d times, want 1", tc.reason, got)
			}
		})
	}
}

func TestAdminMetricsAndRoutes(t *testing.T) {
	a := startAgent(t, agent.Config{Routes: goldenRoutes()})
	c := dial(t, a.Addrs()[0])
	c.getHost(1, 1, 1)
	c.send([]byte{1})
	eventually(t, patience, "drop counted", func() bool { return a.Counters().Drop(agent.DropTooShort) == 1 })
	var buf bytes.Buffer
	a.WriteMetrics(&buf)
	for _, want := range []string{
		`lars_agent_requests_total{msgid="4",type="get_host_request"} 1`,
		`lars_agent_get_host_answers_total{retcode="succ"} 1`,
		`lars_agent_drops_total{reason="too_short"} 1`,
		`lars_agent_keys 1`,
		`lars_agent_hosts{state="idle"} 3`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

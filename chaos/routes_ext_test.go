package chaos

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
)

// extKey is the key of TestRoutesBeyondLars: not in examples/routes.txt.
var extKey = route.Key{Modid: 9301, Cmdid: 1}

// extHosts are its hosts: two IPv4 and one IPv6 host in the agent's zone, weighted
// 1:3:1, and an IPv4 host in another zone.
var extHosts = []string{"10.9.0.1:80;weight=100;zone=eu", "10.9.0.2:80;weight=300;zone=eu",
	"[2001:db8::9]:80;weight=100;zone=eu", "10.9.0.3:80;zone=us"}

// TestRoutesBeyondLars writes a route with weights, zones and an IPv6 host through
// larsctl into the store, and checks what every part makes of it through the real
// binaries: lars-dns pushes it to the agent, the Go client (which reads the extension)
// gets every host with its weight and zone and is spread by weight within the agent's
// zone, and a client that speaks Lars's frames only (as the C++ API) never receives the
// IPv6 host.
func TestRoutesBeyondLars(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		s := startSystem(t, systemConfig{engine: e, agentINI: "[loadbalance]\nzone = eu\n"})
		args := append([]string{"-db", s.db, "route", "set", fmt.Sprint(extKey.Modid), fmt.Sprint(extKey.Cmdid)}, extHosts...)
		if code, out := proctest.Run(t, "larsctl", args...); code != 0 {
			t.Fatalf("route set: exit %d: %s", code, out)
		}
		ports := make([]uint16, len(s.ports))
		for i, p := range s.ports {
			ports[i] = uint16(p)
		}
		c, err := api.New(api.Config{Ports: ports, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()

		// The Go client: every host with its weight and zone, once lars-dns has pushed.
		want := route.FormatHostList(mustHostList(t, extHosts))
		var got string
		proctest.Eventually(t, eventLimit, "the agent serves "+want, func() (bool, string) {
			hs, err := c.GetRoute(context.Background(), extKey.Modid, extKey.Cmdid, nil)
			slices.SortFunc(hs, route.CompareAddr)
			got = route.FormatHostList(hs)
			return err == nil && got == want, fmt.Sprintf("%s (%v)", got, err)
		})
		count := map[string]int{}
		const calls = 500
		for range calls {
			h, err := c.GetHost(context.Background(), extKey.Modid, extKey.Cmdid)
			if err != nil {
				t.Fatalf("GetHost: %v", err)
			}
			count[h.Addr.String()]++
		}
		// Round robin by weight over the zone's hosts, 1:3:1, from wherever the turn
		// stood: each within a turn of its share, none to zone us.
		for addr, share := range map[string]int{"10.9.0.1:80": 100, "10.9.0.2:80": 300, "[2001:db8::9]:80": 100} {
			if d := count[addr] - share; d < -3 || d > 3 {
				t.Errorf("Go client: %s got %d of %d calls, want %d: %v", addr, count[addr], calls, share, count)
			}
		}
		if count["10.9.0.3:80"] != 0 {
			t.Errorf("Go client: the host of zone us got %d calls with zone eu's usable", count["10.9.0.3:80"])
		}

		// A client of Lars's frames: no accept field, never the IPv6 host.
		lars := larsFrames(t, s.ports[int(uint32(extKey.Modid+extKey.Cmdid))%len(s.ports)])
		if hs := lars.getRoute(t); !slices.Equal(hs, []string{"10.9.0.1:80", "10.9.0.2:80", "10.9.0.3:80"}) {
			t.Errorf("Lars get_route: %v, want the IPv4 hosts alone", hs)
		}
		count = map[string]int{}
		for i := range 400 {
			count[lars.getHost(t, uint32(i+1))]++
		}
		if count["10.9.0.1:80"] != 100 || count["10.9.0.2:80"] != 300 {
			t.Errorf("Lars get_host: %v, want 100 and 300 calls to zone eu's IPv4 hosts (1:3)", count)
		}
	})
}

func mustHostList(t *testing.T, hosts []string) []route.Host {
	t.Helper()
	var out []route.Host
	for _, s := range hosts {
		h, err := route.ParseHostText(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h)
	}
	slices.SortFunc(out, route.CompareAddr)
	return out
}

// larsClient sends Lars's own frames (no extension field) to one agent port.
type larsClient struct {
	conn *net.UDPConn
	buf  []byte
}

func larsFrames(t *testing.T, port int) *larsClient {
	t.Helper()
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &larsClient{conn: c, buf: make([]byte, 64<<10)}
}

// exchange sends a frame and returns the body of the first answer of id.
func (l *larsClient) exchange(t *testing.T, id codec.MsgID, msg codec.Marshaler, want codec.MsgID) []byte {
	t.Helper()
	frame, err := codec.AppendFrame(nil, id, msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	l.conn.SetReadDeadline(time.Now().Add(eventLimit))
	for {
		n, err := l.conn.Read(l.buf)
		if err != nil {
			t.Fatalf("no answer of msgid %d: %v", want, err)
		}
		if got, body, r := codec.ParseDatagram(l.buf[:n]); r == codec.ReasonOK && got == want {
			return body
		}
	}
}

func (l *larsClient) getHost(t *testing.T, seq uint32) string {
	t.Helper()
	var resp larspb.GetHostResponse
	body := l.exchange(t, codec.MsgGetHostRequest, &larspb.GetHostRequest{Seq: seq, Modid: extKey.Modid, Cmdid: extKey.Cmdid}, codec.MsgGetHostResponse)
	if err := resp.UnmarshalVT(body); err != nil || resp.Seq != seq || resp.Retcode != 0 || resp.Host == nil {
		t.Fatalf("get_host %d: %+v, %v", seq, &resp, err)
	}
	if len(resp.Host.Ip6) != 0 || resp.Host.Weight != 0 || resp.Host.Zone != "" {
		t.Fatalf("get_host %d: extension fields sent to a Lars client: %+v", seq, resp.Host)
	}
	return route.AddrPortFromWire(resp.Host.Ip, resp.Host.Port).String()
}

func (l *larsClient) getRoute(t *testing.T) []string {
	t.Helper()
	var resp larspb.GetRouteResponse
	body := l.exchange(t, codec.MsgAPIGetRouteRequest, &larspb.GetRouteRequest{Modid: extKey.Modid, Cmdid: extKey.Cmdid}, codec.MsgAPIGetRouteResponse)
	if err := resp.UnmarshalVT(body); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range resp.Host {
		if len(h.Ip6) != 0 || h.Weight != 0 || h.Zone != "" {
			t.Fatalf("get_route: extension fields sent to a Lars client: %+v", h)
		}
		out = append(out, route.AddrPortFromWire(h.Ip, h.Port).String())
	}
	slices.Sort(out)
	return out
}

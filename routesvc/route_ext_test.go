package routesvc

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/route"
)

// hello sends a Hello with features and reads the HelloReply.
func (a *agentConn) hello(features larspb.Feature) {
	a.t.Helper()
	frame, err := codec.AppendFrame(nil, codec.MsgHello, &larspb.Hello{Features: uint32(features)})
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.nc.Write(frame); err != nil {
		a.t.Fatal(err)
	}
	a.nc.SetReadDeadline(time.Now().Add(pushWithin))
	if id, _, err := a.sr.Next(); err != nil || id != codec.MsgHelloReply {
		a.t.Fatalf("HelloReply: msgid %v, %v", id, err)
	}
}

// nextText reads the next route frame and returns its key and hosts as the route
// package writes them, each HostInfo's extension fields included; a HostInfo with
// ip6 and a non-zero ip, or ip6 not 16 bytes, fails the test.
func (a *agentConn) nextText() string {
	a.t.Helper()
	a.nc.SetReadDeadline(time.Now().Add(pushWithin))
	id, body, err := a.sr.Next()
	if err != nil || id != codec.MsgGetRouteResponse {
		a.t.Fatalf("route frame: msgid %v, %v", id, err)
	}
	var msg larspb.GetRouteResponse
	if err := msg.UnmarshalVT(body); err != nil {
		a.t.Fatal(err)
	}
	var hosts []route.Host
	for _, hi := range msg.Host {
		h := route.Host{Addr: route.AddrPortFromWire(hi.Ip, hi.Port), Weight: hi.Weight, Zone: hi.Zone}
		if hi.Ip6 != nil {
			if len(hi.Ip6) != 16 || hi.Ip != 0 {
				a.t.Fatalf("HostInfo %+v: ip6 of %d bytes with ip %d", hi, len(hi.Ip6), hi.Ip)
			}
			h.Addr = netip.AddrPortFrom(netip.AddrFrom16([16]byte(hi.Ip6)), uint16(hi.Port))
		}
		hosts = append(hosts, h)
	}
	return route.Key{Modid: msg.Modid, Cmdid: msg.Cmdid}.String() + " " + route.FormatHostList(hosts)
}

func TestRouteExtFramesByHelloFeature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		ctx := context.Background()
		set := func(k route.Key, text string) {
			t.Helper()
			hosts, err := route.ParseHostList(text, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.SetHosts(ctx, k, hosts); err != nil {
				t.Fatal(err)
			}
		}
		extKey, v6Key := route.Key{Modid: 2, Cmdid: 1}, route.Key{Modid: 3, Cmdid: 1}
		set(key11, "127.0.0.2:7001 127.0.0.1:7000")
		set(extKey, "10.0.0.1:80;weight=200;zone=eu 10.0.0.2:80 [2001:db8::1]:443;weight=5")
		set(v6Key, "[2001:db8::9]:80")
		svc := startService(t, db, Config{})
		lars, ours := dial(t, svc), dial(t, svc)
		ours.hello(larspb.Feature_FEATURE_UNSUBSCRIBE | larspb.Feature_FEATURE_ROUTE_EXT)

		// A plain IPv4 route: the same bytes as before, for both.
		want := vectors.Frame("dns_get_route_response")
		for _, a := range []*agentConn{lars, ours} {
			if _, err := a.nc.Write(vectors.Frame("dns_get_route_request")); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			a.nc.SetReadDeadline(time.Now().Add(pushWithin))
			if _, err := io.ReadFull(a.nc, got); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("plain route\n got %x, %v\nwant %x", got, err, want)
			}
		}

		check := func(what string, a *agentConn, want string) {
			t.Helper()
			if got := a.nextText(); got != want {
				t.Errorf("%s: %q, want %q", what, got, want)
			}
		}
		lars.pull(extKey.Modid, extKey.Cmdid)
		check("Lars's pull", lars, "2/1 10.0.0.1:80 10.0.0.2:80")
		ours.pull(extKey.Modid, extKey.Cmdid)
		check("our pull", ours, "2/1 10.0.0.1:80;weight=200;zone=eu 10.0.0.2:80 [2001:db8::1]:443;weight=5")
		lars.pull(v6Key.Modid, v6Key.Cmdid)
		check("Lars's pull of IPv6 hosts", lars, "3/1 ")
		ours.pull(v6Key.Modid, v6Key.Cmdid)
		check("our pull of IPv6 hosts", ours, "3/1 [2001:db8::9]:80")

		// Pushes: a weight changed, then a host added.
		set(extKey, "10.0.0.1:80;weight=300;zone=eu 10.0.0.2:80 [2001:db8::1]:443;weight=5")
		check("our push of a weight", ours, "2/1 10.0.0.1:80;weight=300;zone=eu 10.0.0.2:80 [2001:db8::1]:443;weight=5")
		// Lars's connection is not pushed a frame it already has: its next one is the
		// host added below.
		set(extKey, "10.0.0.1:80;weight=300;zone=eu 10.0.0.3:80 [2001:db8::1]:443;weight=5")
		check("Lars's push", lars, "2/1 10.0.0.1:80 10.0.0.3:80")
		check("our push", ours, "2/1 10.0.0.1:80;weight=300;zone=eu 10.0.0.3:80 [2001:db8::1]:443;weight=5")
		set(v6Key, "[2001:db8::9]:80 [2001:db8::a]:80")
		check("our push of IPv6 hosts", ours, "3/1 [2001:db8::9]:80 [2001:db8::a]:80")
		// Queued in the same step as ours: had Lars's connection been pushed, it would
		// read it at once.
		if m, err := lars.read(300 * time.Millisecond); err == nil {
			t.Errorf("Lars's connection pushed %+v, a route without IPv4 hosts it has already", m)
		}
	})
}

// TestRouteExtFramesShareBytes checks that a route with extensions holds two frames,
// and a plain one a single frame both kinds of connection share.
func TestRouteExtFramesShareBytes(t *testing.T) {
	plain, _ := newRoute(key11, []route.Host{host("10.0.0.1", 80)})
	if plain.ext != nil || &plain.frameFor(true)[0] != &plain.frameFor(false)[0] {
		t.Error("a plain route holds two frames")
	}
	h, err := route.ParseHostText("10.0.0.1:80;weight=2")
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := newRoute(key11, []route.Host{h})
	if ext.ext == nil || !bytes.Equal(ext.frame, plain.frame) {
		t.Errorf("route with a weight: ext %x, frame %x (want the plain frame %x)", ext.ext, ext.frame, plain.frame)
	}
}

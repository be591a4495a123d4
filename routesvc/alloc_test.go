//go:build !race

package routesvc

import (
	"net"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/route"
)

// TestPullAnswerZeroAlloc: answering a pull of a 10-host key the connection already
// subscribed to (the agent's refresh and every re-pull) queues the snapshot's frame
// without allocating.
func TestPullAnswerZeroAlloc(t *testing.T) {
	svc, err := New(Config{Store: nopStore{}})
	if err != nil {
		t.Fatal(err)
	}
	key := route.Key{Modid: 10, Cmdid: 1}
	svc.table.set(key, manyHosts(10, 80))
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(svc, a)
	req := larspb.GetRouteRequest{Modid: 10, Cmdid: 1}
	body, _ := req.MarshalVT()
	if err := c.handle(1, body); err != nil { // the first pull subscribes
		t.Fatal(err)
	}
	c.queue = c.queue[:0]
	alloctest.Zero(t, "pull answer", 1000, func() {
		if err := c.handle(1, body); err != nil {
			t.Fatal(err)
		}
		c.queue, c.queued = c.queue[:0], 0
	})
	if e := svc.table.get(key, false); e.subscribers() != 1 {
		t.Fatal("not subscribed")
	}
}

// TestHelloAnswerZeroAlloc: answering a Hello (an agent's keepalive) queues the
// service's HelloReply frame without allocating.
func TestHelloAnswerZeroAlloc(t *testing.T) {
	svc, err := New(Config{Store: nopStore{}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(svc, a)
	body := vectors.Frame("ext_hello")[codec.HeaderSize:]
	alloctest.Zero(t, "hello answer", 1000, func() {
		if err := c.handle(codec.MsgHello, body); err != nil {
			t.Fatal(err)
		}
		c.queue, c.queued = c.queue[:0], 0
	})
}

// TestRefusedPullAllocs: a pull past the connection's bounds is answered without
// subscribing: from the key's route with no allocation, or for a key without hosts with
// one, its 12-byte answer (nothing of it stays).
func TestRefusedPullAllocs(t *testing.T) {
	svc, err := New(Config{Store: nopStore{}, MaxSubsPerConn: 1})
	if err != nil {
		t.Fatal(err)
	}
	known := route.Key{Modid: 10, Cmdid: 1}
	svc.table.set(known, manyHosts(10, 80))
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(svc, a)
	pull := func(k route.Key) []byte {
		body, _ := (&larspb.GetRouteRequest{Modid: k.Modid, Cmdid: k.Cmdid}).MarshalVT()
		return body
	}
	if err := c.handle(codec.MsgGetRouteRequest, pull(route.Key{Modid: 1, Cmdid: 1})); err != nil { // takes the one place
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  route.Key
		most float64
	}{{known, 0}, {route.Key{Modid: 2, Cmdid: 2}, 1}} {
		body := pull(tc.key)
		allocs := testing.AllocsPerRun(1000, func() {
			if err := c.handle(codec.MsgGetRouteRequest, body); err != nil {
				t.Fatal(err)
			}
			c.queue, c.queued = c.queue[:0], 0
		})
		if allocs > tc.most {
			t.Errorf("refused pull of %v: %.1f allocations, want at most %.0f", tc.key, allocs, tc.most)
		}
	}
	if st := svc.Stats(); st.Subscriptions != 1 || st.SubscriptionsRefused[refusedPerConn] < 2000 {
		t.Fatalf("stats %+v", st)
	}
}

// TestPushAllocsDoNotGrowWithSubscribers: a route change is encoded once, whatever the
// number of its subscribers, and queued to each without allocating: a change to a key
// 1,000 connections hold allocates what one to a key one connection holds does.
func TestPushAllocsDoNotGrowWithSubscribers(t *testing.T) {
	allocs := func(subscribers int) float64 {
		svc, err := New(Config{Store: nopStore{}})
		if err != nil {
			t.Fatal(err)
		}
		key := route.Key{Modid: 10, Cmdid: 1}
		svc.table.set(key, manyHosts(10, 80))
		req := larspb.GetRouteRequest{Modid: 10, Cmdid: 1}
		body, _ := req.MarshalVT()
		conns := make([]*conn, subscribers)
		for i := range conns {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			conns[i] = newConn(svc, a)
			if err := conns[i].handle(1, body); err != nil {
				t.Fatal(err)
			}
		}
		hosts := [2][]route.Host{manyHosts(10, 81), manyHosts(10, 82)}
		n := 0
		return testing.AllocsPerRun(200, func() {
			n++
			svc.table.set(key, hosts[n%2])
			for _, c := range conns {
				c.queue, c.queued = c.queue[:0], 0
			}
		})
	}
	one, many := allocs(1), allocs(1000)
	if many != one {
		t.Fatalf("a change allocates %v times with 1 subscriber, %v with 1,000: something is allocated per push", one, many)
	}
	t.Logf("allocations per change: %v, with 1 or 1,000 subscribers", one)
}

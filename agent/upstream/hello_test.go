package upstream

import (
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

const featUnsub = uint32(larspb.Feature_FEATURE_UNSUBSCRIBE)

// dropKeys asks the table for n unknown keys of modid, waits for the service's empty
// answers (negative keys), then moves the clock past the negative TTL and sweeps:
// every key is dropped. It returns the keys.
func dropKeys(t *testing.T, c *RouteClient, tbl *lb.Table, advance func(time.Duration), modid int32, n int) []route.Key {
	t.Helper()
	keys := make([]route.Key, n)
	for i := range n {
		keys[i] = route.Key{Modid: modid, Cmdid: int32(i)}
		tbl.GetHost(modid, int32(i))
	}
	// Every key answered empty: a count of answers applied is not enough, since a key
	// pulled both by the table and by the connection's re-subscription is answered twice.
	// The sweep queues again the pulls a full queue dropped (the clock stands still, so
	// it expires nothing).
	eventually(t, "empty answers applied", func() bool {
		tbl.Sweep()
		for _, k := range keys {
			if info, ok := tbl.Lookup(k.Modid, k.Cmdid); !ok || !info.Negative || info.Pulling {
				return false
			}
		}
		return true
	})
	advance(2 * time.Second)
	tbl.Sweep()
	for _, k := range keys {
		if tbl.Has(k.Modid, k.Cmdid) {
			t.Fatalf("key %v still in the table after its negative TTL", k)
		}
	}
	return keys
}

func TestHelloFirstOnEveryConnectionAndKeepalive(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	svc := newExtService(t, true, featUnsub, 90) // keepalive every 30 ms
	c, tbl, _ := newExtClient(svc.addr())
	tbl.GetHost(1, 2)
	run(t, c.Run)
	eventually(t, "keepalive Hellos", func() bool { return svc.count(codec.MsgHello) >= 4 })
	if f := svc.connFrames(0); f[0] != codec.MsgHello {
		t.Fatalf("first frame of the connection: %v, want hello", f[0])
	}
	if st := c.Stats(); st.Peer != PeerOurs || st.HelloReplies == 0 {
		t.Fatalf("peer %q, %d replies; want ours and some", st.Peer, st.HelloReplies)
	}
	svc.closeConns()
	eventually(t, "second connection", func() bool { return len(svc.connFrames(1)) > 0 })
	if f := svc.connFrames(1); f[0] != codec.MsgHello {
		t.Fatalf("first frame of the second connection: %v, want hello", f[0])
	}
}

func TestUnsubscribeGivesBackDroppedKeys(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	svc := newExtService(t, true, featUnsub, 0) // no idle timeout: no keepalive
	c, tbl, advance := newExtClient(svc.addr())
	run(t, c.Run)
	const n = 2*maxUnsubscribeKeys + 100 // three frames
	keys := dropKeys(t, c, tbl, advance, 7, n)
	eventually(t, "keys given back", func() bool { got, _ := svc.unsubscribed(); return len(got) >= n })
	got, perFrame := svc.unsubscribed()
	slices.SortFunc(got, cmpKey)
	if !slices.Equal(got, keys) {
		t.Fatalf("unsubscribed %d keys, want the %d dropped, once each", len(got), n)
	}
	if len(perFrame) < 3 || slices.Max(perFrame) > maxUnsubscribeKeys {
		t.Fatalf("keys per Unsubscribe frame %v: want at most %d each", perFrame, maxUnsubscribeKeys)
	}
	// The client counts a frame once written: the service may have read it first.
	eventually(t, "unsubscribes counted", func() bool {
		st := c.Stats()
		return st.UnsubscribedKeys == n && st.UnsubscribeFrames == uint64(len(perFrame)) && st.DroppedNotSent == 0
	})
	if h := svc.count(codec.MsgHello); h != 1 {
		t.Fatalf("%d Hellos with no idle timeout, want the first only", h)
	}
}

func TestNoUnsubscribeWithoutTheFeature(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	svc := newExtService(t, true, 0, 0) // ours, but it does not take Unsubscribes
	c, tbl, advance := newExtClient(svc.addr())
	run(t, c.Run)
	const n = 50
	dropKeys(t, c, tbl, advance, 7, n)
	eventually(t, "drops counted", func() bool { return c.Stats().DroppedNotSent == n })
	pull(t, tbl, withRoute(svc, route.Key{Modid: 9, Cmdid: 9})) // everything written before is read
	if u := svc.count(codec.MsgUnsubscribe); u != 0 {
		t.Fatalf("%d Unsubscribes to a service without the feature", u)
	}
}

// TestLarsPeerGetsOnlyLarsFrames: a route service that never answers the Hello (Lars's
// lars_dns) gets one Hello a connection and pulls: no keepalive, no Unsubscribe.
func TestLarsPeerGetsOnlyLarsFrames(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	svc := newExtService(t, false, featUnsub, 30)
	c, tbl, advance := newExtClient(svc.addr())
	run(t, c.Run)
	const n = 50
	dropKeys(t, c, tbl, advance, 7, n)
	eventually(t, "drops counted", func() bool { return c.Stats().DroppedNotSent == n })
	pull(t, tbl, withRoute(svc, route.Key{Modid: 9, Cmdid: 9}))
	f := svc.connFrames(0)
	if f[0] != codec.MsgHello {
		t.Fatalf("first frame %v, want hello", f[0])
	}
	for i, id := range f[1:] {
		if id != codec.MsgGetRouteRequest {
			t.Fatalf("frame %d is %v: a Lars service gets only pulls after the Hello", i+1, id)
		}
	}
	if st := c.Stats(); st.Peer != PeerLars || st.HellosSent != 1 || st.UnsubscribeFrames != 0 {
		t.Fatalf("peer %q, %d Hellos, %d Unsubscribes; want lars, 1, 0", st.Peer, st.HellosSent, st.UnsubscribeFrames)
	}

	// The real lars_dns, through the shared fake: it counts the Hello as the one frame
	// it does not know, and nothing else.
	dns := larstest.NewRouteService(t)
	dns.SetRoute(1, 2, h1)
	c2, tbl2, advance2 := newExtClient(dns.Addr())
	run(t, c2.Run)
	pull(t, tbl2, k12)
	dropKeys(t, c2, tbl2, advance2, 7, n)
	eventually(t, "drops counted", func() bool { return c2.Stats().DroppedNotSent == n })
	if _, rc := tbl2.GetHost(1, 2); rc != codec.RetSucc { // still served after the drops
		t.Fatalf("GetHost 1/2 after the drops: %v", rc)
	}
	dns.SetRoute(5, 5, h1)
	pull(t, tbl2, route.Key{Modid: 5, Cmdid: 5}) // everything written before is read
	if got := dns.RequestTotal(); dns.BadFrames() != 1 || got < n+1 {
		t.Fatalf("lars_dns: %d frames it does not know (want the Hello only), %d pulls", dns.BadFrames(), got)
	}
}

// withRoute gives the key a route at the service and returns it.
func withRoute(s *extService, k route.Key) route.Key {
	s.setRoute(k, h1)
	return k
}

func cmpKey(a, b route.Key) int {
	if a.Modid != b.Modid {
		return int(a.Modid - b.Modid)
	}
	return int(a.Cmdid - b.Cmdid)
}

// TestGiveBackRules: keys wait while the peer is unknown; a key back in the table
// since it was dropped is not given back (its new pull subscribes it again).
func TestGiveBackRules(t *testing.T) {
	tbl := lb.NewTable(lb.Config{}) // Lars mode: an empty answer removes the key
	c := NewRouteClient(RouteClientConfig{Table: tbl, Link: Link{Logger: quiet}})
	tbl.TrackDropped(true) // as a connection does
	for _, k := range []route.Key{{Modid: 1, Cmdid: 2}, {Modid: 3, Cmdid: 4}} {
		tbl.GetHost(k.Modid, k.Cmdid)
		tbl.ApplyRoute(k.Modid, k.Cmdid, nil)
	}
	tbl.GetHost(1, 2) // back, its pull queued

	conn := &recordConn{}
	if err := c.giveBack(conn, true); err != nil || len(conn.written) != 0 {
		t.Fatalf("peer unknown: %v, %d bytes written; want nothing", err, len(conn.written))
	}
	c.peer.Store(peerOurs)
	if err := c.giveBack(conn, true); err != nil {
		t.Fatal(err)
	}
	id, body, r := codec.ParseDatagram(conn.written)
	var u larspb.Unsubscribe
	if r != codec.ReasonOK || id != codec.MsgUnsubscribe || u.UnmarshalVT(body) != nil {
		t.Fatalf("written %x: not one Unsubscribe frame", conn.written)
	}
	if len(u.Keys) != 1 || u.Keys[0].Modid != 3 || u.Keys[0].Cmdid != 4 {
		t.Fatalf("unsubscribed %v, want 3/4 only", u.Keys)
	}
	if st := c.Stats(); st.DroppedNotSent != 1 || st.UnsubscribedKeys != 1 {
		t.Fatalf("stats %+v", st)
	}
}

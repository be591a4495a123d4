//go:build !race

package batchio_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/internal/batchio"
)

// TestRoundTripAllocs checks that a steady-state round trip allocates nothing: client
// WriteBatch, server ReadBatch, reply from a second batch with peers copied and caller
// payloads, client ReadBatch.
func TestRoundTripAllocs(t *testing.T) { forEachKind(t, testRoundTripAllocs) }

func testRoundTripAllocs(t *testing.T, k kind) {
	srv := listen(t, k, batchio.ListenOptions{})
	c := dial(t, k, localAddr(srv))
	deadline := time.Now().Add(time.Minute)
	srv.UDPConn().SetReadDeadline(deadline)
	c.UDPConn().SetReadDeadline(deadline)

	checkRoundTripAllocs(t, "round trip of 16 datagrams", srv, c)
}

// checkRoundTripAllocs fails t when a steady-state round trip allocates: 16 datagrams
// from c's WriteBatch, read by srv, answered from a second batch with peers copied and
// caller payloads, read back by c.
func checkRoundTripAllocs(t *testing.T, name string, srv, c *batchio.Conn) {
	t.Helper()
	const n = 16
	out, cin := batchio.NewBatch(n, 0), batchio.NewBatch(n, 0)
	sin, sout := batchio.NewBatch(n, 0), batchio.NewBatch(n, 0)
	answer := make([]byte, 3000)
	for i := range n {
		out.Msgs[i].N = 32
	}
	var failed bool
	roundTrip := func() {
		if sent, err := c.WriteBatch(out, n); sent != n || err != nil {
			failed = true
			return
		}
		for got := 0; got < n; {
			k, err := srv.ReadBatch(sin)
			if err != nil {
				failed = true
				return
			}
			for i := range k {
				sout.Msgs[i].Peer = sin.Msgs[i].Peer
				sout.SetPayload(i, answer[:sin.Msgs[i].N])
			}
			if _, err := srv.WriteBatch(sout, k); err != nil {
				failed = true
				return
			}
			got += k
		}
		for got := 0; got < n; {
			k, err := c.ReadBatch(cin)
			if err != nil {
				failed = true
				return
			}
			got += k
		}
	}
	roundTrip() // warm up
	alloctest.Zero(t, name, 100, roundTrip)
	if failed {
		t.Fatal("round trip failed")
	}
}

func TestAddrAllocs(t *testing.T) {
	b := batchio.NewBatch(2, 0)
	v4 := netip.MustParseAddrPort("127.0.0.1:7777")
	v6 := netip.MustParseAddrPort("[::1]:7777")
	var sink netip.AddrPort
	a := testing.AllocsPerRun(100, func() {
		b.SetAddr(0, v4)
		b.SetAddr(1, v6)
		sink = b.Addr(0)
		sink = b.Addr(1)
		b.Msgs[0].Peer = b.Msgs[1].Peer
	})
	if a != 0 {
		t.Errorf("Addr/SetAddr: %v allocations, want 0", a)
	}
	if sink != v6 {
		t.Errorf("Addr = %v, want %v", sink, v6)
	}
}

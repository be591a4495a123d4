//go:build !race

package batchio_test

import (
	"testing"

	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/internal/batchio"
)

// TestBlockingRoundTripAllocs checks that a steady-state round trip through a blocking
// server socket allocates nothing: client WriteBatch, server ReadBatch blocked in
// recvmmsg, reply with caller payloads, client ReadBatch.
func TestBlockingRoundTripAllocs(t *testing.T) {
	const n = 16
	srv := listenBlocking(t, batchio.ListenOptions{})
	c := dial(t, batched, srv.LocalAddr().String())
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
	alloctest.Zero(t, "blocking round trip of 16 datagrams", 100, roundTrip)
	if failed {
		t.Fatal("round trip failed")
	}
}

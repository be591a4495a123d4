//go:build !race

package batchio_test

import (
	"testing"

	"github.com/larsgo/lars/internal/batchio"
)

// TestBlockingRoundTripAllocs checks that a steady-state round trip through a blocking
// server socket allocates nothing: client WriteBatch, server ReadBatch blocked in
// recvmmsg, reply with caller payloads, client ReadBatch.
func TestBlockingRoundTripAllocs(t *testing.T) {
	srv := listenBlocking(t, batchio.ListenOptions{})
	c := dial(t, batched, srv.LocalAddr().String())
	checkRoundTripAllocs(t, "blocking round trip of 16 datagrams", srv, c)
}

//go:build !race

package echo_test

import (
	"testing"

	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

// TestEchoAllocs counts the allocations of the whole process, so the serving
// goroutine's too, during steady-state round trips, in every wait mode.
func TestEchoAllocs(t *testing.T) {
	for _, w := range []batchio.Wait{batchio.WaitBlocking, batchio.WaitPoll} {
		t.Run(w.String(), func(t *testing.T) {
			srv := listen(t, echo.Config{Batch: 16, Wait: w})
			cl := newClient(t, srv, 16)
			var msg string
			cl.roundTrip(16, 64)
			alloctest.Zero(t, "round trip of 16 datagrams", 100, func() {
				if m := cl.roundTrip(16, 64); m != "" {
					msg = m
				}
			})
			if msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

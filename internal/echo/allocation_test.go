//go:build !race

package echo_test

import "testing"

// TestEchoAllocs counts the allocations of the whole process, so the serving
// goroutine's too, during steady-state round trips.
func TestEchoAllocs(t *testing.T) {
	srv := start(t, 1, 16)
	cl := newClient(t, srv, 16)
	var msg string
	cl.roundTrip(16, 64)
	a := testing.AllocsPerRun(100, func() {
		if m := cl.roundTrip(16, 64); m != "" {
			msg = m
		}
	})
	if msg != "" {
		t.Fatal(msg)
	}
	if a != 0 {
		t.Errorf("round trip of 16 datagrams: %v allocations, want 0", a)
	}
}

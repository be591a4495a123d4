package echo_test

import (
	"testing"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

// listen starts a Server from cfg on an ephemeral port, closed at cleanup.
func listen(t *testing.T, cfg echo.Config) *echo.Server {
	t.Helper()
	srv, err := echo.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestListenEachWaitMode echoes through every wait mode, then checks that Close stops
// the serving goroutines while they wait for datagrams: closing the sockets must wake
// them all. Close waits for them; only one never woken keeps it past testTimeout.
func TestListenEachWaitMode(t *testing.T) {
	for _, w := range []batchio.Wait{batchio.WaitBlocking, batchio.WaitPoll} {
		t.Run(w.String(), func(t *testing.T) {
			const sockets = 2
			srv := listen(t, echo.Config{Sockets: sockets, Batch: 8, Wait: w})
			cl := newClient(t, srv, 8)
			for r := range 3 {
				if msg := cl.roundTrip(8, 10+r); msg != "" {
					t.Fatal(msg)
				}
			}
			if !waitFor(func() bool {
				return goroutinesIn("echo.(*socket).serve", "batchio.(*Conn).ReadBatch") >= sockets
			}) {
				t.Fatal("the serving goroutines are not back in ReadBatch")
			}
			closeWithin(t, srv, "Close did not wake the waiting serving goroutines")
		})
	}
}

func TestListenDefaults(t *testing.T) {
	srv := listen(t, echo.Config{})
	if !srv.Addr().Addr().IsLoopback() || srv.Addr().Port() == 0 {
		t.Fatalf("Addr() = %v, want an ephemeral port of 127.0.0.1", srv.Addr())
	}
	cl := newClient(t, srv, 4)
	if msg := cl.roundTrip(4, 100); msg != "" {
		t.Fatal(msg)
	}
}

func TestListenRejectsUnknownWait(t *testing.T) {
	if srv, err := echo.Listen(echo.Config{Wait: batchio.Wait(99)}); err == nil {
		srv.Close()
		t.Fatal("Listen accepted an unknown wait mode")
	}
}

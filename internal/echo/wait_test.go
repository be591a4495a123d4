package echo_test

import (
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

// stopLimit is the shutdown budget of the servers built on the echo.
const stopLimit = 2 * time.Second

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

// TestListenEachWaitMode echoes through every wait mode, then checks Close stops idle
// serving goroutines within stopLimit.
func TestListenEachWaitMode(t *testing.T) {
	for _, w := range []batchio.Wait{batchio.WaitBlocking, batchio.WaitPoll} {
		t.Run(w.String(), func(t *testing.T) {
			srv := listen(t, echo.Config{Sockets: 2, Batch: 8, Wait: w})
			cl := newClient(t, srv, 8)
			for r := range 3 {
				if msg := cl.roundTrip(8, 10+r); msg != "" {
					t.Fatal(msg)
				}
			}
			time.Sleep(10 * time.Millisecond) // let the serving goroutines wait again
			start := time.Now()
			if err := srv.Close(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > stopLimit {
				t.Fatalf("Close took %v, want under %v", d, stopLimit)
			}
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

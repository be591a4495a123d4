package echo_test

import (
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

// testTimeout bounds every wait for something a working server does: never reached on
// a working build however busy the machine.
const testTimeout = 30 * time.Second

func start(t *testing.T, sockets, batch int) *echo.Server {
	t.Helper()
	srv, err := echo.Start("127.0.0.1:0", sockets, batch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// client is a connected batchio.Conn with batches to send and receive.
type client struct {
	c       *batchio.Conn
	out, in *batchio.Batch
}

func newClient(t testing.TB, srv *echo.Server, batch int) *client {
	t.Helper()
	uc, err := batchio.DialUDP("udp4", srv.Addr().String(), batchio.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := batchio.NewConn(uc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.UDPConn().SetReadDeadline(time.Now().Add(testTimeout))
	return &client{c: c, out: batchio.NewBatch(batch, 0), in: batchio.NewBatch(batch, 4096)}
}

// roundTrip sends n datagrams of size bytes, with the first byte numbering them, and
// reads n back; it returns an error message or "".
func (cl *client) roundTrip(n, size int) string {
	for i := range n {
		m := &cl.out.Msgs[i]
		m.N = size
		for j := range size {
			m.Buf[j] = byte(i + j)
		}
	}
	if sent, err := cl.c.WriteBatch(cl.out, n); sent != n || err != nil {
		return "WriteBatch: " + errString(err)
	}
	for got := 0; got < n; {
		k, err := cl.c.ReadBatch(cl.in)
		if err != nil {
			return "ReadBatch: " + err.Error()
		}
		for i := range k {
			p := cl.in.Data(i)
			if len(p) != size {
				return "echoed datagram has a different size"
			}
			for j := range p {
				if p[j] != byte(int(p[0])+j) {
					return "echoed datagram has different bytes"
				}
			}
		}
		got += k
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "short write"
	}
	return err.Error()
}

func TestEcho(t *testing.T) {
	srv := start(t, 2, 16)
	const clients, rounds, n = 4, 5, 16
	var wg sync.WaitGroup
	for range clients {
		cl := newClient(t, srv, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				if msg := cl.roundTrip(n, 1+r*300); msg != "" {
					t.Error(msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The server counts a batch after sending it, so the count may lag the replies.
	want := uint64(clients * rounds * n)
	waitFor(func() bool { return srv.Served() >= want })
	if got := srv.Served(); got != want {
		t.Errorf("Served() = %d, want %d", got, want)
	}
}

func TestEchoDropsOversize(t *testing.T) {
	srv := start(t, 1, 4)
	cl := newClient(t, srv, 4)
	big := make([]byte, echo.SlotSize+1)
	cl.out.SetPayload(0, big)
	cl.out.Msgs[1].N = 10
	if _, err := cl.c.WriteBatch(cl.out, 2); err != nil {
		t.Fatal(err)
	}
	n, err := cl.c.ReadBatch(cl.in)
	if err != nil || n != 1 || cl.in.Msgs[0].N != 10 {
		t.Fatalf("ReadBatch = %d, %v (first %d bytes); want the small datagram only", n, err, cl.in.Msgs[0].N)
	}
	if d := srv.Dropped(); d != 1 {
		t.Errorf("Dropped() = %d, want 1", d)
	}
}

func TestCloseStopsServing(t *testing.T) {
	srv, err := echo.Start("127.0.0.1:0", 3, 8)
	if err != nil {
		t.Fatal(err)
	}
	closeWithin(t, srv, "Close did not return")
}

// closeWithin closes srv and fails t with msg when Close has not returned within
// testTimeout (a bound, not a speed), or with Close's error.
func closeWithin(t *testing.T, srv *echo.Server, msg string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testTimeout):
		t.Fatal(msg)
	}
}

package batchio_test

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
)

// stopLimit is how soon Close must stop a blocked reader: at once when its shutdown
// reaches the reader, else after blockingWake (200 ms), well within the servers'
// shutdown budget of 2 s; the limit adds slack for a machine stalled for seconds.
const stopLimit = 10 * time.Second

// listenBlocking returns a ListenBlocking Conn on an ephemeral 127.0.0.1 port, closed
// at cleanup.
func listenBlocking(t testing.TB, opts batchio.ListenOptions) *batchio.Conn {
	t.Helper()
	c, err := batchio.ListenBlocking("udp4", "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serveEcho echoes on c from the receive batch itself until c is closed, then sends
// the error that stopped it on the returned channel.
func serveEcho(c *batchio.Conn, size int) <-chan error {
	done := make(chan error, 1)
	go func() {
		b := batchio.NewBatch(size, 0)
		for {
			n, err := c.ReadBatch(b)
			if err == nil {
				_, err = c.WriteBatch(b, n)
			}
			if err != nil {
				done <- err
				return
			}
		}
	}()
	return done
}

// waitStopped waits for a serving goroutine's error after Close and checks it says closed.
func waitStopped(t *testing.T, done <-chan error, closed time.Time) {
	t.Helper()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after Close: %v, want net.ErrClosed", err)
		}
		if d := time.Since(closed); d > stopLimit {
			t.Fatalf("stopped %v after Close, want under %v", d, stopLimit)
		}
	case <-time.After(testTimeout):
		t.Fatal("still serving after Close")
	}
}

func TestBlockingEchoesAndStops(t *testing.T) {
	srv := listenBlocking(t, batchio.ListenOptions{})
	if runtime.GOOS == "linux" && srv.UDPConn() != nil {
		t.Error("a blocking Conn has a net.UDPConn")
	}
	done := serveEcho(srv, 16)
	c := dial(t, batched, srv.LocalAddr().String())
	const n = 64
	out := batchio.NewBatch(n, 2048)
	for i := range n {
		m := &out.Msgs[i]
		m.N = sizeOf(i)
		fill(m.Buf[:m.N], i)
	}
	if sent, err := c.WriteBatch(out, n); sent != n || err != nil {
		t.Fatalf("WriteBatch = %d, %v; want %d, nil", sent, err, n)
	}
	seen := make([]bool, n)
	readN(t, c, batchio.NewBatch(n, 2048), n, func(b *batchio.Batch, i int) {
		id, ok := check(b.Data(i))
		if !ok || id >= n || seen[id] || b.Msgs[i].N != sizeOf(id) {
			t.Fatalf("bad or repeated datagram (id %d, %d bytes)", id, b.Msgs[i].N)
		}
		seen[id] = true
	})
	closed := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitStopped(t, done, closed)
	if _, err := srv.ReadBatch(batchio.NewBatch(1, 0)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadBatch after Close: %v, want net.ErrClosed", err)
	}
	if err := srv.Close(); err == nil {
		t.Error("second Close reported no error")
	}
}

// TestBlockingCloseStopsIdleReaders closes sockets whose readers wait for a datagram
// that never comes, some of them sharing a port, while the others keep serving.
func TestBlockingCloseStopsIdleReaders(t *testing.T) {
	opts := batchio.ListenOptions{ReusePort: runtime.GOOS == "linux"}
	first := listenBlocking(t, opts)
	conns := []*batchio.Conn{first}
	if opts.ReusePort {
		c, err := batchio.ListenBlocking("udp4", first.LocalAddr().String(), opts)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	conns = append(conns, listenBlocking(t, batchio.ListenOptions{}))
	var dones []<-chan error
	for _, c := range conns {
		dones = append(dones, serveEcho(c, 4))
	}
	// Close once every reader waits (a late one would return at once).
	if !waitFor(func() bool { return goroutinesIn("batchio_test.serveEcho", "batchio.(*Conn).ReadBatch") >= len(conns) }) {
		t.Fatal("the readers are not all in ReadBatch")
	}
	closed := time.Now()
	for _, c := range conns {
		c.Close()
	}
	for _, d := range dones {
		waitStopped(t, d, closed)
	}
}

func TestBlockingReusePortSpreads(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ListenOptions.ReusePort is Linux only")
	}
	opts := batchio.ListenOptions{ReusePort: true}
	a := listenBlocking(t, opts)
	b, err := batchio.ListenBlocking("udp4", a.LocalAddr().String(), opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSpread(t, a, b)
}

func TestBlockingTruncatedAndSkipped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the errno is Linux's")
	}
	srv := listenBlocking(t, batchio.ListenOptions{})
	c := listenBlocking(t, batchio.ListenOptions{})
	to := netip.MustParseAddrPort(srv.LocalAddr().String())
	out := batchio.NewBatch(3, 200)
	for i := range 3 {
		out.SetAddr(i, to)
		out.Msgs[i].N = 100
	}
	out.Msgs[1].Peer.Clear() // no destination on an unconnected socket
	out.Msgs[2].N = 10
	sent, err := c.WriteBatch(out, 3)
	if sent != 2 || !errors.Is(err, syscall.EDESTADDRREQ) {
		t.Fatalf("WriteBatch = %d, %v; want 2, EDESTADDRREQ", sent, err)
	}
	in := batchio.NewBatch(4, 64)
	var got []batchio.Message
	for len(got) < 2 {
		n, err := srv.ReadBatch(in)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, in.Msgs[:n]...)
	}
	if got[0].N != 64 || !got[0].Truncated || got[1].N != 10 || got[1].Truncated {
		t.Fatalf("received (N, Truncated) (%d, %v), (%d, %v); want (64, true), (10, false)",
			got[0].N, got[0].Truncated, got[1].N, got[1].Truncated)
	}
	if p := got[0].Peer.AddrPort(); p.String() != c.LocalAddr().String() {
		t.Errorf("peer %v, want %v", p, c.LocalAddr())
	}
}

func TestListenWaitModes(t *testing.T) {
	for _, w := range []batchio.Wait{batchio.WaitBlocking, batchio.WaitPoll} {
		t.Run(w.String(), func(t *testing.T) {
			parsed, err := batchio.ParseWait(w.String())
			if err != nil || parsed != w {
				t.Fatalf("ParseWait(%q) = %v, %v", w.String(), parsed, err)
			}
			srv, err := batchio.Listen("udp4", "127.0.0.1:0", batchio.ListenOptions{}, w)
			if err != nil {
				t.Fatal(err)
			}
			if polled := srv.UDPConn() != nil; polled != (w == batchio.WaitPoll || runtime.GOOS != "linux") {
				t.Errorf("net.UDPConn present: %v", polled)
			}
			done := serveEcho(srv, 4)
			c := dial(t, batched, srv.LocalAddr().String())
			out := batchio.NewBatch(1, 0)
			out.Msgs[0].N = copy(out.Msgs[0].Buf, "ping")
			if _, err := c.WriteBatch(out, 1); err != nil {
				t.Fatal(err)
			}
			readN(t, c, batchio.NewBatch(1, 0), 1, func(b *batchio.Batch, i int) {
				if string(b.Data(i)) != "ping" {
					t.Errorf("echoed %q", b.Data(i))
				}
			})
			closed := time.Now()
			srv.Close()
			waitStopped(t, done, closed)
		})
	}
	if _, err := batchio.ParseWait("spin"); err == nil {
		t.Error("ParseWait accepted an unknown mode")
	}
	if _, err := batchio.Listen("udp4", "127.0.0.1:0", batchio.ListenOptions{}, batchio.Wait(99)); err == nil {
		t.Error("Listen accepted an unknown mode")
	}
}

func TestReserveProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	if prev := batchio.ReserveProcs(6); prev != 2 || runtime.GOMAXPROCS(0) != 7 {
		t.Fatalf("ReserveProcs(6) from 2 = %d, GOMAXPROCS %d; want 2, 7", prev, runtime.GOMAXPROCS(0))
	}
	if prev := batchio.ReserveProcs(1); prev != 7 || runtime.GOMAXPROCS(0) != 7 {
		t.Fatalf("ReserveProcs(1) from 7 = %d, GOMAXPROCS %d; want 7, 7 (never lowered)", prev, runtime.GOMAXPROCS(0))
	}
}

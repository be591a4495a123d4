package batchio_test

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/echo"
)

func startEcho(t *testing.T) *echo.Server {
	t.Helper()
	srv, err := echo.Start("127.0.0.1:0", 1, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// sizeOf gives datagram i of a test batch a size from 2 to 2000 bytes.
func sizeOf(i int) int { return 2 + i*131%1999 }

func TestRoundTripConnected(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		srv := startEcho(t)
		c := dial(t, k, srv.Addr().String())
		const n = 64
		out := batchio.NewBatch(n, 512)
		big := make([]byte, 1500) // caller-owned payload larger than the send slot
		fill(big, n-1)
		for i := range n - 1 {
			m := &out.Msgs[i]
			m.N = min(sizeOf(i), len(m.Buf))
			fill(m.Buf[:m.N], i)
		}
		out.SetPayload(n-1, big)
		if sent, err := c.WriteBatch(out, n); sent != n || err != nil {
			t.Fatalf("WriteBatch = %d, %v; want %d, nil", sent, err, n)
		}
		if out.Msgs[n-1].Payload != nil {
			t.Error("WriteBatch left Payload set")
		}
		seen := make([]bool, n)
		readN(t, c, batchio.NewBatch(n, 2048), n, func(b *batchio.Batch, i int) {
			id, ok := check(b.Data(i))
			if !ok || id >= n || seen[id] {
				t.Fatalf("bad or repeated datagram (id %d, %d bytes)", id, b.Msgs[i].N)
			}
			want := min(sizeOf(id), 512)
			if id == n-1 {
				want = len(big)
			}
			if b.Msgs[i].N != want || b.Msgs[i].Truncated {
				t.Errorf("datagram %d: %d bytes truncated=%v, want %d", id, b.Msgs[i].N, b.Msgs[i].Truncated, want)
			}
			if got := b.Addr(i); got != srv.Addr() {
				t.Errorf("datagram %d from %v, want %v", id, got, srv.Addr())
			}
			seen[id] = true
		})
	})
}

func TestRoundTripUnconnected(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		srv := startEcho(t)
		c := listen(t, k, batchio.ListenOptions{})
		const n = 16
		out := batchio.NewBatch(n, 0)
		for i := range n {
			out.SetAddr(i, srv.Addr())
			out.Msgs[i].N = sizeOf(i)
			fill(out.Data(i), i)
		}
		if sent, err := c.WriteBatch(out, n); sent != n || err != nil {
			t.Fatalf("WriteBatch = %d, %v; want %d, nil", sent, err, n)
		}
		got := 0
		readN(t, c, batchio.NewBatch(8, 0), n, func(b *batchio.Batch, i int) {
			if _, ok := check(b.Data(i)); !ok || b.Addr(i) != srv.Addr() {
				t.Errorf("bad datagram of %d bytes from %v", b.Msgs[i].N, b.Addr(i))
			}
			got++
		})
		if got != n {
			t.Errorf("got %d datagrams, want %d", got, n)
		}
	})
}

// TestReplyFromOtherBatch serves the way the agent does: receive into one batch,
// answer from another whose payloads are caller buffers and whose peers are copied.
func TestReplyFromOtherBatch(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		srv := listen(t, k, batchio.ListenOptions{})
		done := make(chan error, 1)
		go func() {
			in, out := batchio.NewBatch(4, 64), batchio.NewBatch(4, 0)
			answers := make([][]byte, out.Len())
			srv.UDPConn().SetReadDeadline(time.Now().Add(testTimeout))
			n, err := srv.ReadBatch(in)
			if err != nil {
				done <- err
				return
			}
			for i := range n {
				j := n - 1 - i // reply in reverse order, from other slots
				out.Msgs[j].Peer = in.Msgs[i].Peer
				answers[j] = append(answers[j][:0], in.Data(i)...)
				answers[j] = append(answers[j], make([]byte, 3000)...) // larger than any slot
				out.SetPayload(j, answers[j])
			}
			_, err = srv.WriteBatch(out, n)
			done <- err
		}()
		c := dial(t, k, localAddr(srv))
		out := batchio.NewBatch(1, 0)
		out.Msgs[0].N = copy(out.Msgs[0].Buf, "hello")
		if _, err := c.WriteBatch(out, 1); err != nil {
			t.Fatal(err)
		}
		readN(t, c, batchio.NewBatch(2, 4096), 1, func(b *batchio.Batch, i int) {
			if b.Msgs[i].N != 5+3000 || string(b.Data(i)[:5]) != "hello" {
				t.Errorf("got %d bytes %q...", b.Msgs[i].N, b.Data(i)[:5])
			}
		})
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestWriteSkipsRejectedMessage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the errno is Linux's")
	}
	srv := listen(t, batched, batchio.ListenOptions{})
	c := listen(t, batched, batchio.ListenOptions{})
	to := netip.MustParseAddrPort(localAddr(srv))
	out := batchio.NewBatch(3, 0)
	for i := range 3 {
		out.SetAddr(i, to)
		out.Msgs[i].N = 10
	}
	out.Msgs[1].Peer.Clear() // no destination on an unconnected socket
	sent, err := c.WriteBatch(out, 3)
	if sent != 2 || !errors.Is(err, syscall.EDESTADDRREQ) {
		t.Fatalf("WriteBatch = %d, %v; want 2, EDESTADDRREQ", sent, err)
	}
	readN(t, srv, batchio.NewBatch(4, 0), 2, func(*batchio.Batch, int) {})
}

func TestReusePort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ListenOptions.ReusePort is Linux only")
	}
	opts := batchio.ListenOptions{ReusePort: true, RecvBuf: 1 << 20}
	a := listen(t, batched, opts)
	uc, err := batchio.ListenUDP("udp4", localAddr(a), opts)
	if err != nil {
		t.Fatal(err)
	}
	b := newConn(t, batched, uc)

	checkSpread(t, a, b)
}

// checkSpread fails t unless datagrams from new source ports to a's address reach both
// a and b, two SO_REUSEPORT sockets bound to it; it closes both.
func checkSpread(t *testing.T, a, b *batchio.Conn) {
	t.Helper()
	var got [2]atomic.Int64
	var wg sync.WaitGroup
	for k, c := range []*batchio.Conn{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := batchio.NewBatch(8, 0)
			for {
				n, err := c.ReadBatch(batch)
				if err != nil {
					return
				}
				got[k].Add(int64(n))
			}
		}()
	}
	defer wg.Wait()
	defer a.Close()
	defer b.Close()
	out := batchio.NewBatch(1, 0)
	out.Msgs[0].N = 1
	deadline := time.Now().Add(testTimeout)
	for i := 0; i < 500 && (got[0].Load() == 0 || got[1].Load() == 0) && time.Now().Before(deadline); i++ {
		c := dial(t, batched, a.LocalAddr().String()) // a new source port each time
		if _, err := c.WriteBatch(out, 1); err != nil {
			t.Fatal(err)
		}
		c.Close()
		time.Sleep(time.Millisecond)
	}
	if got[0].Load() == 0 || got[1].Load() == 0 {
		t.Fatalf("datagrams per socket: %d, %d; want both > 0", got[0].Load(), got[1].Load())
	}
}

func TestTruncated(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no truncation flag on windows")
	}
	forEachKind(t, func(t *testing.T, k kind) {
		srv := listen(t, k, batchio.ListenOptions{})
		c := dial(t, k, localAddr(srv))
		out := batchio.NewBatch(2, 200)
		out.Msgs[0].N = 100
		out.Msgs[1].N = 10
		if _, err := c.WriteBatch(out, 2); err != nil {
			t.Fatal(err)
		}
		var trunc []bool
		readN(t, srv, batchio.NewBatch(2, 64), 2, func(b *batchio.Batch, i int) {
			trunc = append(trunc, b.Msgs[i].Truncated)
			if want := min(64, out.Msgs[len(trunc)-1].N); b.Msgs[i].N != want {
				t.Errorf("datagram %d: N = %d, want %d", i, b.Msgs[i].N, want)
			}
		})
		if !trunc[0] || trunc[1] {
			t.Errorf("Truncated = %v, want [true false]", trunc)
		}
	})
}

func TestCloseUnblocksRead(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		c := listen(t, k, batchio.ListenOptions{})
		done := make(chan error, 1)
		go func() {
			_, err := c.ReadBatch(batchio.NewBatch(4, 0))
			done <- err
		}()
		// Close once ReadBatch waits (a Close before it is net.ErrClosed too).
		if !waitFor(func() bool { return goroutinesIn("TestCloseUnblocksRead", "batchio.(*Conn).ReadBatch") == 1 }) {
			t.Fatal("ReadBatch does not wait")
		}
		c.Close()
		select {
		case err := <-done:
			if !errors.Is(err, net.ErrClosed) {
				t.Fatalf("ReadBatch after Close: %v, want net.ErrClosed", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("ReadBatch still blocked after Close")
		}
	})
}

func TestReadDeadline(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		c := listen(t, k, batchio.ListenOptions{})
		c.UDPConn().SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		start := time.Now()
		n, err := c.ReadBatch(batchio.NewBatch(4, 0))
		if n != 0 || !isTimeout(err) {
			t.Fatalf("ReadBatch = %d, %v; want 0, deadline exceeded", n, err)
		}
		if d := time.Since(start); d > testTimeout {
			t.Fatalf("ReadBatch returned after %v", d)
		}
	})
}

func TestConnRefused(t *testing.T) {
	forEachKind(t, func(t *testing.T, k kind) {
		gone := listen(t, k, batchio.ListenOptions{})
		addr := localAddr(gone)
		gone.Close()
		c := dial(t, k, addr)
		out := batchio.NewBatch(1, 0)
		out.Msgs[0].N = 8
		in := batchio.NewBatch(4, 0)

		// The ICMP error is reported by whichever call comes next: a write or a read.
		refused := false
		c.UDPConn().SetReadDeadline(time.Now().Add(testTimeout))
		for i := 0; i < 10 && !refused; i++ {
			_, werr := c.WriteBatch(out, 1)
			_, rerr := c.ReadBatch(in)
			refused = errors.Is(werr, syscall.ECONNREFUSED) || errors.Is(rerr, syscall.ECONNREFUSED)
			if rerr != nil && !refused {
				t.Fatalf("ReadBatch: %v, want ECONNREFUSED", rerr)
			}
		}
		if !refused {
			t.Fatal("no ECONNREFUSED")
		}

		// The same conn keeps working once something listens there.
		uc, err := batchio.ListenUDP("udp4", addr, batchio.ListenOptions{})
		if err != nil {
			t.Skipf("cannot listen again on %s: %v", addr, err)
		}
		srv := newConn(t, k, uc)
		if _, err := c.WriteBatch(out, 1); err != nil {
			t.Fatal(err)
		}
		readN(t, srv, in, 1, func(*batchio.Batch, int) {})
	})
}

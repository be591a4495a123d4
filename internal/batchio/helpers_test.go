package batchio_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
)

// testTimeout bounds every wait in these tests for something a working build does:
// never reached on one however busy the machine.
const testTimeout = 30 * time.Second

// kind selects the Conn implementation under test.
type kind int

const (
	batched  kind = iota // NewConn: recvmmsg/sendmmsg on Linux
	portable             // NewPortableConn: one net package call per datagram
)

func (k kind) String() string { return [...]string{"batched", "portable"}[k] }

// forEachKind runs f as a subtest for each Conn implementation.
func forEachKind(t *testing.T, f func(t *testing.T, k kind)) {
	for _, k := range []kind{batched, portable} {
		t.Run(k.String(), func(t *testing.T) { f(t, k) })
	}
}

// listen returns a Conn on an ephemeral 127.0.0.1 port, closed at cleanup.
func listen(t testing.TB, k kind, opts batchio.ListenOptions) *batchio.Conn {
	t.Helper()
	uc, err := batchio.ListenUDP("udp4", "127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	return newConn(t, k, uc)
}

// dial returns a Conn connected to addr, closed at cleanup.
func dial(t testing.TB, k kind, addr string) *batchio.Conn {
	t.Helper()
	uc, err := batchio.DialUDP("udp4", addr, batchio.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return newConn(t, k, uc)
}

func newConn(t testing.TB, k kind, uc *net.UDPConn) *batchio.Conn {
	t.Helper()
	c := batchio.NewPortableConn(uc)
	if k == batched {
		var err error
		if c, err = batchio.NewConn(uc); err != nil {
			uc.Close()
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func localAddr(c *batchio.Conn) string { return c.UDPConn().LocalAddr().String() }

// readN reads batches into b until want datagrams arrived, calling got for each, with
// the whole wait bounded by testTimeout.
func readN(t testing.TB, c *batchio.Conn, b *batchio.Batch, want int, got func(b *batchio.Batch, i int)) {
	t.Helper()
	c.UDPConn().SetReadDeadline(time.Now().Add(testTimeout))
	defer c.UDPConn().SetReadDeadline(time.Time{})
	for total := 0; total < want; {
		n, err := c.ReadBatch(b)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", total, want, err)
		}
		for i := range n {
			got(b, i)
		}
		total += n
	}
}

// fill writes a recognisable pattern for datagram id into p.
func fill(p []byte, id int) {
	for i := range p {
		p[i] = byte(id*7 + i)
	}
	if len(p) >= 2 {
		p[0], p[1] = byte(id), byte(id>>8)
	}
}

// check reports whether p is the pattern fill wrote for the id in its first bytes.
func check(p []byte) (id int, ok bool) {
	if len(p) < 2 {
		return 0, false
	}
	id = int(p[0]) | int(p[1])<<8
	for i := 2; i < len(p); i++ {
		if p[i] != byte(id*7+i) {
			return id, false
		}
	}
	return id, true
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

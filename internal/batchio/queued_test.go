//go:build linux

package batchio_test

import (
	"testing"
	"time"

	"github.com/larsgo/lars/internal/batchio"
)

// ReadQueued takes what is queued and never waits: nothing queued is 0 datagrams at
// once, on a netpoller socket and on a blocking one alike.
func TestReadQueued(t *testing.T) {
	conns := map[string]*batchio.Conn{"poll": listen(t, batched, batchio.ListenOptions{}),
		"blocking": listenBlocking(t, batchio.ListenOptions{})}
	for name, srv := range conns {
		t.Run(name, func(t *testing.T) {
			in := batchio.NewBatch(4, 64)
			done := make(chan struct{})
			var n int
			var err error
			go func() {
				n, err = srv.ReadQueued(in)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(testTimeout): // ReadQueued does not wait: only a defect takes this long
				t.Fatal("ReadQueued waited on an empty socket")
			}
			if n != 0 || err != nil {
				t.Fatalf("empty socket: %d, %v; want 0, nil", n, err)
			}

			c := dial(t, batched, srv.LocalAddr().String())
			out := batchio.NewBatch(3, 64)
			for i := range out.Msgs {
				out.Msgs[i].N = 10 + i
			}
			if _, err := c.WriteBatch(out, 3); err != nil {
				t.Fatal(err)
			}
			got := 0
			for deadline := time.Now().Add(testTimeout); got < 3 && time.Now().Before(deadline); {
				n, err := srv.ReadQueued(in)
				if err != nil {
					t.Fatal(err)
				}
				for i := range n {
					if want := 10 + got; in.Msgs[i].N != want {
						t.Errorf("datagram %d: %d bytes, want %d", got, in.Msgs[i].N, want)
					}
					got++
				}
			}
			if got != 3 {
				t.Fatalf("read %d of 3 queued datagrams", got)
			}
		})
	}
}

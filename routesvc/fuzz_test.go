package routesvc

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/store"
)

// nopStore is an empty store for tests that drive the table directly.
type nopStore struct{}

func (nopStore) Stamp(context.Context) (store.Stamp, error)              { return store.Stamp{}, nil }
func (nopStore) ScanRoutes(context.Context, func(lb.Key, lb.Host)) error { return nil }
func (nopStore) Routes(context.Context, []lb.Key) (map[lb.Key][]lb.Host, error) {
	return nil, nil
}
func (nopStore) ChangesAfter(context.Context, uint64, int) ([]store.Change, error) { return nil, nil }
func (nopStore) DeleteChangesBefore(context.Context, uint64) (int64, error)        { return 0, nil }

// FuzzConnFrames feeds any bytes to a connection's reader as an agent would send them:
// it must never panic, and each frame is either a pull served or the end of the
// connection.
func FuzzConnFrames(f *testing.F) {
	f.Add(vectors.Frame("dns_get_route_request"))
	f.Add(append(vectors.Frame("dns_get_route_request"), vectors.Frame("dns_get_route_request")...))
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 0, 0, 0, 2, 0, 0, 0, 0x08, 0x80})
	f.Add([]byte{1, 0, 0, 0, 4, 0, 0})
	f.Add(vectors.Frame("get_host_request"))
	f.Fuzz(func(t *testing.T, data []byte) {
		svc, err := New(Config{Store: nopStore{}})
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		c := newConn(svc, a)
		c.br = bufio.NewReaderSize(bytes.NewReader(data), readBufferSize)
		pulls := 0
		for {
			id, body, size, err := readFrame(c.br)
			if err != nil {
				break
			}
			if err := c.handle(id, body); err != nil {
				break
			}
			c.br.Discard(size)
			pulls++
		}
		if got := int(svc.Stats().Pulls); got != pulls || len(c.queue) != pulls {
			t.Fatalf("%d pulls served, %d counted, %d queued", pulls, got, len(c.queue))
		}
		svc.table.unsubscribeAll(c)
		if st := svc.Stats(); st.Subscriptions != 0 {
			t.Fatalf("subscriptions left: %+v", st)
		}
	})
}

package routesvc

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"slices"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// nopStore is an empty store for tests that drive the table directly.
type nopStore struct{}

func (nopStore) Stamp(context.Context) (store.Stamp, error)                    { return store.Stamp{}, nil }
func (nopStore) ScanRoutes(context.Context, func(route.Key, route.Host)) error { return nil }
func (nopStore) Routes(context.Context, []route.Key) (map[route.Key][]route.Host, error) {
	return nil, nil
}
func (nopStore) ChangesAfter(context.Context, uint64, int) ([]store.Change, error) { return nil, nil }
func (nopStore) DeleteChangesBefore(context.Context, uint64) (int64, error)        { return 0, nil }

// FuzzConnFrames feeds any bytes to a connection's reader as an agent would send them:
// it must never panic; each frame is a pull or a Hello answered, an Unsubscribe taken,
// a frame of another id dropped and counted, or the end of the connection; and the
// connection's subscriptions match the table's.
func FuzzConnFrames(f *testing.F) {
	pull := vectors.Frame("dns_get_route_request")
	f.Add(pull)
	f.Add(append(slices.Clone(pull), pull...))
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 0, 0, 0, 2, 0, 0, 0, 0x08, 0x80})
	f.Add([]byte{1, 0, 0, 0, 4, 0, 0})
	f.Add(vectors.Frame("get_host_request"))
	f.Add(vectors.Frame("ext_hello"))
	f.Add(vectors.Frame("ext_hello_reply"))
	f.Add(vectors.Frame("ext_unsubscribe"))
	f.Add(slices.Concat(vectors.Frame("ext_hello"), pull, vectors.Frame("ext_unsubscribe"), pull))
	f.Add(slices.Concat([]byte{9, 0, 0, 0, 3, 0, 0, 0, 1, 2, 3}, pull))
	f.Add([]byte{100, 0, 0, 0, 2, 0, 0, 0, 0x08, 0x80})
	f.Add([]byte{102, 0, 0, 0, 2, 0, 0, 0, 0x0a, 0x05})
	f.Add(largeUnsubscribe(1000))
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
		for c.serveFrame() == nil {
		}
		st := svc.Stats()
		if answers := int(st.Pulls + st.Hellos); len(c.queue) != answers {
			t.Fatalf("%d pulls and %d hellos counted, %d answers queued", st.Pulls, st.Hellos, len(c.queue))
		}
		if st.Subscriptions != c.subs.Load() || int(c.subs.Load()) != len(c.keys) || c.unknown.Load() != c.subs.Load() {
			t.Fatalf("table %d subscriptions, connection %d (%d keys, %d unknown)", st.Subscriptions, c.subs.Load(), len(c.keys), c.unknown.Load())
		}
		svc.table.unsubscribeAll(c)
		if st := svc.Stats(); st.Subscriptions != 0 {
			t.Fatalf("subscriptions left: %+v", st)
		}
	})
}

// largeUnsubscribe returns an Unsubscribe frame of keys (i, i), larger than a
// connection's read buffer for a thousand keys.
func largeUnsubscribe(keys int) []byte {
	var m larspb.Unsubscribe
	for i := range int32(keys) {
		m.Keys = append(m.Keys, &larspb.RouteKey{Modid: i, Cmdid: i})
	}
	frame, err := codec.AppendFrame(nil, codec.MsgUnsubscribe, &m)
	if err != nil {
		panic(err)
	}
	return frame
}

package routesvc

import (
	"bytes"
	"math"
	"net"
	"runtime"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// subscribeKeys has c pull keys (i, 1) for i in [0, n), dropping the answers.
func subscribeKeys(t testing.TB, c *conn, n int) {
	t.Helper()
	var req larspb.GetRouteRequest
	for i := range int32(n) {
		req.Modid, req.Cmdid = i, 1
		body, _ := req.MarshalVT()
		if err := c.handle(codec.MsgGetRouteRequest, body); err != nil {
			t.Fatal(err)
		}
		c.queue, c.queued = c.queue[:0], 0
	}
}

// bytesPerSubscription measures the heap that n subscriptions of one connection take,
// to keys with hosts (known) or without.
func bytesPerSubscription(t testing.TB, n int, known bool) float64 {
	svc, err := New(Config{Store: nopStore{}, MaxUnknownSubsPerConn: n})
	if err != nil {
		t.Fatal(err)
	}
	if known {
		for i := range int32(n) {
			svc.table.set(route.Key{Modid: i, Cmdid: 1}, manyHosts(1, 80))
		}
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(svc, a)
	before := heapInUse()
	subscribeKeys(t, c, n)
	after := heapInUse()
	if got := svc.Stats().Subscriptions; got != int64(n) {
		t.Fatalf("%d subscriptions, want %d", got, n)
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(svc)
	return (after - before) / float64(n)
}

// TestMemoryPerSubscription logs what one subscription costs, to a known key and to a
// key with no hosts, and holds the unknown key's cost to its bound.
func TestMemoryPerSubscription(t *testing.T) {
	const n = 100000
	unknown := bytesPerSubscription(t, n, false)
	known := bytesPerSubscription(t, n, true)
	t.Logf("heap per subscription over %d keys: unknown key %.0f bytes, known key %.0f bytes", n, unknown, known)
	// What keeps 300,000 pulls of unknown keys on one connection (at most
	// DefaultMaxUnknownSubsPerConn subscribed) well under 30 MB: 10,000 x 150 = 1.5 MB.
	if unknown > 150 {
		t.Fatalf("a subscription to an unknown key costs %.0f bytes, want at most 150", unknown)
	}
}

// TestEmptyFrameMatchesEncoder: the hand-encoded answer with no hosts is the frame the
// protobuf encoder builds, for ids zero, small, large and negative.
func TestEmptyFrameMatchesEncoder(t *testing.T) {
	ids := []int32{0, 1, 127, 128, 1 << 20, math.MaxInt32, -1, math.MinInt32}
	for _, modid := range ids {
		for _, cmdid := range ids {
			k := route.Key{Modid: modid, Cmdid: cmdid}
			want, _ := newRoute(k, nil)
			if got := emptyFrame(k); !bytes.Equal(got, want.frame) || cap(got) != len(got) {
				t.Fatalf("key %v: %x (cap %d), want %x", k, got, cap(got), want.frame)
			}
		}
	}
}

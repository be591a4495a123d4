//go:build unix

package api_test

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// The ways BenchmarkGetHostLayers makes a round trip, bare first.
const (
	layerBare   = iota // net.UDPConn Write, then Read
	layerPark          // write, then wait for readiness without trying a read first
	layerLane          // the lane's read with the request written inside it
	layerDecode        // layerLane, plus the answer parsed, decoded and matched
	layerClient        // GetHost
	layers
)

// layerUnits name the layers' ratios to the bare round trips.
var layerUnits = [layers]string{layerPark: "x-park", layerLane: "x-lane", layerDecode: "x-decode", layerClient: "x-client"}

// BenchmarkGetHostLayers splits what a caller alone on its port pays for GetHost into
// layers, each timed against bare round trips in the same run, by 2 goroutines on
// ports of their own of the fake agent, as in the g=2 pair:
//
//   - park: write, then wait for readiness without first trying a read that can only
//     fail. No client can do less per round trip: this is the floor.
//   - lane: the lane's own read with the request written inside it (LaneRoundTrip).
//   - decode: lane, plus the answer parsed, decoded and matched.
//   - client: GetHost.
//
// Each layer is reported as its time over the bare round trips' (x-park, x-lane,
// x-decode, x-client: ratios measured in the same run, as x-roundtrip), and ns/op is
// the client's wall time a call.
func BenchmarkGetHostLayers(b *testing.B) {
	a := startAgent(b)
	ports := a.Config().Ports
	c := newClient(b, api.Config{Ports: ports, Timeout: patience})
	const g, chunk = 2, 200
	ws := make([]*layerWorker, g)
	for i := range ws {
		a.SetRoute(1, int32(i), hostFor(1, int32(i)))
		ws[i] = newLayerWorker(b, c, ports, int32(i))
	}
	api.ArmLanesForAnHour(c) // the lane layers do not arm the read deadline
	phase := func(layer, n int) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for _, w := range ws {
			wg.Go(func() { w.run(layer, n) })
		}
		wg.Wait()
		return time.Since(start)
	}
	var took [layers]time.Duration
	for layer := range layers {
		phase(layer, chunk/2) // warm every layer
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += g * chunk {
		for layer := range layers {
			took[layer] += phase(layer, chunk)
		}
	}
	b.StopTimer()
	for _, w := range ws {
		if w.err != nil {
			b.Fatal(w.err)
		}
	}
	calls := (b.N + g*chunk - 1) / (g * chunk) * g * chunk
	b.ReportMetric(float64(took[layerClient])/float64(calls), "ns/op")
	for layer := layerPark; layer < layers; layer++ {
		b.ReportMetric(float64(took[layer])/float64(took[layerBare]), layerUnits[layer])
	}
}

// layerWorker is one goroutine of BenchmarkGetHostLayers, calling key (1, key).
type layerWorker struct {
	c    *api.Client
	key  int32
	p    int
	bare *net.UDPConn    // bare round trips
	raw  syscall.RawConn // park: a socket of its own
	req  []byte          // a get_host request for the key
	buf  []byte
	sent bool
	park func(fd uintptr) bool
	err  error
	_    [64]byte // keeps the other worker's fields off this one's last line
}

func newLayerWorker(b *testing.B, c *api.Client, ports []uint16, key int32) *layerWorker {
	w := &layerWorker{c: c, key: key, p: api.PortIndex(1, key, len(ports)), buf: make([]byte, codec.MaxFrameSize+1)}
	dial := func() *net.UDPConn {
		conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(ports[w.p])})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		conn.SetReadDeadline(time.Now().Add(time.Hour)) // once: a lost answer fails, never hangs
		return conn
	}
	w.bare = dial()
	var err error
	if w.raw, err = dial().SyscallConn(); err != nil {
		b.Fatal(err)
	}
	if w.req, err = codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 1, Cmdid: key}); err != nil {
		b.Fatal(err)
	}
	w.park = func(fd uintptr) bool {
		if !w.sent {
			w.sent = true
			if _, err := syscall.Write(int(fd), w.req); err != nil {
				w.err = err
				return true
			}
			return false
		}
		_, err := syscall.Read(int(fd), w.buf)
		if err == syscall.EAGAIN {
			return false
		}
		if err != nil {
			w.err = err
		}
		return true
	}
	return w
}

// run makes n round trips of the given layer.
func (w *layerWorker) run(layer, n int) {
	ctx := context.Background()
	for range n {
		if w.err != nil {
			return
		}
		switch layer {
		case layerBare:
			if _, err := w.bare.Write(w.req); err != nil {
				w.err = err
			} else if _, err := w.bare.Read(w.buf); err != nil {
				w.err = err
			}
		case layerPark:
			w.sent = false
			if err := w.raw.Read(w.park); err != nil {
				w.err = err
			}
		case layerLane, layerDecode:
			// seq 1 is nobody's: decoded, matched to no caller, counted late
			w.err = api.LaneRoundTrip(w.c, w.p, w.req, layer == layerDecode)
		case layerClient:
			if _, err := w.c.GetHost(ctx, 1, w.key); err != nil {
				w.err = err
			}
		}
	}
}

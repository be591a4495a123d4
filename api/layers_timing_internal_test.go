package api

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// layerNames are the ways BenchmarkGetHostLayers makes a round trip, bare first.
var layerNames = []string{"bare", "park", "lane", "decode", "client"}

// BenchmarkGetHostLayers splits what a caller alone on its port pays for GetHost into
// layers, each timed against bare round trips (net.UDPConn Write then Read) in the
// same run, by 2 goroutines on agent ports of their own, as in the g=2 pair:
//
//   - park: write, then wait for readiness without first trying a read that can only
//     fail. No client can do less per round trip: this is the floor.
//   - lane: the lane's own read with the request written inside it (socketReader).
//   - decode: lane, plus the answer parsed, decoded and matched (reader.datagram).
//   - client: GetHost.
//
// Each layer is reported as its time over the bare round trips' (x-park, x-lane,
// x-decode, x-client: ratios measured in the same run, as x-roundtrip), and ns/op is
// the client's wall time a call.
func BenchmarkGetHostLayers(b *testing.B) {
	ports := startAnswerer(b, 3)
	c, err := New(Config{Agent: netip.MustParseAddr("127.0.0.1"), Ports: ports, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	const g, chunk = 2, 200
	ws := make([]*layerWorker, g)
	for i := range ws {
		ws[i] = newLayerWorker(b, c, int32(i))
	}
	phase := func(layer, n int) time.Duration {
		var wg sync.WaitGroup
		start := time.Now()
		for _, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(layer, n)
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	took := make([]time.Duration, len(layerNames))
	for layer := range layerNames {
		phase(layer, chunk/2) // warm every layer
	}
	b.ResetTimer()
	for done := 0; done < b.N; done += g * chunk {
		for layer := range layerNames {
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
	b.ReportMetric(float64(took[len(took)-1])/float64(calls), "ns/op") // the client's time a call
	for layer := 1; layer < len(layerNames); layer++ {
		b.ReportMetric(float64(took[layer])/float64(took[0]), "x-"+layerNames[layer])
	}
}

// layerWorker is one goroutine of BenchmarkGetHostLayers, calling key (1, key).
type layerWorker struct {
	c    *Client
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

func newLayerWorker(b *testing.B, c *Client, key int32) *layerWorker {
	w := &layerWorker{c: c, key: key, p: PortIndex(1, key, len(c.ports)), buf: make([]byte, codec.MaxFrameSize+1)}
	dial := func() *net.UDPConn {
		conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(c.ports[w.p])})
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
	c.lanes[w.p].conn.SetReadDeadline(time.Now().Add(time.Hour)) // the lane layers do not arm it
	return w
}

// run makes n round trips of the given layer.
func (w *layerWorker) run(layer, n int) {
	ctx := context.Background()
	ln := &w.c.lanes[w.p]
	for range n {
		if w.err != nil {
			return
		}
		switch layerNames[layer] {
		case "bare":
			if _, err := w.bare.Write(w.req); err != nil {
				w.err = err
			} else if _, err := w.bare.Read(w.buf); err != nil {
				w.err = err
			}
		case "park":
			w.sent = false
			if err := w.raw.Read(w.park); err != nil {
				w.err = err
			}
		case "lane", "decode":
			n, err := ln.sr.readNext(w.req, true)
			if err == nil && ln.sr.sendErr != nil {
				err = ln.sr.sendErr
			}
			if err != nil {
				w.err = err
			} else if layerNames[layer] == "decode" {
				ln.r.datagram(n) // seq 1 is nobody's: decoded, matched, counted late
			}
		case "client":
			if _, err := w.c.GetHost(ctx, 1, w.key); err != nil {
				w.err = err
			}
		}
	}
}

// startAnswerer starts n goroutines answering get_host requests on ports of their own
// with a fixed host, until the benchmark ends, and returns the ports.
func startAnswerer(b *testing.B, n int) []uint16 {
	var ports []uint16
	for range n {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		ports = append(ports, uint16(conn.LocalAddr().(*net.UDPAddr).Port))
		go answerGetHost(conn)
	}
	return ports
}

// answerGetHost answers every get_host request read on conn until conn closes.
func answerGetHost(conn *net.UDPConn) {
	buf := make([]byte, codec.MaxFrameSize+1)
	out := make([]byte, 0, 64)
	var req pb.GetHostRequest
	resp := &pb.GetHostResponse{Host: &pb.HostInfo{Ip: 0x0a000001, Port: 9000}}
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		id, body, reason := codec.ParseDatagram(buf[:n])
		if reason != codec.ReasonOK || id != codec.MsgGetHostRequest {
			continue
		}
		req.ResetVT()
		if req.UnmarshalVT(body) != nil {
			continue
		}
		resp.Seq, resp.Modid, resp.Cmdid = req.Seq, req.Modid, req.Cmdid
		if out, err = codec.AppendFrame(out[:0], codec.MsgGetHostResponse, resp); err == nil {
			conn.WriteToUDPAddrPort(out, from)
		}
	}
}

package api_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/agenttest"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
)

// pairChunk is how many calls each goroutine makes before the other side of a pair
// takes its turn: chunks alternate so that the machine's drift hits both sides alike.
const pairChunk = 100

// pairGoroutines are the goroutine counts of the parallel pairs.
var pairGoroutines = []int{2, 8, 64}

// pairKeys is how many keys (1, k) the pairs call, spread over the agent's 3 ports.
const pairKeys = 3

// pair runs b.N GetHost calls of one shared client on g goroutines, alternating
// chunks with as many bare round trips (write a get_host request, read its answer) by
// g goroutines on a connected socket each, to the same agent ports for the same keys.
// It reports the client's sec/op (wall time per call: the inverse of calls per
// second) and x-roundtrip, the client's time over the bare round trips' for the same
// number of calls, measured in the same run.
func pair(b *testing.B, c *api.Client, ports []uint16, g int) {
	ws := make([]*pairWorker, g)
	for w := range ws {
		ws[w] = newPairWorker(b, c, ports, int32(w%pairKeys))
	}
	var wg sync.WaitGroup
	for _, w := range ws {
		go w.run(&wg)
	}
	defer func() {
		for _, w := range ws {
			close(w.start)
		}
	}()
	phase := func(bare bool, n int) time.Duration {
		start := time.Now()
		wg.Add(g)
		for i, w := range ws {
			w.start <- pairTurn{bare: bare, calls: n/g + boolInt(i < n%g)}
		}
		wg.Wait()
		return time.Since(start)
	}
	alternate(b, pairChunk*g, phase)
	for _, w := range ws {
		if w.err != nil {
			b.Fatal(w.err)
		}
	}
}

// alternate runs b.N client calls through phase as chunks of chunk calls, each chunk
// followed by as many bare round trips, outside the benchmark's timer (phase makes n
// calls, or n bare round trips, and returns the wall time they took), after a warm-up
// of a tenth of a chunk of each. It reports x-roundtrip, the client's time over the
// bare round trips' for the same number of calls, measured in the same run.
func alternate(b *testing.B, chunk int, phase func(bare bool, n int) time.Duration) {
	phase(false, chunk/10) // warm both sides: slots, timers, socket buffers
	phase(true, chunk/10)
	var client, bare time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(chunk, b.N-done)
		client += phase(false, n)
		b.StopTimer()
		bare += phase(true, n)
		b.StartTimer()
		done += n
	}
	b.StopTimer()
	b.ReportMetric(float64(client)/float64(bare), "x-roundtrip")
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

// pairTurn is one worker's share of a phase.
type pairTurn struct {
	bare  bool
	calls int
}

// pairWorker is one goroutine of a pair: GetHost on the shared client, or bare round
// trips on its own socket.
type pairWorker struct {
	c     *api.Client
	key   int32
	conn  *net.UDPConn
	req   []byte
	buf   []byte
	start chan pairTurn
	err   error
	host  api.Host // the last answer: the worker's own, so that the workers write no shared line
	_     [64]byte // keeps the next worker's fields off the line host is on
}

func newPairWorker(b *testing.B, c *api.Client, ports []uint16, key int32) *pairWorker {
	port := ports[api.PortIndex(1, key, len(ports))]
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(port)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	conn.SetReadDeadline(time.Now().Add(time.Hour)) // once: a lost answer fails, never hangs
	req, err := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: 1, Modid: 1, Cmdid: key})
	if err != nil {
		b.Fatal(err)
	}
	return &pairWorker{c: c, key: key, conn: conn, req: req, buf: make([]byte, codec.MaxFrameSize+1),
		start: make(chan pairTurn)}
}

// run serves turns until start closes.
func (w *pairWorker) run(wg *sync.WaitGroup) {
	ctx := context.Background()
	for t := range w.start {
		for range t.calls {
			if w.err != nil {
				break
			}
			if t.bare {
				if _, err := w.conn.Write(w.req); err != nil {
					w.err = err
				} else if _, err := w.conn.Read(w.buf); err != nil {
					w.err = err
				}
				continue
			}
			h, err := w.c.GetHost(ctx, 1, w.key)
			if err != nil {
				w.err = fmt.Errorf("GetHost(1, %d): %w", w.key, err)
			}
			w.host = h
		}
		wg.Done()
	}
}

// pairBench runs the single-caller pair and the parallel pairs against one agent.
func pairBench(b *testing.B, ports []uint16) {
	c := newClient(b, api.Config{Ports: ports, Timeout: patience})
	b.Run("g=1", func(b *testing.B) { pair(b, c, ports, 1) })
	for _, g := range pairGoroutines {
		b.Run(fmt.Sprintf("g=%d", g), func(b *testing.B) { pair(b, c, ports, g) })
	}
}

// BenchmarkGetHostVsRoundTrip is GetHost against bare round trips of the same
// datagrams to the fake agent: one caller (g=1), then 2, 8 and 64 goroutines sharing
// one client against as many with a socket each.
func BenchmarkGetHostVsRoundTrip(b *testing.B) {
	a := startAgent(b)
	for k := range int32(pairKeys) {
		a.SetRoute(1, k, hostFor(1, k))
	}
	pairBench(b, a.Config().Ports)
}

// BenchmarkRealAgentGetHostVsRoundTrip is BenchmarkGetHostVsRoundTrip against the real
// agent.
func BenchmarkRealAgentGetHostVsRoundTrip(b *testing.B) {
	routes := map[route.Key][]route.Host{}
	for k := range int32(pairKeys) {
		routes[route.Key{Modid: 1, Cmdid: k}] = []route.Host{route.FromWire(10<<24|1, 9000+k)}
	}
	_, ports := agenttest.Start(b, routes, 3)
	pairBench(b, ports)
}

// BenchmarkAgentProcessGetHostVsRoundTrip is BenchmarkGetHostVsRoundTrip against
// lars-agent in a process of its own, as business code meets it in production: with
// its defaults (blocking reads, GOMAXPROCS raised for them, a socket per port and P).
func BenchmarkAgentProcessGetHostVsRoundTrip(b *testing.B) {
	proctest.Build(b, "lars-agent")
	var routes strings.Builder
	for k := range int32(pairKeys) {
		fmt.Fprintf(&routes, "1 %d 10.0.0.1 %d\n", k, 9000+k)
	}
	file := filepath.Join(b.TempDir(), "routes.txt")
	if err := os.WriteFile(file, []byte(routes.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	ports := make([]uint16, 3)
	names := make([]string, len(ports))
	for i := range ports {
		ports[i] = uint16(proctest.FreePort(b, "udp"))
		names[i] = fmt.Sprint(ports[i])
	}
	proctest.Start(b, "lars-agent", "-routes", file, "-ports", strings.Join(names, ","))
	probe := newClient(b, api.Config{Ports: ports, Timeout: 100 * time.Millisecond})
	proctest.Eventually(b, patience, "lars-agent answering on every port", func() (bool, string) {
		for k := range int32(pairKeys) {
			if _, err := probe.GetHost(context.Background(), 1, k); err != nil {
				return false, err.Error()
			}
		}
		return true, ""
	})
	pairBench(b, ports)
}

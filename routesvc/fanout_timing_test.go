package routesvc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
)

// The fan-out benchmark runs its agents in a second process (this test binary again,
// told so by envFanoutChild): 10,000 connections need 20,000 descriptors, more than
// one process may open here.
const envFanoutChild = "LARS_ROUTESVC_FANOUT_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(envFanoutChild); spec != "" {
		os.Exit(fanoutChild(spec))
	}
	os.Exit(m.Run())
}

// BenchmarkPushFanout: one change to a key subscribed by N connections, from the
// change being applied to the last connection having read it (ns/op; agents and
// service share the CPUs); and
// x-baseline, ns/op over a plain loop writing the same frame to every socket in the
// same run (baseline-ns/op). The
// connections also subscribe to keysPerConn-1 other keys, and the benchmark reports
// the service's heap per subscription (B/sub) beyond what the same connections cost
// with none.
func BenchmarkPushFanout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) { benchFanout(b, n, 100) })
	}
}

func benchFanout(b *testing.B, conns, keysPerConn int) {
	svc := startService(b, nopStore{}, Config{})
	key := route.Key{Modid: 1, Cmdid: 0}
	svc.table.set(key, manyHosts(10, 1))

	heapNoSubs := -1.0
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d,%d", envFanoutChild, svc.Addr(), conns, keysPerConn))
	child.Stderr = os.Stderr
	in, _ := child.StdinPipe()
	out, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		in.Close()
		child.Wait()
	}()
	lines := bufio.NewScanner(out)
	expect := func(prefix string) string {
		if !lines.Scan() {
			b.Fatalf("agent process ended while waiting for %q: %v", prefix, lines.Err())
		}
		if !strings.HasPrefix(lines.Text(), prefix) {
			b.Fatalf("agent process said %q, want %q", lines.Text(), prefix)
		}
		return strings.TrimPrefix(lines.Text(), prefix)
	}
	expect("connected")
	waitUntil(b, time.Minute, "connections accepted", func() bool { return svc.Stats().Connections == int64(conns) })
	heapNoSubs = heapInUse()
	fmt.Fprintln(in, "subscribe")
	expect("subscribed")
	subs := svc.Stats().Subscriptions
	if subs != int64(conns*keysPerConn) {
		b.Fatalf("%d subscriptions, want %d", subs, conns*keysPerConn)
	}
	perSub := (heapInUse() - heapNoSubs) / float64(subs)

	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		hosts := manyHosts(10, int32(i+2))
		start := time.Now()
		svc.table.set(key, hosts)
		last, err := strconv.ParseInt(expect("received "), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Unix(0, last).Sub(start)
	}
	b.StopTimer()
	// The baseline: the same frames written by one loop straight to every socket, no
	// table, queue or writer goroutine; the least a fan-out costs on this machine.
	ncs := svc.server.Conns()
	for _, nc := range ncs {
		nc.SetWriteDeadline(time.Time{}) // the service's, set for its own writes
	}
	e := svc.table.get(key, false)
	frame := e.r.frame
	e.mu.Unlock()
	var baseline time.Duration
	for range b.N {
		start := time.Now()
		for _, nc := range ncs {
			if _, err := nc.Write(frame); err != nil {
				b.Fatal(err)
			}
		}
		last, err := strconv.ParseInt(expect("received "), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		baseline += time.Unix(0, last).Sub(start)
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(baseline.Nanoseconds())/float64(b.N), "baseline-ns/op")
	b.ReportMetric(float64(total)/float64(baseline), "x-baseline")
	b.ReportMetric(perSub, "B/sub")
	if st := svc.Stats(); st.SlowClosed != 0 {
		b.Fatalf("%d connections closed as slow", st.SlowClosed)
	}
}

// heapInUse returns the live heap after a full collection.
func heapInUse() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc)
}

// fanoutChild is the agent process of BenchmarkPushFanout: spec is "addr,conns,keys".
// It connects, says "connected"; on "subscribe" every connection pulls key (1, 0) and
// keys-1 more and reads their answers, then it says "subscribed"; after that, each time
// every connection has read one more push of key (1, 0), it says "received T", T the
// Unix time in nanoseconds of the last read. It ends when its input closes.
func fanoutChild(spec string) int {
	parts := strings.Split(spec, ",")
	conns, _ := strconv.Atoi(parts[1])
	keys, _ := strconv.Atoi(parts[2])
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", parts[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "fanout agent:", err)
			return 1
		}
		cs[i] = c
	}
	fmt.Println("connected")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() {
		return 0
	}
	var (
		subscribed sync.WaitGroup
		mu         sync.Mutex
		round      = map[int]int{} // push number -> connections that read it
		lastAt     = map[int]int64{}
		received   = make(chan int64, 1024)
	)
	subscribed.Add(conns)
	for _, c := range cs {
		go func() {
			var req larspb.GetRouteRequest
			var frames []byte
			for k := range keys {
				req.Modid, req.Cmdid = 1, int32(k)
				frames, _ = codec.AppendFrame(frames, codec.MsgGetRouteRequest, &req)
			}
			c.Write(frames)
			sr := codec.NewStreamReader(c, 0)
			for range keys {
				if _, _, err := sr.Next(); err != nil {
					fmt.Fprintln(os.Stderr, "fanout agent:", err)
					os.Exit(1)
				}
			}
			subscribed.Done()
			for n := 1; ; n++ {
				if _, _, err := sr.Next(); err != nil {
					return
				}
				now := time.Now().UnixNano()
				mu.Lock()
				round[n]++
				lastAt[n] = max(lastAt[n], now)
				if round[n] == conns {
					received <- lastAt[n]
					delete(round, n)
					delete(lastAt, n)
				}
				mu.Unlock()
			}
		}()
	}
	subscribed.Wait()
	fmt.Println("subscribed")
	go func() {
		for t := range received {
			fmt.Printf("received %d\n", t)
		}
	}()
	io.Copy(io.Discard, os.Stdin) // until the benchmark closes our input
	for _, c := range cs {
		c.Close()
	}
	return 0
}

// BenchmarkPulls: agents pulling over many connections, each one pull at a time,
// against the service answering from its table and against a trivial responder that
// writes the same frame back for every request it reads; both in this run. It reports
// answers/s, CPU per answer (the whole process: agents included, alike for both) and
// x-trivial, the service's rate over the responder's.
func BenchmarkPulls(b *testing.B) {
	const conns = 64
	svc := startService(b, nopStore{}, Config{})
	for k := range int32(conns) {
		svc.table.set(route.Key{Modid: 2, Cmdid: k}, manyHosts(10, 1))
	}
	r, _ := newRoute(route.Key{Modid: 2, Cmdid: 0}, manyHosts(10, 1))
	trivial := startTrivialResponder(b, r.frame)
	rounds := max(b.N/conns, 1)
	svcRate, svcCPU := pullLoad(b, svc.Addr().String(), conns, rounds)
	trivRate, trivCPU := pullLoad(b, trivial, conns, rounds)
	b.ReportMetric(svcRate, "answers/s")
	b.ReportMetric(svcCPU, "cpu-ns/answer")
	b.ReportMetric(trivRate, "trivial-answers/s")
	b.ReportMetric(trivCPU, "trivial-cpu-ns/answer")
	b.ReportMetric(svcRate/trivRate, "x-trivial")
}

// pullLoad runs conns connections that each pull rounds times, one pull in flight, and
// returns the answers per second and process CPU nanoseconds per answer.
func pullLoad(b *testing.B, addr string, conns, rounds int) (rate, cpuPerAnswer float64) {
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		cs[i] = c
	}
	var answers atomic.Int64
	var wg sync.WaitGroup
	cpu0 := proctest.ProcessCPU()
	start := time.Now()
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := larspb.GetRouteRequest{Modid: 2, Cmdid: int32(i)}
			frame, _ := codec.AppendFrame(nil, codec.MsgGetRouteRequest, &req)
			sr := codec.NewStreamReader(c, 0)
			for range rounds {
				if _, err := c.Write(frame); err != nil {
					return
				}
				if _, _, err := sr.Next(); err != nil {
					return
				}
				answers.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := proctest.ProcessCPU() - cpu0
	n := answers.Load()
	if n != int64(conns*rounds) {
		b.Fatalf("%d answers, want %d", n, conns*rounds)
	}
	return float64(n) / elapsed.Seconds(), float64(cpu.Nanoseconds()) / float64(n)
}

// startTrivialResponder answers every frame it reads on a connection with frame: the
// least any route service can do per pull.
func startTrivialResponder(b *testing.B, frame []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReaderSize(c, readBufferSize)
				for {
					_, size, err := readHeader(br)
					if err != nil {
						return
					}
					br.Discard(size)
					if _, err := c.Write(frame); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

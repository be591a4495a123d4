package benchmarks

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
)

// measurement is what one server did for one run of a workload.
type measurement struct {
	rate      float64       // requests per second
	cpuPerReq time.Duration // server process CPU time per request
	allocs    float64       // server heap allocations per request (agent only)
	lost      int           // answers that never came
}

// run is one server's side of a comparison: its client and its running totals.
type run struct {
	s       *server
	c       *batchClient
	answers int
	reqs    int
	elapsed time.Duration
	cpu     time.Duration
	mallocs uint64
	lost    int
}

func newRun(tb testing.TB, s *server, w workload, answers int) *run {
	tb.Helper()
	c, err := newBatchClient(s.addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.close)
	c.load(w.frames)
	if _, _, err := c.rounds(20*batchSize, answers); err != nil { // warm-up
		tb.Fatal(err)
	}
	return &run{s: s, c: c, answers: answers}
}

// chunk drives n more requests and adds their time, CPU and allocations.
func (r *run) chunk(tb testing.TB, n int) {
	tb.Helper()
	cpu0, err := r.s.cpuTime()
	if err != nil {
		tb.Fatal(err)
	}
	m0 := r.scrape()
	start := time.Now()
	_, lost, err := r.c.rounds(n, r.answers)
	if err != nil {
		tb.Fatal(err)
	}
	r.elapsed += time.Since(start)
	cpu1, _ := r.s.cpuTime()
	if m1 := r.scrape(); r.s.admin != "" {
		// The scrape allocates too: take off what one more scrape costs.
		m2 := r.scrape()
		if traffic, scrape := m1-m0, m2-m1; traffic > scrape {
			r.mallocs += traffic - scrape
		}
	}
	r.cpu += cpu1 - cpu0
	r.reqs += (n + batchSize - 1) / batchSize * batchSize
	r.lost += lost
}

// scrape reads the agent's allocation count; 0 for the echo server.
func (r *run) scrape() uint64 {
	if r.s.admin == "" {
		return 0
	}
	m, _ := r.s.mallocs()
	return m
}

func (r *run) result() measurement {
	return measurement{rate: float64(r.reqs) / r.elapsed.Seconds(), cpuPerReq: r.cpu / time.Duration(r.reqs),
		allocs: float64(r.mallocs) / float64(r.reqs), lost: r.lost}
}

// compareChunks is how many alternating chunks a comparison is cut into, so that the
// machine's drift during a run affects the agent and the echo alike.
const compareChunks = 4

// compare drives n requests of w at the agent (timed) and n at the echo (untimed), in
// alternating chunks.
func compare(b *testing.B, agent, echo *server, w workload, n int) (a, e measurement) {
	b.StopTimer()
	ar, er := newRun(b, agent, w, w.agentAnswers), newRun(b, echo, w, batchSize)
	per := max(n/compareChunks, batchSize)
	for range compareChunks {
		er.chunk(b, per)
		b.StartTimer()
		ar.chunk(b, per)
		b.StopTimer()
	}
	return ar.result(), er.result()
}

func servers(tb testing.TB) (agent, echo *server) {
	tb.Helper()
	agent, err := agentOnce()
	if err != nil {
		tb.Fatal(err)
	}
	echo, err = echoOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return agent, echo
}

// BenchmarkE2E runs every workload against the echo baseline (untimed) and the agent
// (timed) with the same batched client and the same n, and reports both rates, the
// ratio, CPU per request of both server processes and the agent's allocations.
func BenchmarkE2E(b *testing.B) {
	for _, w := range workloads() {
		b.Run(w.name, func(b *testing.B) {
			agent, echo := servers(b)
			a, e := compare(b, agent, echo, w, b.N)
			report(b, a, e)
		})
	}
}

func report(b *testing.B, a, e measurement) {
	b.ReportMetric(a.rate, "req/s")
	b.ReportMetric(e.rate, "echo-req/s")
	b.ReportMetric(a.rate/e.rate, "x-echo-rate")
	b.ReportMetric(float64(a.cpuPerReq.Nanoseconds()), "cpu-ns/req")
	b.ReportMetric(float64(e.cpuPerReq.Nanoseconds()), "echo-cpu-ns/req")
	if e.cpuPerReq > 0 {
		b.ReportMetric(float64(a.cpuPerReq)/float64(e.cpuPerReq), "x-echo-cpu")
	}
	b.ReportMetric(a.allocs, "allocs/req")
	b.ReportMetric(float64(a.lost+e.lost), "lost")
}

// syncClients is the number of synchronous clients of BenchmarkSyncClients, as in
// Lars's own test client.
const syncClients = 10

// syncPairs has syncClients goroutines each do get_host, wait up to wait for the
// answer, then report, pairs times in all, and returns pairs per second and lost
// answers.
func syncPairs(tb testing.TB, s *server, pairs int, wait time.Duration) (rate float64, lost int) {
	tb.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	per := (pairs + syncClients - 1) / syncClients
	start := time.Now()
	for g := range syncClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := syncClient(s.addr, uint32(g)<<24, per, wait)
			if err != nil {
				tb.Error(err)
			}
			mu.Lock()
			lost += l
			mu.Unlock()
		}()
	}
	wg.Wait()
	return float64(per*syncClients) / time.Since(start).Seconds(), lost
}

// syncClient runs one synchronous client: get_host, wait (up to wait), report; n
// times.
func syncClient(addr string, seqBase uint32, n int, wait time.Duration) (lost int, err error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	rep := reportFrame(1, 1, host10, 8000, 0)
	req := getHostFrame(seqBase, 1, 1)
	for range n {
		if _, err := c.Write(req); err != nil {
			return lost, err
		}
		c.SetReadDeadline(time.Now().Add(wait))
		for {
			k, err := c.Read(buf)
			if err != nil {
				lost++
				break
			}
			// The echo server returns the reports too: skip them.
			if id, _, r := codec.ParseDatagram(buf[:k]); r == codec.ReasonOK && id != codec.MsgReportRequest {
				break
			}
		}
		if _, err := c.Write(rep); err != nil {
			return lost, err
		}
	}
	return lost, nil
}

// BenchmarkSyncClients: get_host + report pairs from 10 synchronous clients (one
// request in flight each), agent (timed) against echo (untimed), same n.
func BenchmarkSyncClients(b *testing.B) {
	agent, echo := servers(b)
	n := max(b.N, syncClients)
	syncPairs(b, agent, 200, roundWait) // warm-up
	syncPairs(b, echo, 200, roundWait)
	b.StopTimer()
	ecpu0, _ := echo.cpuTime()
	erate, elost := syncPairs(b, echo, n, roundWait)
	ecpu1, _ := echo.cpuTime()
	b.StartTimer()
	acpu0, _ := agent.cpuTime()
	arate, alost := syncPairs(b, agent, n, roundWait)
	acpu1, _ := agent.cpuTime()
	b.StopTimer()
	reqs := time.Duration(n * 2)
	report(b, measurement{rate: arate, cpuPerReq: (acpu1 - acpu0) / reqs, lost: alost},
		measurement{rate: erate, cpuPerReq: (ecpu1 - ecpu0) / reqs, lost: elost})
}

// TestServersStart checks that the benchmark servers build, start and answer, so a
// broken benchmark setup fails make test and not only make bench. Its clients wait
// for answers with patience: on a busy machine a slow answer is not a lost one.
func TestServersStart(t *testing.T) {
	agent, echo := servers(t)
	for _, w := range workloads() {
		ar, er := newRun(t, agent, w, w.agentAnswers), newRun(t, echo, w, batchSize)
		ar.c.wait, er.c.wait = patience, patience
		ar.chunk(t, 10*batchSize)
		er.chunk(t, 10*batchSize)
		a, e := ar.result(), er.result()
		if a.lost > 0 || e.lost > 0 {
			t.Errorf("%s: lost %d answers from the agent, %d from the echo", w.name, a.lost, e.lost)
		}
		if a.rate <= 0 || e.rate <= 0 {
			t.Errorf("%s: rates %v and %v", w.name, a.rate, e.rate)
		}
	}
	if _, lost := syncPairs(t, agent, 100, patience); lost > 0 {
		t.Errorf("sync clients lost %d answers", lost)
	}
	if _, err := agent.mallocs(); err != nil {
		t.Error(err)
	}
	if cpu, err := agent.cpuTime(); err != nil || cpu <= 0 {
		t.Errorf("agent cpu time %v, %v", cpu, err)
	}
}

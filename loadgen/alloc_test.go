//go:build !race

package loadgen

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/alloctest"
)

// TestSendReceiveAllocs drives the per-request bookkeeping of a run by hand, in one
// goroutine, against the echo server: drawing and encoding requests, issuing ring
// slots, sendmmsg, recvmmsg, decoding and matching answers, recording latencies and
// counts, reports after get_host, and timeouts. None of it may allocate.
func TestSendReceiveAllocs(t *testing.T) {
	r, l := newOneLaneRunner(t, Config{ReportFail: 0.5})
	s, err := newSender(r)
	if err != nil {
		t.Fatal(err)
	}
	defer s.pacer.close()
	l.conn.UDPConn().SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound for a stalled machine
	round := func() {
		now := r.now()
		for range 16 {
			if !s.emit(now) {
				t.Fatal("ring full")
			}
		}
		s.flushAll()
		got := 0
		for got < 16 {
			n, err := l.conn.ReadBatch(l.in)
			if err != nil {
				t.Fatal(err)
			}
			l.handleBatch(n, r.now())
			got += n
		}
		s.sweep(r.now())
	}
	round()
	alloctest.Zero(t, "a round of 16 requests", 200, round)
	var tl tally
	tl.addCounters(&r.sc)
	tl.addCounters(&l.c)
	if tl[phaseMeasured][fReceived] == 0 || tl[phaseMeasured][fSent+int(KindReport)] == 0 || tl[phaseMeasured][fMalformed] != 0 {
		t.Errorf("counts %v: want answers and reports, nothing malformed", tl[phaseMeasured])
	}
}

// TestDrivenLoopAllocs drives one socket's own closed-loop window by hand against the
// echo server: refilling the window (drawing keys of its port, encoding, issuing,
// sendmmsg), reading and matching the answers, and expiring its own requests. None of
// it may allocate.
func TestDrivenLoopAllocs(t *testing.T) {
	r, l := newOneLaneRunner(t, Config{Concurrency: 16})
	r.driven = true
	l.startDrive(16, 1<<62)
	l.conn.UDPConn().SetReadDeadline(time.Now().Add(30 * time.Second)) // a bound for a stalled machine
	round := func() {
		l.refill(r.now())
		for l.drive.inflight > 0 {
			n, err := l.conn.ReadBatch(l.in)
			if err != nil {
				t.Fatal(err)
			}
			l.drive.inflight -= l.handleBatch(n, r.now())
		}
		l.drive.inflight -= l.expireOwn(r.now())
	}
	round()
	alloctest.Zero(t, "a round of the window", 200, round)
	var tl tally
	tl.addCounters(&l.c)
	if tl[phaseMeasured][fReceived] == 0 || tl[phaseMeasured][fSent+int(KindReport)] == 0 || tl[phaseMeasured][fMalformed] != 0 {
		t.Errorf("counts %v: want answers and reports, nothing malformed", tl[phaseMeasured])
	}
}

// newOneLaneRunner returns a runner with one socket against a fresh echo server, set up
// by hand as Run would, for tests that drive its per-request steps themselves: cfg
// with the echo's port, batches of 16, a get_host/get_route/report mix of 8/1/1 over
// modids 1-100 drawn zipf. The socket is closed when the test ends.
func newOneLaneRunner(t *testing.T, cfg Config) (*runner, *lane) {
	t.Helper()
	srv := startEcho(t)
	cfg.Ports, cfg.Echo, cfg.Batch = []int{int(srv.Addr().Port())}, true, 16
	cfg.Mix = Mix{KindGetHost: 8, KindGetRoute: 1, KindReport: 1}
	cfg.Modids, cfg.Spread = Range{1, 100}, Zipf
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: cfg, doorbell: make(chan struct{}, 1), start: time.Now(), mix: newMixTable(cfg.Mix)}
	r.keys = newKeySpace(&r.cfg, nil)
	r.hosts = make([]atomic.Uint64, r.keys.n)
	l, err := newLane(r, 0, 0, 1024)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	r.lanes = []*lane{l}
	r.byPort = [][]*lane{{l}}
	return r, l
}

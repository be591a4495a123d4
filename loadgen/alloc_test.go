//go:build !race

package loadgen

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestSendReceiveAllocs drives the per-request bookkeeping of a run by hand, in one
// goroutine, against the echo server: drawing and encoding requests, issuing ring
// slots, sendmmsg, recvmmsg, decoding and matching answers, recording latencies and
// counts, reports after get_host, and timeouts. None of it may allocate.
func TestSendReceiveAllocs(t *testing.T) {
	srv := startEcho(t)
	cfg, err := Config{Ports: []int{int(srv.Addr().Port())}, Echo: true, Batch: 16, ReportFail: 0.5,
		Mix: Mix{KindGetHost: 8, KindGetRoute: 1, KindReport: 1}, Modids: Range{1, 100}, Spread: Zipf}.withDefaults()
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
	defer l.close()
	r.lanes = []*lane{l}
	r.byPort = [][]*lane{{l}}
	s, err := newSender(r)
	if err != nil {
		t.Fatal(err)
	}
	defer s.pacer.close()
	l.conn.UDPConn().SetReadDeadline(time.Now().Add(10 * time.Second))
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
	if a := testing.AllocsPerRun(200, round); a != 0 {
		t.Errorf("a round of 16 requests: %v allocations, want 0", a)
	}
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
	srv := startEcho(t)
	cfg, err := Config{Ports: []int{int(srv.Addr().Port())}, Echo: true, Batch: 16, Concurrency: 16,
		Mix: Mix{KindGetHost: 8, KindGetRoute: 1, KindReport: 1}, Modids: Range{1, 100}, Spread: Zipf}.withDefaults()
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
	defer l.close()
	r.lanes = []*lane{l}
	r.byPort = [][]*lane{{l}}
	r.driven = true
	l.startDrive(16, 1<<62)
	l.conn.UDPConn().SetReadDeadline(time.Now().Add(10 * time.Second))
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
	if a := testing.AllocsPerRun(200, round); a != 0 {
		t.Errorf("a round of the window: %v allocations, want 0", a)
	}
	var tl tally
	tl.addCounters(&l.c)
	if tl[phaseMeasured][fReceived] == 0 || tl[phaseMeasured][fSent+int(KindReport)] == 0 || tl[phaseMeasured][fMalformed] != 0 {
		t.Errorf("counts %v: want answers and reports, nothing malformed", tl[phaseMeasured])
	}
}

//go:build !race

package reportsvc

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// TestReportIntoQueueZeroAlloc: decoding an agent's report of 10 hosts whose rows are
// queued already (the steady state between two writes) replaces them without
// allocating.
func TestReportIntoQueueZeroAlloc(t *testing.T) {
	svc, err := New(Config{Store: nopStore{}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(svc, a)
	results := make([]result, 10)
	for i := range results {
		results[i] = result{ip1 + int32(i), 80, 100, 3, i == 0}
	}
	frame := reportFrame(t, 10, 1, caller1, tsReport, results...)
	body := frame[codec.HeaderSize:]
	if err := c.handle(codec.MsgReportStatusRequest, body); err != nil { // the rows join the queue
		t.Fatal(err)
	}
	alloctest.Zero(t, "report into the queue", 1000, func() {
		if err := c.handle(codec.MsgReportStatusRequest, body); err != nil {
			t.Fatal(err)
		}
	})
	if st := svc.Stats(); st.QueueRows != 10 || st.Coalesced < 10*1000 {
		t.Fatalf("stats %+v: want 10 rows queued, every later result coalesced", st)
	}
}

// TestKnownKeyFilterZeroAlloc: with the known-key filter loaded, a report for a known
// key whose rows are queued and a report for an unknown key (dropped) allocate nothing.
func TestKnownKeyFilterZeroAlloc(t *testing.T) {
	src := &fakeKeys{keys: []route.Key{{Modid: 10, Cmdid: 1}}}
	svc, err := New(Config{Store: src, KnownKeysRefresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.known.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := newConn(svc, a)
	known := reportFrame(t, 10, 1, caller1, tsReport, result{ip1, 80, 100, 3, false})[codec.HeaderSize:]
	unknown := reportFrame(t, 11, 1, caller1, tsReport, result{ip1, 80, 100, 3, false})[codec.HeaderSize:]
	if err := c.handle(codec.MsgReportStatusRequest, known); err != nil {
		t.Fatal(err)
	}
	alloctest.Zero(t, "known and unknown key reports", 1000, func() {
		if err := c.handle(codec.MsgReportStatusRequest, known); err != nil {
			t.Fatal(err)
		}
		if err := c.handle(codec.MsgReportStatusRequest, unknown); err != nil {
			t.Fatal(err)
		}
	})
	if st := svc.Stats(); st.QueueRows != 1 || st.DroppedUnknownKey < 1000 {
		t.Fatalf("stats %+v: want 1 row queued, every unknown report dropped", st)
	}
}

// TestQueuePushTakeZeroAlloc: in the steady state where a writer takes the rows and
// the agents report them again (new rows each time, owners coming and going), the
// queue allocates nothing; nor does a full queue dropping rows fairly.
func TestQueuePushTakeZeroAlloc(t *testing.T) {
	s := newShard(64)
	rows := make([]store.CallStatus, 10)
	for i := range rows {
		rows[i] = row(int32(i), 1)
	}
	batch := make([]store.CallStatus, 0, 64)
	cycle := func() {
		for i := range rows {
			s.push(&rows[i], owner(1+i%3))
		}
		batch = s.take(batch[:0], 64)
	}
	cycle()
	alloctest.Zero(t, "push and take", 1000, cycle)
	for ip := range int32(64) {
		r := row(1000+ip, 1)
		s.push(&r, 1)
	}
	flood := make([]store.CallStatus, 128) // twice the bound: every push drops a row
	for i := range flood {
		flood[i] = row(int32(2000+i), 1)
	}
	alloctest.Zero(t, "pushes into a full queue", 100, func() {
		for i := range flood {
			if res := s.push(&flood[i], 2); res != pushDroppedOwn && res != pushDroppedHeaviest {
				t.Fatalf("push into the full queue = %v", res)
			}
		}
	})
}

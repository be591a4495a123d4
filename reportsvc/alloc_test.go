//go:build !race

package reportsvc

import (
	"net"
	"testing"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/alloctest"
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

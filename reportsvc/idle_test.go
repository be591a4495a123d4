package reportsvc

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSilentConnectionsClosed: with an idle timeout, a connection that sends nothing,
// and one that stops after a report, are closed and counted, while a connection that
// keeps reporting stays open and its rows are still written.
func TestSilentConnectionsClosed(t *testing.T) {
	svc := startService(t, nopStore{}, Config{IdleTimeout: 400 * time.Millisecond})
	silent, quiet, busy := dial(t, svc.Service), dial(t, svc.Service), dial(t, svc.Service)
	quiet.report(1, 1, caller1, tsReport, result{ip1, 80, 1, 0, false})
	stop := make(chan struct{})
	sent := make(chan int)
	go func() { // busy reports every few milliseconds until told to stop
		n := 0
		for {
			select {
			case <-stop:
				sent <- n
				return
			case <-time.After(5 * time.Millisecond):
			}
			if _, err := busy.nc.Write(reportFrame(t, 1, 1, caller2, tsReport, result{ip1, 80, uint32(n), 0, false})); err != nil {
				sent <- -1
				return
			}
			n++
		}
	}()
	if !silent.closedWithin(settle) || !quiet.closedWithin(settle) {
		t.Fatalf("silent connections still open: %+v", svc.Stats())
	}
	close(stop)
	n := <-sent
	if n < 0 {
		t.Fatal("the reporting connection was closed")
	}
	waitUntil(t, settle, "idle closes counted", func() bool {
		st := svc.Stats()
		return st.IdleClosed == 2 && st.Connections == 1 && st.Frames == uint64(n)+1
	})
	var m bytes.Buffer
	svc.WriteMetrics(&m)
	for _, want := range []string{`lars_reporter_connections_closed_total{cause="idle"} 2`,
		`lars_reporter_connections_closed_total{cause="evicted"} 0`, `lars_reporter_connections_closed_total{cause="refused"} 0`} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestNoIdleTimeoutKeepsSilentConnections: a negative IdleTimeout never closes a
// connection for silence; the test checks that none was closed after several would-be
// deadlines of a short timeout elsewhere.
func TestNoIdleTimeoutKeepsSilentConnections(t *testing.T) {
	never := startService(t, nopStore{}, Config{IdleTimeout: -1})
	short := startService(t, nopStore{}, Config{IdleTimeout: 100 * time.Millisecond})
	kept, closed := dial(t, never.Service), dial(t, short.Service)
	if !closed.closedWithin(settle) {
		t.Fatal("the connection to the service with a short idle timeout stayed open")
	}
	if kept.closedWithin(300 * time.Millisecond) { // 3 deadlines of the short timeout
		t.Fatal("a silent connection was closed with no idle timeout")
	}
	if st := never.Stats(); st.IdleClosed != 0 || st.Connections != 1 {
		t.Fatalf("stats %+v", st)
	}
}

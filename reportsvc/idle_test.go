package reportsvc

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestSilentConnectionsClosed: with an idle timeout, connections that send nothing are
// closed and counted, while one that has reported stays open however quiet it falls
// (an agent reports only while its callers call) and its next report is still taken.
func TestSilentConnectionsClosed(t *testing.T) {
	svc := startService(t, nopStore{}, Config{IdleTimeout: time.Second}) // a stall under a second cannot close quiet before its report
	silent, quiet := dial(t, svc.Service), dial(t, svc.Service)
	quiet.report(1, 1, caller1, tsReport, result{ip1, 80, 1, 0, false})
	waitUntil(t, settle, "the report read", func() bool { return svc.Stats().Frames == 1 })
	// Dialed after the report: when it is closed, quiet has been silent longer.
	late := dial(t, svc.Service)
	if !silent.closedWithin(settle) || !late.closedWithin(settle) {
		t.Fatalf("silent connections still open: %+v", svc.Stats())
	}
	quiet.report(1, 1, caller1, tsReport, result{ip1, 80, 2, 0, false})
	waitUntil(t, settle, "idle closes counted, the quiet connection's report read", func() bool {
		st := svc.Stats()
		return st.IdleClosed == 2 && st.Connections == 1 && st.Frames == 2
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

package reportsvc

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/store"
)

// settle bounds every wait of these tests for something that must happen (results
// read or written, a connection closed, Run returning): on a working build each comes
// in milliseconds, and the bound is far beyond that, so that a machine stalled for
// seconds never reaches it. A passing test never waits it out.
const settle = 30 * time.Second

// Wire IPs: 10.0.0.1, 10.0.0.2, and 200.0.0.9 (negative as an int32).
const (
	ip1      int32 = 0x0a000001
	ip2      int32 = 0x0a000002
	ipHigh         = int32(-938475511) // 200.0.0.9
	caller1  int32 = 0x7f000001
	caller2  int32 = 0x0a000101
	caller3  int32 = 0x0a000102
	tsReport       = 1700000000
)

func TestUpsertsKeepTheLatestCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		svc := startService(t, db, Config{})
		a := dial(t, svc.Service)
		a.report(1, 2, caller1, tsReport, result{ip1, 80, 10, 1, false}, result{ipHigh, 9000, 0, 20, true})
		waitUntil(t, settle, "two rows written", func() bool { return svc.Stats().RowsWritten == 2 })
		a.report(1, 2, caller1, tsReport+1, result{ip1, 80, 3, 0, false}, result{ipHigh, 9000, 5, 0, false})
		// A frame is counted once its rows are queued, so its rows may be written
		// before it is counted: both are awaited.
		waitUntil(t, settle, "the second report written", func() bool {
			st := svc.Stats()
			return st.RowsWritten == 4 && st.Frames == 2
		})
		want := []storedRow{
			{1, 2, 0x0a000001, 80, 0x7f000001, 3, 0, tsReport + 1, "0"},
			{1, 2, 3356491785, 9000, 0x7f000001, 5, 0, tsReport + 1, "0"},
		}
		if got := rows(t, db); !slices.Equal(got, want) {
			t.Fatalf("rows\n got %v\nwant %v", got, want)
		}
		st := svc.Stats()
		// Each report's two rows are one batch, or two when they belong to both workers.
		if st.Frames != 2 || st.Results != 4 || st.Batches < 2 || st.Batches > 4 || st.Dropped() != 0 || st.DBErrors != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestReportWithoutTsIsStampedWhenRead(t *testing.T) {
	db := openStore(t, storetest.SQLiteDSN(t))
	now := time.Unix(1800000000, 0)
	svc := startService(t, db, Config{Now: func() time.Time { return now }})
	dial(t, svc.Service).report(1, 1, caller1, 0, result{ip1, 80, 1, 0, true})
	waitUntil(t, settle, "row written", func() bool { return svc.Stats().RowsWritten == 1 })
	if got := rows(t, db); len(got) != 1 || got[0].TS != now.Unix() || got[0].Overload != "1" {
		t.Fatalf("rows %v, want ts %d and overload 1", got, now.Unix())
	}
}

func TestSeveralAgentsOnOneKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		svc := startService(t, db, Config{})
		for i, caller := range []int32{caller1, caller2, caller3} {
			dial(t, svc.Service).report(5, 5, caller, tsReport, result{ip1, 80, uint32(10 * (i + 1)), uint32(i), i == 2})
		}
		waitUntil(t, settle, "three rows written", func() bool { return svc.Stats().RowsWritten == 3 })
		want := []storedRow{
			{5, 5, 0x0a000001, 80, 0x0a000101, 20, 1, tsReport, "0"},
			{5, 5, 0x0a000001, 80, 0x0a000102, 30, 2, tsReport, "1"},
			{5, 5, 0x0a000001, 80, 0x7f000001, 10, 0, tsReport, "0"},
		}
		if got := rows(t, db); !slices.Equal(got, want) {
			t.Fatalf("rows\n got %v\nwant %v", got, want)
		}
	})
}

// TestResultsCoalesceWhileTheStoreIsBusy: while a write is held, every later report of
// the same rows replaces the queued one, and the store gets only the latest.
func TestResultsCoalesceWhileTheStoreIsBusy(t *testing.T) {
	g := newGateStore()
	// The held write must not time out however long the test takes.
	svc := startService(t, g, Config{Workers: 1, WriteTimeout: time.Hour})
	a := dial(t, svc.Service)
	a.report(1, 1, caller1, tsReport, result{ip1, 80, 1, 0, false})
	g.waitEntered(t) // the first row is being written, held
	for i := range uint32(100) {
		a.report(1, 1, caller1, tsReport, result{ip1, 80, 100 + i, 0, false}, result{ip2, 80, 100 + i, 0, false})
	}
	// Frames are counted last, after their rows and what replaced what.
	waitUntil(t, settle, "every report read", func() bool { return svc.Stats().Frames == 101 })
	if st := svc.Stats(); st.Results != 201 || st.QueueRows != 2 || st.Coalesced != 198 {
		t.Fatalf("queue %d rows, %d coalesced; want 2 and 198", st.QueueRows, st.Coalesced)
	}
	close(g.open)
	st := waitSettled(t, svc.Service, 201, settle)
	if st.RowsWritten != 3 || st.Batches != 2 {
		t.Fatalf("stats %+v: want 3 rows in 2 batches", st)
	}
	for _, r := range g.stored() {
		if r.Succ != 199 {
			t.Fatalf("stored %+v, want the latest succ 199", r)
		}
	}
}

// TestFloodKeepsTheQueueBounded: an agent sending faster than the store writes (here:
// not at all) is read to the end, the queue never exceeds its bound, and the oldest
// rows are dropped and counted: every result is queued, held by a writer or dropped,
// exactly.
func TestFloodKeepsTheQueueBounded(t *testing.T) {
	g := newGateStore()
	const bound, frames, perFrame, batch = 500, 400, 50, 100
	const total = frames * perFrame
	// The held writes must not time out however long the flood takes to read.
	svc := startService(t, g, Config{Workers: 2, QueueSize: bound, BatchSize: batch, WriteTimeout: time.Hour})
	a := dial(t, svc.Service)
	var buf bytes.Buffer
	results := make([]result, perFrame)
	for f := range frames {
		for i := range results {
			results[i] = result{int32(f*perFrame + i), 80, 1, 0, false}
		}
		buf.Write(reportFrame(t, 1, 1, caller1, tsReport, results...))
	}
	sent := make(chan error, 1)
	go func() {
		_, err := a.nc.Write(buf.Bytes())
		sent <- err
	}()
	// The depth is sampled while the flood is read: a best effort at catching the
	// queue over its bound midway (the shards' own bound is tested exactly in
	// queue_test.go); the counts below are exact.
	var maxDepth int64
	waitUntil(t, settle, "every frame read while the store is stuck", func() bool {
		st := svc.Stats()
		maxDepth = max(maxDepth, st.QueueRows)
		return st.Frames == frames
	})
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// Both writers took a batch (20,000 distinct rows reach both shards) and are held
	// at the gate: nothing moves any more.
	waitUntil(t, settle, "both writers held by the store", func() bool {
		writes, _ := g.held()
		return writes == 2
	})
	st := svc.Stats()
	_, held := g.held()
	if st.QueueRows > bound || maxDepth > bound {
		t.Fatalf("queue held %d rows (max seen %d), bound %d", st.QueueRows, maxDepth, bound)
	}
	if held > 2*batch {
		t.Fatalf("the writers hold %d rows, more than a batch each", held)
	}
	if got := uint64(st.QueueRows) + uint64(held) + st.DroppedQueueFull; got != total || st.Results != total ||
		st.Coalesced != 0 || st.DroppedDBError != 0 || st.DroppedQueueFull == 0 {
		t.Fatalf("%d queued + %d held + %d dropped = %d, stats %+v: want every one of %d results in one place, drops among them",
			st.QueueRows, held, st.DroppedQueueFull, got, st, total)
	}
	for _, sh := range svc.queue.shards {
		sh.mu.Lock()
		slots := len(sh.slots)
		sh.mu.Unlock()
		if slots > sh.bound {
			t.Fatalf("a shard's slots grew to %d for a bound of %d", slots, sh.bound)
		}
	}
	queued := uint64(st.QueueRows) + uint64(held)
	close(g.open)
	st = waitSettled(t, svc.Service, total, settle)
	if got := uint64(len(g.stored())); got != st.RowsWritten || st.RowsWritten != queued {
		t.Fatalf("%d rows stored, %d counted written; want the %d queued or held", got, st.RowsWritten, queued)
	}
}

func TestBadFramesCloseOnlyTheirConnection(t *testing.T) {
	hdr := func(id, n int32) []byte {
		b := make([]byte, codec.HeaderSize)
		codec.PutHeader(b, codec.MsgID(id), int(n))
		return b
	}
	cases := map[string][]byte{
		"negative length": {3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		"oversized":       hdr(3, codec.MaxBodySize+1),
		"unknown msgid":   append(hdr(9, 0), nil...),
		"route request":   append(hdr(1, 2), 0x08, 0x01),
		"undecodable":     append(hdr(3, 2), 0x08, 0x80),
	}
	db := openStore(t, storetest.SQLiteDSN(t))
	svc := startService(t, db, Config{})
	good := dial(t, svc.Service)
	var closed uint64
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			bad := dial(t, svc.Service)
			// A good report first: it is kept.
			bad.send(append(reportFrame(t, 7, 7, caller2, tsReport, result{ip2, 1, 1, 0, false}), frame...))
			if !bad.closedWithin(settle) {
				t.Fatal("connection not closed after a bad frame")
			}
			closed++
			waitUntil(t, settle, "bad frame counted", func() bool { return svc.Stats().BadFrames == closed })
		})
	}
	good.report(7, 7, caller1, tsReport, result{ip1, 1, 1, 0, false})
	st := waitSettled(t, svc.Service, uint64(len(cases))+1, settle)
	// A bad connection is counted, then closed, then leaves the server's count.
	waitUntil(t, settle, "bad connections gone", func() bool { return svc.Stats().Connections == 1 })
	if st.RowsWritten == 0 || len(rows(t, db)) != 2 {
		t.Fatalf("after the bad frames: rows %v, stats %+v", rows(t, db), st)
	}
}

func TestMaxConnsRefusesTheRest(t *testing.T) {
	svc := startService(t, nopStore{}, Config{MaxConns: 1})
	dial(t, svc.Service).report(1, 1, caller1, tsReport, result{ip1, 1, 1, 0, false})
	waitUntil(t, settle, "first connection served", func() bool { return svc.Stats().Frames == 1 })
	if !dial(t, svc.Service).closedWithin(settle) {
		t.Fatal("a connection over MaxConns was not closed")
	}
	if st := svc.Stats(); st.Refused != 1 || st.Connections != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestShutdownFlushesTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		f := &faultyStore{Store: db, down: true} // writes fail until shutdown begins
		// A flush bound no working build reaches: the test checks that the flush
		// writes everything; TestShutdownFlushIsBounded checks the bound.
		svc := startService(t, f, Config{Retries: -1, FlushTimeout: settle})
		a := dial(t, svc.Service)
		for i := range int32(300) {
			a.report(2, 2, caller1, tsReport, result{i, 80, uint32(i), 0, false})
		}
		waitUntil(t, settle, "every report read", func() bool { return svc.Stats().Results == 300 })
		f.setDown(false)
		svc.stop(t)
		st := svc.Stats()
		if got := len(rows(t, db)); got != 300 || st.Dropped() != 0 || st.RowsWritten != 300 {
			t.Fatalf("after shutdown %d rows stored, stats %+v; want 300, none dropped", got, st)
		}
	})
}

// TestShutdownFlushIsBounded: a store that never answers holds each write for the
// hour of WriteTimeout; the flush ends it after FlushTimeout and drops what is left.
func TestShutdownFlushIsBounded(t *testing.T) {
	g := newGateStore() // never opens
	const flush = 200 * time.Millisecond
	svc := startService(t, g, Config{FlushTimeout: flush, WriteTimeout: time.Hour})
	a := dial(t, svc.Service)
	for i := range int32(50) {
		a.report(2, 2, caller1, tsReport, result{i, 80, 1, 0, false})
	}
	waitUntil(t, settle, "every report read", func() bool { return svc.Stats().Results == 50 })
	// stop fails the test when Run has not returned within settle, which an
	// unbounded flush (held for the hour of WriteTimeout) never does; a flush that
	// did not wait for the writes would end before its bound.
	if took := svc.stop(t); took < flush {
		t.Fatalf("shutdown with a stuck store took %v, less than the flush bound %v", took, flush)
	}
	if st := svc.Stats(); st.DroppedShutdown != 50 || st.QueueRows != 0 {
		t.Fatalf("stats %+v: want the 50 rows dropped at shutdown", st)
	}
}

// TestStoreOutageDropsAndResumes stops the store while agents report: the service
// keeps reading, healthz says degraded, the queue keeps the latest rows up to its
// bound and drops (counted) the oldest; once the store is back, writes resume.
func TestStoreOutageDropsAndResumes(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db := openStore(t, storetest.SQLiteDSN(t))
		f := &faultyStore{Store: db}
		testOutage(t, f, db, func() { f.setDown(true) }, func() { f.setDown(false) })
	})
	t.Run("mariadb", func(t *testing.T) {
		storetest.RequireOutage(t)
		dsn, ok := storetest.MySQLDSN(t)
		if !ok {
			t.Skip(storetest.EnvMySQLDSN + " not set: no MariaDB server to stop and start")
		}
		db := openStore(t, dsn)
		testOutage(t, db, db, func() { storetest.StopMySQL(t) }, func() { storetest.StartMySQL(t) })
	})
}

func testOutage(t *testing.T, st Store, db *store.DB, stop, start func()) {
	const bound = 100
	// A statement may take as long as the test waits for anything: one cut short
	// after it committed (a machine stalled after the restart) would leave rows stored
	// but not counted written. A stopped server refuses at once anyway.
	svc := startService(t, st, Config{QueueSize: bound, WriteTimeout: settle})
	a := dial(t, svc.Service)
	a.report(3, 3, caller1, tsReport, result{ip1, 80, 1, 0, false})
	waitUntil(t, settle, "first row written", func() bool { return svc.Stats().RowsWritten == 1 })
	stop()
	a.report(3, 3, caller1, tsReport, result{ip1, 80, 2, 0, false})
	waitUntil(t, 60*time.Second, "a failed write", func() bool { return svc.Stats().DBErrors > 0 })
	if ok, text := svc.healthText(); !ok || !strings.HasPrefix(text, "degraded") {
		t.Fatalf("healthz while the store is down: %v %q", ok, text)
	}
	// More rows than the queue holds: the oldest are dropped, reading goes on.
	b := dial(t, svc.Service)
	for i := range int32(3 * bound) {
		b.report(4, 4, caller2, tsReport, result{i, 80, 1, 0, false})
	}
	waitUntil(t, settle, "reports read during the outage", func() bool { return svc.Stats().Results == 2+3*bound })
	if st := svc.Stats(); st.DroppedQueueFull+st.DroppedDBError == 0 || st.QueueRows > bound {
		t.Fatalf("during the outage: %+v; want drops and at most %d rows queued", st, bound)
	}
	start()
	c := dial(t, svc.Service) // the service stayed up
	c.report(3, 3, caller1, tsReport+9, result{ip1, 80, 9, 0, true})
	final := waitSettled(t, svc.Service, 3+3*bound, 90*time.Second)
	got := rows(t, db)
	i := slices.IndexFunc(got, func(r storedRow) bool { return r.Modid == 3 })
	if i < 0 || got[i].Succ != 9 || got[i].Overload != "1" {
		t.Fatalf("row 3/3 after the outage: %v", got)
	}
	// Row 3/3 was written at least twice (before and after); every other row written is
	// one of the 4/4 rows, and at least the queue's worth of them was kept.
	flood := len(got) - 1
	if flood < bound-1 || flood > int(final.RowsWritten)-2 {
		t.Fatalf("%d flood rows stored after the outage (%d rows written); want at least %d", flood, final.RowsWritten, bound-1)
	}
	waitUntil(t, settle, "healthz ok after the outage", func() bool {
		ok, text := svc.healthText()
		return ok && strings.HasPrefix(text, "ok")
	})
	t.Logf("outage: %+v", final)
}

func TestMetricsAndHealth(t *testing.T) {
	svc := startService(t, nopStore{}, Config{})
	dial(t, svc.Service).report(1, 1, caller1, tsReport, result{ip1, 1, 1, 0, false})
	waitSettled(t, svc.Service, 1, settle)
	// The frame is counted after its row is queued, maybe after it is written.
	waitUntil(t, settle, "the frame counted", func() bool { return svc.Stats().Frames == 1 })
	var buf bytes.Buffer
	svc.WriteMetrics(&buf)
	for _, want := range []string{
		"lars_reporter_connections 1", "lars_reporter_frames_total 1", "lars_reporter_results_total 1",
		"lars_reporter_rows_written_total 1", "lars_reporter_batches_total 1", "lars_reporter_queue_rows 0",
		`lars_reporter_dropped_rows_total{reason="queue_full"} 0`, `lars_reporter_dropped_rows_total{reason="db_error"} 0`,
		"lars_reporter_db_errors_total 0", "lars_reporter_bad_frames_total 0", "lars_reporter_batch_seconds_bucket",
		"lars_reporter_store_up 1",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
	if ok, text := svc.healthText(); !ok || !strings.HasPrefix(text, "ok") {
		t.Errorf("healthz %v %q", ok, text)
	}
}

// TestReportsOfBadPortsAreDropped checks that a result naming a port outside 0..65535,
// which no host of a route has, is dropped and counted, not stored under its low 16
// bits.
func TestReportsOfBadPortsAreDropped(t *testing.T) {
	db := openStore(t, storetest.SQLiteDSN(t))
	svc := startService(t, db, Config{})
	dial(t, svc.Service).report(1, 1, caller1, tsReport, result{ip1, 80, 1, 0, false}, result{ip1, 65536 + 80, 1, 0, false}, result{ip1, -1, 1, 0, false})
	waitUntil(t, settle, "the report read", func() bool { return svc.Stats().Frames == 1 })
	waitUntil(t, settle, "a row written", func() bool { return svc.Stats().RowsWritten == 1 })
	if st := svc.Stats(); st.DroppedBadHost != 2 || st.Results != 3 {
		t.Errorf("stats %+v: want 3 results, 2 dropped as bad hosts", st)
	}
	if got := rows(t, db); len(got) != 1 || got[0].Port != 80 || got[0].Succ != 1 {
		t.Errorf("rows %v, want the one of port 80", got)
	}
}

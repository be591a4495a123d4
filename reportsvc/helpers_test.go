package reportsvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/store"
)

// quiet is a logger for tests that only fails loudly.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens dsn for the test and closes it at the end.
func openStore(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", store.Redact(dsn), err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// running is a service started by startService.
type running struct {
	*Service
	cancel  context.CancelFunc
	done    chan error
	stopped bool // Run has returned
}

// stop ends Run and returns how long it took to return; it fails the test when Run
// fails or has not returned within settle.
func (r *running) stop(t testing.TB) time.Duration {
	t.Helper()
	if r.stopped {
		return 0
	}
	start := time.Now()
	r.cancel()
	select {
	case err := <-r.done:
		r.stopped = true
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(settle):
		t.Fatalf("Run did not return within %v of its context ending", settle)
	}
	return time.Since(start)
}

// startService runs a service on st with cfg (Listen, Logger and a short RetryBackoff
// filled in when empty) until the test ends, and waits until it listens.
func startService(t testing.TB, st Store, cfg Config) *running {
	t.Helper()
	cfg.Store = st
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = 5 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 50 * time.Millisecond
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Service: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	select {
	case <-svc.Ready():
	case err := <-r.done:
		r.stopped = true
		t.Fatalf("Run ended before serving: %v", err)
	case <-time.After(settle):
		t.Fatalf("service not ready within %v", settle)
	}
	return r
}

// agentConn is a test agent's connection to the service.
type agentConn struct {
	t  testing.TB
	nc net.Conn
}

func dial(t testing.TB, svc *Service) *agentConn {
	t.Helper()
	nc, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &agentConn{t: t, nc: nc}
}

// result is one host's counts in a report.
type result struct {
	ip, port  int32
	succ, err uint32
	overload  bool
}

// reportFrame returns the msgid 3 frame of a report.
func reportFrame(t testing.TB, modid, cmdid, caller int32, ts uint32, results ...result) []byte {
	t.Helper()
	req := larspb.ReportStatusRequest{Modid: modid, Cmdid: cmdid, Caller: caller, Ts: ts}
	for _, r := range results {
		req.Results = append(req.Results, &larspb.HostCallResult{Ip: r.ip, Port: r.port, Succ: r.succ, Err: r.err, Overload: r.overload})
	}
	frame, err := codec.AppendFrame(nil, codec.MsgReportStatusRequest, &req)
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

// send writes raw bytes.
func (a *agentConn) send(b []byte) {
	a.t.Helper()
	if _, err := a.nc.Write(b); err != nil {
		a.t.Fatal(err)
	}
}

// report sends one report.
func (a *agentConn) report(modid, cmdid, caller int32, ts uint32, results ...result) {
	a.t.Helper()
	a.send(reportFrame(a.t, modid, cmdid, caller, ts, results...))
}

// closedWithin reports whether the service closed the connection within d.
func (a *agentConn) closedWithin(d time.Duration) bool {
	a.nc.SetReadDeadline(time.Now().Add(d))
	var b [1]byte
	_, err := a.nc.Read(b[:])
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// waitUntil polls cond every few milliseconds, failing the test after d.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitSettled waits until results results were read and each was written, replaced or
// dropped.
func waitSettled(t testing.TB, svc *Service, results uint64, d time.Duration) Stats {
	t.Helper()
	var st Stats
	waitUntil(t, d, "results settled", func() bool {
		st = svc.Stats()
		return st.Results == results && st.QueueRows == 0 && st.RowsWritten+st.Coalesced+st.Dropped() == st.Results
	})
	return st
}

// storedRow is a ServerCallStatus row as the tests compare it.
type storedRow struct {
	Modid, Cmdid     int64
	IP, Port, Caller int64
	Succ, Err, TS    int64
	Overload         string
}

func (r storedRow) String() string {
	return fmt.Sprintf("{%d %d %d:%d caller %d succ %d err %d ts %d overload %q}",
		r.Modid, r.Cmdid, r.IP, r.Port, r.Caller, r.Succ, r.Err, r.TS, r.Overload)
}

// rows returns every ServerCallStatus row in primary-key order.
func rows(t testing.TB, db *store.DB) []storedRow {
	t.Helper()
	rs, err := db.SQL().QueryContext(context.Background(), `SELECT modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload
		FROM ServerCallStatus ORDER BY modid, cmdid, ip, port, caller`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []storedRow
	for rs.Next() {
		var r storedRow
		if err := rs.Scan(&r.Modid, &r.Cmdid, &r.IP, &r.Port, &r.Caller, &r.Succ, &r.Err, &r.TS, &r.Overload); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// faultyStore passes every write to the store it wraps, or fails them all while down.
// It stands in for a database outage where the engine cannot be stopped for real
// (SQLite is a file inside this process); on MariaDB the tests stop the server itself.
type faultyStore struct {
	Store
	mu   sync.Mutex
	down bool
}

var errStoreDown = errors.New("store down (injected)")

func (f *faultyStore) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *faultyStore) UpsertCallStatus(ctx context.Context, rows []store.CallStatus) error {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return errStoreDown
	}
	return f.Store.UpsertCallStatus(ctx, rows)
}

// gateStore holds every write until open is closed (or the write's context ends),
// then counts its rows: a database that does not answer.
type gateStore struct {
	open    chan struct{}
	entered chan struct{} // one token per write that started waiting
	mu      sync.Mutex
	rows    map[rowKey]store.CallStatus
	waiting int // writes held at the gate now
	heldN   int // their rows
}

func newGateStore() *gateStore {
	return &gateStore{open: make(chan struct{}), entered: make(chan struct{}, 1000), rows: map[rowKey]store.CallStatus{}}
}

func (g *gateStore) UpsertCallStatus(ctx context.Context, rows []store.CallStatus) error {
	g.mu.Lock()
	g.waiting++
	g.heldN += len(rows)
	g.mu.Unlock()
	select {
	case g.entered <- struct{}{}:
	default:
	}
	var err error
	select {
	case <-g.open:
	case <-ctx.Done():
		err = ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting--
	g.heldN -= len(rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		g.rows[keyOf(&r)] = r
	}
	return nil
}

// held returns how many writes wait at the gate now and how many rows they carry.
func (g *gateStore) held() (writes, rows int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting, g.heldN
}

// waitEntered waits until a write reaches the gate, failing the test after settle.
func (g *gateStore) waitEntered(t testing.TB) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(settle):
		t.Fatalf("no write reached the store within %v", settle)
	}
}

func (g *gateStore) stored() map[rowKey]store.CallStatus {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[rowKey]store.CallStatus, len(g.rows))
	for k, v := range g.rows {
		out[k] = v
	}
	return out
}

// nopStore accepts every write and forgets it.
type nopStore struct{}

func (nopStore) UpsertCallStatus(context.Context, []store.CallStatus) error { return nil }

package ctlplane

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/store"
)

// Against the fake report service: every frame sent arrives, each agent's rounds carry
// one result per host, numbered round after round, and the frames of a round are the
// agent's keys.
func TestReporterFramesAddUpAgainstFake(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	svc := larstest.NewReportService(t)
	rep, err := RunReporter(context.Background(), ReporterConfig{Fleet: Fleet{Target: svc.Addr(), Agents: 5, Keys: 3, Cmdids: loadgen.Range{Lo: 1, Hi: 10}}, Hosts: 4, Rate: 300, Duration: 500 * time.Millisecond, Senders: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Sent
	if s.Frames == 0 || s.Results != 4*s.Frames || s.Frames%3 != 0 {
		t.Fatalf("sent %d frames, %d results; want whole rounds of 3 frames of 4 results", s.Frames, s.Results)
	}
	if s.Frames < 120 || s.Frames > 160 {
		t.Errorf("sent %d frames in 0.5s at 300/s", s.Frames)
	}
	got, err := svc.WaitReports(int(s.Frames), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != int(s.Frames) || svc.BadFrames() != 0 {
		t.Fatalf("the fake has %d reports (%d bad frames), %d sent", len(got), svc.BadFrames(), s.Frames)
	}
	type row struct{ caller, modid, cmdid, ip int32 }
	last := map[row]uint32{}
	keys := map[int32]map[[2]int32]bool{}
	for _, r := range got {
		m := r.Msg
		if m.Caller < DefaultCallerBase || m.Caller >= DefaultCallerBase+5 || len(m.Results) != 4 {
			t.Fatalf("report from caller %d with %d results", m.Caller, len(m.Results))
		}
		if keys[m.Caller] == nil {
			keys[m.Caller] = map[[2]int32]bool{}
		}
		keys[m.Caller][[2]int32{m.Modid, m.Cmdid}] = true
		for _, h := range m.Results {
			k := row{m.Caller, m.Modid, m.Cmdid, h.Ip}
			if prev, ok := last[k]; (ok && h.Succ != prev+1) || (!ok && h.Succ != 1) {
				t.Fatalf("row %+v: succ %d after %d", k, h.Succ, prev)
			}
			last[k] = h.Succ
		}
	}
	for caller, ks := range keys {
		if len(ks) != 3 {
			t.Errorf("caller %d reported %d keys, want 3", caller, len(ks))
		}
	}
	if !rep.Verdict.Met || rep.Service != nil || rep.Store != nil {
		t.Errorf("verdict %+v (service %v, store %v)", rep.Verdict, rep.Service, rep.Store)
	}
}

// Against the real report service on SQLite: the service reads every frame and result
// sent, the store holds every result (one row per agent, key and host), nothing is
// dropped.
func TestReporterAgainstReportServiceOnSQLite(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	db := openStore(t)
	svc, admin := startReportService(t, reportsvc.Config{Store: db, Logger: quiet})
	run := func() *ReporterReport {
		rep, err := RunReporter(context.Background(), ReporterConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 6, Keys: 4, Cmdids: loadgen.Range{Lo: 1, Hi: 8}}, Hosts: 5, Rate: 400, Duration: 600 * time.Millisecond, Store: db, AdminURL: admin})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for i := range 2 { // the second run counts its own results over the rows of the first
		rep := run()
		s, sv, st := rep.Sent, rep.Service, rep.Store
		if sv == nil || st == nil {
			t.Fatal("no service or store figures")
		}
		if sv.Frames != s.Frames || sv.Results != s.Results || sv.Dropped != 0 {
			t.Errorf("run %d: the service read %d frames, %d results, dropped %d; sent %d, %d", i, sv.Frames, sv.Results, sv.Dropped, s.Frames, s.Results)
		}
		if !st.CaughtUp || st.Results != s.Results || st.Rows != uint64(rep.Rows) || rep.Rows != 6*4*5 {
			t.Errorf("run %d: the store holds %d results in %d rows (caught up %v); sent %d results over %d rows", i, st.Results, st.Rows, st.CaughtUp, s.Results, rep.Rows)
		}
		if sv.RowsWritten == 0 || sv.RowsWritten > s.Results {
			t.Errorf("run %d: %d rows written for %d results", i, sv.RowsWritten, s.Results)
		}
		if !rep.Verdict.Met {
			t.Errorf("run %d: %s", i, rep.Verdict.Reason)
		}
		var series uint64
		for _, sec := range rep.Seconds {
			series += sec.Results
		}
		if series != s.Results {
			t.Errorf("run %d: the series has %d results, the totals %d", i, series, s.Results)
		}
	}
}

// slowStore makes every write of the report service take delay: its queue fills and
// drops.
type slowStore struct {
	db    *store.DB
	delay time.Duration
}

func (s slowStore) UpsertCallStatus(ctx context.Context, rows []store.CallStatus) error {
	time.Sleep(s.delay)
	return s.db.UpsertCallStatus(ctx, rows)
}

// A report service whose store is slower than the reports drops rows: the run counts
// them from /metrics and misses its objective; the store then holds fewer results.
func TestReporterCountsDrops(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	db := openStore(t)
	svc, admin := startReportService(t, reportsvc.Config{Store: slowStore{db, 50 * time.Millisecond}, Workers: 1,
		QueueSize: 100, BatchSize: 20, Logger: quiet})
	rep, err := RunReporter(context.Background(), ReporterConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 10, Keys: 5, Cmdids: loadgen.Range{Lo: 1, Hi: 5}}, Hosts: 10, Rate: 500, Duration: 500 * time.Millisecond, Store: db, AdminURL: admin, Settle: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Service.Dropped == 0 || rep.Verdict.Met {
		t.Fatalf("dropped %d, verdict %+v: want drops seen and the objective missed", rep.Service.Dropped, rep.Verdict)
	}
	if rep.Store.CaughtUp || rep.Store.Results >= rep.Sent.Results {
		t.Errorf("the store holds %d of %d results, caught up %v", rep.Store.Results, rep.Sent.Results, rep.Store.CaughtUp)
	}
}

// fakeDroppingReporter is a fake report service whose /metrics drops, counted, every
// frame that arrives while more than limit frames arrived in the last window.
type fakeDroppingReporter struct {
	*larstest.FakeReportService
	limit  int
	window time.Duration
	mu     sync.Mutex
	seen   int // reports already judged
	drops  int
}

func (f *fakeDroppingReporter) metrics(w http.ResponseWriter, _ *http.Request) {
	reports := f.Reports()
	f.mu.Lock()
	for i := f.seen; i < len(reports); i++ {
		n := 0
		for j := i; j >= 0 && reports[i].At.Sub(reports[j].At) < f.window; j-- {
			n++
		}
		if n > f.limit {
			f.drops++
		}
	}
	f.seen = len(reports)
	fmt.Fprintf(w, "lars_reporter_frames_total %d\nlars_reporter_results_total %d\n", len(reports), len(reports))
	fmt.Fprintf(w, "lars_reporter_dropped_rows_total{reason=\"queue_full\"} %d\nlars_reporter_queue_rows 0\n", f.drops)
	f.mu.Unlock()
}

// The search over rates converges between the highest rate under the fake's limit and
// the lowest over it.
func TestReporterSweepConverges(t *testing.T) {
	larstest.CheckGoroutines(t, 5*time.Second)
	f := &fakeDroppingReporter{FakeReportService: larstest.NewReportService(t), limit: 250, window: 500 * time.Millisecond}
	admin := httptest.NewServer(http.HandlerFunc(f.metrics))
	defer admin.Close()
	var rates []float64 // each rate's first attempt
	sw, err := SweepReporter(context.Background(), ReporterSweepConfig{
		Run:          ReporterConfig{Fleet: Fleet{Target: f.Addr(), Agents: 4}, AdminURL: admin.URL},
		Search:       Search{Start: 100, Refine: 2},
		StepDuration: 400 * time.Millisecond,
		OnStep: func(st ReporterSweepStep) {
			if st.Attempt == 0 {
				rates = append(rates, st.Rate)
			}
			t.Logf("%.0f frames/s, attempt %d: met %v %s", st.Rate, st.Attempt, st.Met, st.Reason)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The limit is 250 frames in 500ms. A step of 0.4s at 400/s sends 160 frames:
	// never a drop, however bunched by a busy machine; 1600/s sends 640 within a
	// window or so.
	if !sw.Found || sw.Capacity < 400 || sw.Capacity >= 1600 {
		t.Fatalf("capacity %.0f (found %v), want in [400, 1600); rates %v", sw.Capacity, sw.Found, rates)
	}
	if rates[0] != 100 || rates[1] != 200 || rates[2] != 400 {
		t.Errorf("rates %v: want a rise by 2 from 100", rates)
	}
	if sw.CapacityResults <= 0 {
		t.Errorf("capacity %v frames/s but %v results/s", sw.Capacity, sw.CapacityResults)
	}
}

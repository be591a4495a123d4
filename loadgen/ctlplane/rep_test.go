package ctlplane

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/store"
)

// Against a fake report service on the bubble's clock: every frame sent arrives, on
// its schedule, each agent's rounds carry one result per host, numbered round after
// round, and the frames of a round are the agent's keys.
func TestReporterFramesAddUpAgainstFake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := &memReportService{}
		rep, err := RunReporter(context.Background(), ReporterConfig{Fleet: Fleet{Target: "fake:1", Agents: 5, Keys: 3, Cmdids: loadgen.Range{Lo: 1, Hi: 10}, dial: svc.dial},
			Hosts: 4, Rate: 300, Duration: 500 * time.Millisecond, Senders: 2})
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Sent
		// 300 frames a second for 0.5s: the senders of 3 and 2 agents send 30 and 20
		// rounds of 3 frames, each on time.
		if s.Frames != 150 || s.Results != 4*s.Frames || s.LagMS.Max != 0 || s.SkippedRounds != 0 {
			t.Fatalf("sent %d frames, %d results, lag %+v, %d rounds skipped; want 150 frames of 4 results, none late or skipped", s.Frames, s.Results, s.LagMS, s.SkippedRounds)
		}
		got := svc.Reports()
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
		// The run ends with its last round, the 30th of the sender of 3 agents, due
		// 29/60s after the first: the series is that one interval.
		if ss := rep.Seconds; len(ss) != 1 || ss[0].Frames != 150 || ss[0].T != ss[0].Span || math.Abs(ss[0].Span-29.0/60) > 1e-8 {
			t.Errorf("seconds %+v; want one of 29/60s with the 150 frames", ss)
		}
	})
}

// Against the real report service on SQLite: the service reads every frame and result
// sent, the store holds every result (one row per agent, key and host), nothing is
// dropped.
func TestReporterAgainstReportServiceOnSQLite(t *testing.T) {
	larstest.CheckGoroutines(t, generousWait)
	db := openStore(t)
	svc, admin := startReportService(t, reportsvc.Config{Store: db, Logger: quiet})
	run := func() *ctlreport.ReporterReport {
		rep, err := RunReporter(context.Background(), ReporterConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 6, Keys: 4, Cmdids: loadgen.Range{Lo: 1, Hi: 8}}, Hosts: 5, Rate: 400, Duration: 600 * time.Millisecond, Store: db, AdminURL: admin, Settle: generousWait})
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

// blockedStore is a report service's store whose writes wait until release is
// closed, at the end of the test: its queue fills and drops, however fast the machine.
type blockedStore struct {
	db      *store.DB
	release <-chan struct{}
}

func (s blockedStore) UpsertCallStatus(ctx context.Context, rows []store.CallStatus) error {
	select {
	case <-s.release:
		return s.db.UpsertCallStatus(ctx, rows)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// A report service whose store does not keep up drops rows: the run counts them from
// /metrics and misses its objective; the store holds fewer results than were sent.
// The store takes no write at all, so the service's queue of 100 rows overflows at the
// 121st row of the 500 the agents report (10 agents, 5 keys, 10 hosts). The settle
// time is the window under test (the store cannot catch up in it); its 5s leave the
// service that long to read the 0.5s of reports.
func TestReporterCountsDrops(t *testing.T) {
	larstest.CheckGoroutines(t, generousWait)
	db := openStore(t)
	release := make(chan struct{})
	svc, admin := startReportService(t, reportsvc.Config{Store: blockedStore{db, release}, Workers: 1,
		QueueSize: 100, BatchSize: 20, Logger: quiet})
	t.Cleanup(func() { close(release) }) // before the service stops
	rep, err := RunReporter(context.Background(), ReporterConfig{Fleet: Fleet{Target: svc.Addr().String(), Agents: 10, Keys: 5, Cmdids: loadgen.Range{Lo: 1, Hi: 5}},
		Hosts: 10, Rate: 500, Duration: 500 * time.Millisecond, Senders: 2, Store: db, AdminURL: admin, Settle: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Service.Dropped == 0 || rep.Verdict.Met {
		t.Fatalf("dropped %d, verdict %+v: want drops seen and the objective missed", rep.Service.Dropped, rep.Verdict)
	}
	if rep.Store.CaughtUp || rep.Store.Results != 0 || rep.Sent.Results != 2500 {
		t.Errorf("the store holds %d of %d results, caught up %v; want none of 2500", rep.Store.Results, rep.Sent.Results, rep.Store.CaughtUp)
	}
}

// fakeDroppingReporter is a fake report service whose /metrics drops, counted, every
// frame that arrives while more than limit frames arrived in the last window.
type fakeDroppingReporter struct {
	*memReportService
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

// The search over rates converges on the fake's limit, on the bubble's clock: 55
// frames in 100ms, which one sender's frames evenly spaced exceed from 551 frames a
// second. The rates rise by 2 from 100 to 800, which drops, then bisect to 600 (drops)
// and 500 (does not). A second passes between steps, so no window holds two steps.
func TestReporterSweepConverges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeDroppingReporter{memReportService: &memReportService{}, limit: 55, window: 100 * time.Millisecond}
		var rates []float64 // each rate's first attempt
		sw, err := SweepReporter(context.Background(), ReporterSweepConfig{
			Run: ReporterConfig{Fleet: Fleet{Target: "fake:1", Agents: 4, dial: f.dial, adminClient: handlerClient(http.HandlerFunc(f.metrics))},
				AdminURL: "http://fake", Senders: 1},
			Search:       Search{Start: 100, Refine: 2},
			StepDuration: 400 * time.Millisecond,
			OnStep: func(st ctlreport.ReporterSweepStep) {
				if st.Attempt == 0 {
					rates = append(rates, st.Rate)
				}
				if st.Met == (st.Rate > 500) || (st.Met && st.Attempt != 0) || st.Report.Sent.Frames != uint64(st.Rate*0.4) {
					t.Errorf("%.0f frames/s, attempt %d: met %v (%s), %d frames sent; want met at first up to 500/s, %.0f frames", st.Rate, st.Attempt, st.Met, st.Reason, st.Report.Sent.Frames, st.Rate*0.4)
				}
				time.Sleep(time.Second)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !sw.Found || sw.Capacity != 500 || sw.CapacityResults != 500 {
			t.Fatalf("capacity %.0f frames/s, %.0f results/s (found %v), want 500; rates %v", sw.Capacity, sw.CapacityResults, sw.Found, rates)
		}
		if want := []float64{100, 200, 400, 800, 600, 500}; !slices.Equal(rates, want) || len(sw.Steps) != 8 {
			t.Errorf("rates %v in %d steps, want %v, 800 and 600 twice", rates, len(sw.Steps), want)
		}
	})
}

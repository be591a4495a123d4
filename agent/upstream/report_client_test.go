package upstream

import (
	"slices"
	"testing"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

const caller = 10<<24 | 1<<16 | 2<<8 | 3 // 10.1.2.3

// newReportClient returns a report client for the report service at addr, reading
// statuses, stamping them with clk, with short backoffs. Its flush at shutdown may
// take as long as the tests wait for anything: a flush must write what is queued
// however slow the machine (the bound itself is not under test here).
func newReportClient(addr string, statuses <-chan lb.Status, clk *fakeclock.Clock) *ReportClient {
	return NewReportClient(ReportClientConfig{
		Addr: addr, Statuses: statuses, Caller: caller, Clock: clk.Now, FlushTimeout: wait,
		Link: Link{Logger: quiet, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
	})
}

// reportTable returns a table with key k12 of hosts h1, h2, h3 on clk.
func reportTable(clk *fakeclock.Clock) *lb.Table {
	tbl := lb.NewTable(lb.Config{Clock: clk.Now})
	tbl.ReplaceRoutes(map[route.Key][]route.Host{k12: {h1, h2, h3}})
	return tbl
}

func result(h route.Host, succ, err uint32, overload bool) *larspb.HostCallResult {
	ip, port, _ := h.Wire()
	return &larspb.HostCallResult{Ip: ip, Port: port, Succ: succ, Err: err, Overload: overload}
}

// checkReport checks a received report against the key, ts and results (any order).
func checkReport(t *testing.T, r larstest.Report, ts time.Time, want ...*larspb.HostCallResult) {
	t.Helper()
	m := r.Msg
	if m.Modid != k12.Modid || m.Cmdid != k12.Cmdid || m.Caller != caller || m.Ts != uint32(ts.Unix()) {
		t.Fatalf("report %d/%d caller %d ts %d, want %d/%d %d %d",
			m.Modid, m.Cmdid, m.Caller, m.Ts, k12.Modid, k12.Cmdid, caller, ts.Unix())
	}
	if len(m.Results) != len(want) {
		t.Fatalf("%d results, want %d: %v", len(m.Results), len(want), m.Results)
	}
	for _, w := range want {
		if !slices.ContainsFunc(m.Results, w.EqualVT) {
			t.Fatalf("results %v lack %v", m.Results, w)
		}
	}
}

func TestReportClientSendsStatuses(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	rep := larstest.NewReportService(t)
	clk := newFakeClock()
	tbl := reportTable(clk)
	c := newReportClient(rep.Addr(), tbl.Statuses(), clk)
	run(t, c.Run)
	eventually(t, "connected", func() bool { return c.Stats().Connected })

	for range 3 {
		tbl.Report(1, 2, h1.Addr, 0)
	}
	tbl.Report(1, 2, h2.Addr, 0)
	tbl.Report(1, 2, h2.Addr, 1)
	for range lb.DefaultContinErrLimit { // overloaded: its window counts start over
		tbl.Report(1, 2, h3.Addr, 1)
	}
	tbl.Report(1, 2, h3.Addr, 1)
	tbl.Sweep()
	got, err := rep.WaitReports(1, wait)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, got[0], clk.Now(), result(h1, 3, 0, false), result(h2, 1, 1, false), result(h3, 0, 1, true))

	// At most one status per key per report interval.
	tbl.Report(1, 2, h1.Addr, 0)
	clk.Advance(lb.DefaultReportInterval / 2)
	tbl.Sweep()
	if n := tbl.Stats().StatusEmitted; n != 1 {
		t.Fatalf("%d statuses within the interval, want 1", n)
	}
	clk.Advance(lb.DefaultReportInterval / 2)
	tbl.Sweep()
	got, err = rep.WaitReports(2, wait)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, got[1], clk.Now(), result(h1, 4, 0, false), result(h2, 1, 1, false), result(h3, 0, 1, true))
	clk.Advance(lb.DefaultReportInterval)
	tbl.Sweep()                                                               // no new reports: nothing sent
	eventually(t, "sent counted", func() bool { return c.Stats().Sent == 2 }) // counted after the write returns
	if st := c.Stats(); st.Sent != 2 || st.Dropped != 0 || st.Connects != 1 || tbl.Stats().StatusEmitted != 2 {
		t.Fatalf("stats %+v, table %+v", st, tbl.Stats())
	}
}

func TestReportClientCoalescesAndSplits(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	rep := larstest.NewReportService(t)
	clk := newFakeClock()
	ch := make(chan lb.Status, 200)
	c := newReportClient(rep.Addr(), ch, clk)
	run(t, c.Run)
	eventually(t, "connected", func() bool { return c.Stats().Connected }) // or they are dropped

	big := lb.Status{Modid: 9, Cmdid: 9}
	for i := range int32(2*maxHostsPerReport + 1) {
		big.Hosts = append(big.Hosts, lb.HostStatus{Host: route.AddrPortFromWire(-1-i, 65535), Succ: 1 << 31, Err: 1 << 31, Overload: true})
	}
	ch <- big
	for i := range int32(150) {
		ch <- lb.Status{Modid: 1, Cmdid: i, Hosts: []lb.HostStatus{{Host: h1.Addr, Succ: uint32(i)}}}
	}
	got, err := rep.WaitReports(3+150, wait)
	if err != nil {
		t.Fatal(err)
	}
	var hosts int
	for _, r := range got[:3] {
		if r.Msg.Modid != 9 {
			t.Fatalf("report %v, want a part of the big status", r.Msg)
		}
		hosts += len(r.Msg.Results)
	}
	if hosts != len(big.Hosts) {
		t.Fatalf("big status split into %d hosts, want %d", hosts, len(big.Hosts))
	}
	for i, r := range got[3:] {
		if r.Msg.Cmdid != int32(i) || r.Msg.Results[0].Succ != uint32(i) {
			t.Fatalf("report %d: %v", i, r.Msg)
		}
	}
	eventually(t, "sent counted", func() bool { return c.Stats().Sent == 151 })
	if st := c.Stats(); st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReportClientDropsWhileDown(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	rep := larstest.NewReportService(t)
	rep.Close() // down from the start
	clk := newFakeClock()
	ch := make(chan lb.Status, 10)
	c := newReportClient(rep.Addr(), ch, clk)
	run(t, c.Run)
	eventually(t, "failed dial", func() bool { return c.Stats().DialErrors >= 1 })
	for i := range int32(25) {
		ch <- lb.Status{Modid: 1, Cmdid: i} // never blocks for long: the client drains
	}
	eventually(t, "drops counted", func() bool { return c.Stats().Dropped == 25 })

	// Back up: statuses flow again.
	if err := rep.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "reconnected", func() bool { return c.Stats().Connected })
	ch <- lb.Status{Modid: 7, Cmdid: 7, Hosts: []lb.HostStatus{{Host: h2.Addr, Err: 1}}}
	got, err := rep.WaitReports(1, wait)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Msg.Modid != 7 {
		t.Fatalf("report %v", got[0].Msg)
	}

	// Down again while connected: the loss is seen and later statuses are dropped.
	rep.Close()
	eventually(t, "disconnect seen", func() bool { return !c.Stats().Connected })
	ch <- lb.Status{Modid: 8, Cmdid: 8}
	eventually(t, "drop counted", func() bool { return c.Stats().Dropped == 26 })
	eventually(t, "stats", func() bool {
		st := c.Stats()
		return st.Connects == 1 && st.Disconnects == 1 && st.Sent == 1
	})
}

func TestReportClientFlushOnShutdown(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	rep := larstest.NewReportService(t)
	clk := newFakeClock()
	ch := make(chan lb.Status, 100)
	c := newReportClient(rep.Addr(), ch, clk)
	c.testHookShutdown = func() {
		for i := range int32(100) {
			ch <- lb.Status{Modid: 5, Cmdid: i}
		}
	}
	stop := run(t, c.Run)
	eventually(t, "connected", func() bool { return c.Stats().Connected })
	stop()
	if len(ch) != 0 {
		t.Fatalf("%d statuses left in the queue", len(ch))
	}
	if st := c.Stats(); st.Sent != 100 || st.Connected {
		t.Fatalf("stats %+v", st)
	}
	if _, err := rep.WaitReports(100, wait); err != nil {
		t.Fatal(err)
	}
}

func TestReportClientShutdownWhileDownDrops(t *testing.T) {
	larstest.CheckGoroutines(t, wait)
	rep := larstest.NewReportService(t)
	rep.Close()
	ch := make(chan lb.Status, 10)
	c := newReportClient(rep.Addr(), ch, newFakeClock())
	c.testHookShutdown = func() {
		for range 10 {
			ch <- lb.Status{}
		}
	}
	stop := run(t, c.Run)
	eventually(t, "failed dial", func() bool { return c.Stats().DialErrors >= 1 })
	stop()
	if st := c.Stats(); st.Dropped != 10 || len(ch) != 0 {
		t.Fatalf("stats %+v, %d left", st, len(ch))
	}
}

func TestReportClientDefaults(t *testing.T) {
	c := NewReportClient(ReportClientConfig{Statuses: make(chan lb.Status)})
	if c.link.addr() != DefaultReportAddr || c.enc.caller != localhost || c.flushTimeout != DefaultFlushTimeout {
		t.Fatalf("defaults: addr %s caller %d flush %v", c.link.addr(), c.enc.caller, c.flushTimeout)
	}
	if want, _ := route.ParseWireIP("127.0.0.1"); localhost != want {
		t.Fatalf("localhost %d, want %d", localhost, want)
	}
	r := NewRouteClient(RouteClientConfig{Table: lb.NewTable(lb.Config{})})
	if !slices.Equal(r.link.addrs, []string{DefaultRouteAddr}) || r.link.dialTimeout != DefaultDialTimeout || r.link.writeTimeout != DefaultWriteTimeout {
		t.Fatalf("route defaults: %+v", r.link.linkConfig)
	}
	if r.resubRate != DefaultResubscribeRate || r.resubBatch != DefaultResubscribeBatch || r.resubPeriod != 10*time.Millisecond {
		t.Fatalf("re-subscription defaults: %d keys/s, %d a batch, every %v", r.resubRate, r.resubBatch, r.resubPeriod)
	}
}

package chaos

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/loadgen"
)

// TestDatabaseStopUnderLoad takes the route store away from under the whole system
// while the agent is driven at a fixed open-loop rate, on each engine, and checks what
// must hold: get_host goes on answering from the agent's table with nothing lost;
// lars-dns serves its snapshot and lars-reporter keeps reading reports, holding their
// rows or dropping and counting them; both see the store fail (store_up 0) and recover
// without a restart; a route change committed before the stop is not lost, one made
// after the store returns reaches the agent, rows are written again, and once the load
// stops every count of the report path adds up and the rows equal the agent's counts.
func TestDatabaseStopUnderLoad(t *testing.T) {
	requireChaos(t)
	eachEngine(t, databaseStopUnderLoad)
}

func databaseStopUnderLoad(t *testing.T, e engine) {
	s := startSystem(t, systemConfig{engine: e, agentINI: agentINIExactCounts})
	w := window()
	const rate = 2000
	s.pullServiceKeys()
	load := startLoad(loadgen.Config{Ports: s.ports, Modids: loadgen.Range{Lo: 1, Hi: 100},
		Cmdids: loadgen.Range{Lo: 1, Hi: 1}, ReportAfter: true, Rate: rate, Duration: 10 * time.Minute,
		Warmup: 2 * time.Second, Timeout: loadTimeout})
	defer load.stop()
	// The schedule starts after the load's warm-up, so that the outage falls in its
	// measured seconds (every key is in the agent's table already: pullServiceKeys).
	time.Sleep(2 * time.Second)
	start := time.Now()
	at := func() float64 { return time.Since(start).Seconds() }

	// Before the stop: a change the agent has seen, and one committed just before it,
	// which lars-dns may not have read yet.
	time.Sleep(time.Second)
	s.routeAdd(1, 1, "10.9.1.1", 9101)
	s.waitAgentHost(1, 1, "10.9.1.1:9101")
	s.routeAdd(2, 1, "10.9.1.2", 9102)

	f := fault{name: "route store stopped (" + e.name + ": " + e.outage + ")", start: at()}
	before := s.mustLedger()
	restore := e.stop(t, s.db)
	// The store is away until every service has failed on it, then for the window.
	noticed := s.waitStoreUp(false, 2*eventLimit)
	noticedAt := s.mustLedger()
	time.Sleep(w)
	// The store stays away until lars-reporter, failing on it, has read statuses the
	// agent sent (once a second under the load) and held or dropped-and-counted the rows
	// it could not write: the outage lasts as long as these take on a busy machine.
	var during reportLedger
	proctest.Eventually(t, eventLimit, "lars-reporter reading statuses and holding or dropping their rows while the store is away", func() (bool, string) {
		during = s.mustLedger()
		return during.frames > noticedAt.frames && (during.queued > 0 || during.dropped > before.dropped),
			fmt.Sprintf("%.0f statuses read when every service had failed on the store; now %s, %.0f rows held", noticedAt.frames, during, during.queued)
	})
	outage := time.Since(start) - time.Duration(f.start*float64(time.Second))
	restore()
	restored := time.Now()
	f.end = at()

	// Nothing was lost to the outage on the agent's side: lars-reporter kept reading
	// what the agent sent.
	if during.sendDrops != before.sendDrops {
		t.Errorf("the agent dropped %.0f statuses while the store was away: lars-reporter stopped reading", during.sendDrops-before.sendDrops)
	}

	// Both recover without a restart.
	recovered := s.waitStoreUp(true, 2*eventLimit)
	proctest.Eventually(t, eventLimit, "lars-reporter writing rows again", func() (bool, string) {
		l := s.mustLedger()
		return l.written > during.written, fmt.Sprintf("%.0f rows written, %.0f before the return", l.written, during.written)
	})
	rowsAgain := time.Since(restored)
	proctest.Eventually(t, eventLimit, "a row written after the store returned", func() (bool, string) {
		newest := int64(0)
		for _, r := range s.storedStatuses() {
			newest = max(newest, r.TS)
		}
		return newest >= restored.Unix(), fmt.Sprintf("newest row ts %d, store back at %d", newest, restored.Unix())
	})
	s.routeAdd(3, 1, "10.9.1.3", 9103)
	took := s.waitAgentHost(3, 1, "10.9.1.3:9103")
	// The change committed before the stop reached the agent, and neither was undone.
	s.waitAgentHost(2, 1, "10.9.1.2:9102")
	s.waitAgentHost(1, 1, "10.9.1.1:9101")
	s.checkRoutesMatchStore(func(modid, cmdid int32) bool { return modid <= 3 && cmdid == 1 })

	time.Sleep(2 * time.Second) // a last 2 s of load after the recovery, for the figures
	load.stop()
	rep := load.wait(t)
	checkEveryAnswerAHost(t, rep)
	l, rc := s.settleReports(func(modid, cmdid int32) bool { return modid <= 100 && cmdid == 1 })

	rows := []row{
		{f.name, "get_host answered from the agent's table; lars-dns served its snapshot, lars-reporter kept reading and held the rows; both failed on the store and recovered without restart; no committed change lost",
			fmt.Sprintf("store away %.1fs; failure seen by lars-dns A, B, lars-reporter after %s; back %s after its return; "+
				"lars-reporter read %.0f statuses and held %.0f rows (dropped %.0f) while away, wrote again %.2fs after the return; "+
				"a change made after the return seen %.2fs after the write; %s",
				outage.Seconds(), seconds(noticed), seconds(recovered), during.frames-before.frames, during.queued,
				during.dropped-before.dropped, rowsAgain.Seconds(), took.Seconds(), faultFigures(rep, f))},
		{"report path once the load stopped", "every status sent read; every result written, coalesced or counted as dropped; the rows equal the agent's counts",
			fmt.Sprintf("%s; %d hosts compared (%d calls), %d differ", l, rc.hosts, rc.calls, len(rc.mismatches))},
		wholeRunRow(rep),
	}
	printTable(t, "route store stopped under load ("+strconv.Itoa(rate)+" get_host/s open loop, "+e.name+")", rows)
}

// storeUpGauges are the admin endpoints and gauges saying whether each service's last
// query of the store succeeded: lars-dns A, lars-dns B, lars-reporter.
func (s *system) storeUpGauges() [][2]string {
	return [][2]string{{s.dnsAdmin[0], "lars_dns_store_up"}, {s.dnsAdmin[1], "lars_dns_store_up"}, {s.repAdmin, "lars_reporter_store_up"}}
}

// waitStoreUp waits until every service says its store is up (or, with up false,
// down) and returns how long each took; it fails the test after within.
func (s *system) waitStoreUp(up bool, within time.Duration) []time.Duration {
	s.t.Helper()
	want := 0.0
	if up {
		want = 1
	}
	gauges := s.storeUpGauges()
	took := make([]time.Duration, len(gauges))
	start := time.Now()
	proctest.Eventually(s.t, within, fmt.Sprintf("every service's store_up %v", want), func() (bool, string) {
		all := true
		state := ""
		for i, g := range gauges {
			v := metricAt(g[0], g[1])
			state += fmt.Sprintf("%s@%s=%v ", g[1], g[0], v)
			if v != want {
				all = false
			} else if took[i] == 0 {
				took[i] = time.Since(start)
			}
		}
		return all, state
	})
	return took
}

// mustLedger reads the report path's counts, failing the test if it cannot.
func (s *system) mustLedger() reportLedger {
	s.t.Helper()
	l, err := s.reportLedger()
	if err != nil {
		s.t.Fatalf("report counts: %v", err)
	}
	return l
}

// droppedRowsBound is the most rows the counted drops can explain: a status the agent
// dropped carries a key's hosts (at most maxHostsPerKey), lars-reporter counts rows.
func (l reportLedger) droppedRowsBound() float64 {
	const maxHostsPerKey = 100 // examples/routes.txt: key 1000/1
	return (l.queueDrops+l.sendDrops)*maxHostsPerKey + l.dropped
}

// seconds formats durations as "1.23/0.45/0.67s".
func seconds(ds []time.Duration) string {
	out := ""
	for i, d := range ds {
		if i > 0 {
			out += "/"
		}
		out += fmt.Sprintf("%.2f", d.Seconds())
	}
	return out + "s"
}

// firstFew returns the first five of list.
func firstFew(list []string) []string { return list[:min(len(list), 5)] }

package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/loadgen"
)

// window is how long each fault lasts: CHAOS_WINDOW (a duration), default 4s; CI
// shortens it.
func window() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("CHAOS_WINDOW")); err == nil && d > 0 {
		return d
	}
	return 4 * time.Second
}

// row is one line of the run's table: a fault, what held, the figures.
type row struct{ fault, held, figures string }

// fault is one window of the run, in seconds after the load's warm-up.
type fault struct {
	name       string
	start, end float64
}

// TestFaultsUnderLoad drives the agent at a fixed open-loop rate for the whole run
// while the route services and the report service are killed and restarted on a
// schedule, and checks what must hold: no get_host answer lost or wrong, route changes
// made during an outage reach the agent after it, the agent counts the reports it could
// not send.
func TestFaultsUnderLoad(t *testing.T) {
	requireChaos(t)
	eachEngine(t, faultsUnderLoad)
}

func faultsUnderLoad(t *testing.T, e engine) {
	s := startSystem(t, systemConfig{engine: e})
	w := window()
	const rate = 2000
	s.pullServiceKeys()
	// The load runs until the last fault is over, however long the faults take on a
	// busy machine: its Duration is only a bound.
	load := startLoad(loadgen.Config{Ports: s.ports, Modids: loadgen.Range{Lo: 1, Hi: 100},
		Cmdids: loadgen.Range{Lo: 1, Hi: 1}, ReportAfter: true, Rate: rate, Duration: 10 * time.Minute, Warmup: 2 * time.Second,
		Timeout: loadTimeout})
	defer load.stop()
	// The schedule starts after the load's warm-up, so that the faults fall in its
	// measured seconds (every key is in the agent's table already: pullServiceKeys).
	time.Sleep(2 * time.Second)
	start := time.Now()
	at := func() float64 { return time.Since(start).Seconds() }
	var rows []row
	var faults []fault

	// 1. One route service killed (SIGKILL): the agent fails over to the other, and a
	// change made meanwhile reaches it through that one.
	time.Sleep(time.Second)
	f := fault{name: "lars-dns A killed (SIGKILL)", start: at()}
	s.dns[0].Kill()
	s.routeAdd(1, 1, "10.9.0.1", 9001)
	took := s.waitAgentHost(1, 1, "10.9.0.1:9001")
	time.Sleep(max(0, w-took))
	s.startDNS(0)
	f.end = at()
	faults = append(faults, f)
	rows = append(rows, row{f.name, "answers went on; a change made during it reached the agent through lars-dns B",
		fmt.Sprintf("change seen %.2fs after the write", took.Seconds())})

	// 2. Every route service down: the agent answers from its table; a change made
	// during the outage reaches it after the restart.
	time.Sleep(time.Second)
	f = fault{name: "every lars-dns down", start: at()}
	s.dns[0].Kill()
	s.dns[1].Kill()
	s.routeAdd(2, 1, "10.9.0.2", 9002)
	time.Sleep(w)
	restarted := time.Now()
	s.startDNS(0)
	s.startDNS(1)
	f.end = at()
	s.waitAgentHost(2, 1, "10.9.0.2:9002")
	faults = append(faults, f)
	rows = append(rows, row{f.name, "answers went on from the agent's table; the change made during the outage arrived after the restart",
		fmt.Sprintf("outage %v; change seen %.2fs after the restart", w, time.Since(restarted).Seconds())})

	// 3. The report service killed: the agent counts what it could not send and does
	// not slow down.
	time.Sleep(time.Second)
	f = fault{name: "lars-reporter killed (SIGKILL)", start: at()}
	before := s.mustMetricAt(s.admin, "lars_agent_report_drops_total")
	s.reporter.Kill()
	time.Sleep(w)
	// The reporter stays away until the agent has counted a report it could not send
	// (it sends every key's status once a second under the load).
	proctest.Eventually(t, eventLimit, f.name+": the agent counting the reports it could not send", func() (bool, string) {
		v := s.metric("lars_agent_report_drops_total")
		return v > before, fmt.Sprintf("lars_agent_report_drops_total %.0f, %.0f before the kill", v, before)
	})
	dropped := s.mustMetricAt(s.admin, "lars_agent_report_drops_total") - before
	s.startReporter()
	f.end = at()
	faults = append(faults, f)
	rows = append(rows, row{f.name, "the agent counted the reports it could not send; answers went on",
		fmt.Sprintf("%.0f reports dropped and counted", dropped)})

	time.Sleep(time.Second) // a last second of load after the faults, for the figures
	load.stop()
	rep := load.wait(t)
	// What must hold over the whole run, faults included: every request answered, every
	// answer a host (the routes exist and no host fails).
	checkEveryAnswerAHost(t, rep)
	for i, f := range faults {
		rows[i].figures += "; " + faultFigures(rep, f)
	}
	rows = append(rows, wholeRunRow(rep))
	printTable(t, "faults under load ("+strconv.Itoa(rate)+" get_host/s open loop, "+e.name+")", rows)
}

// TestAgentRestartWithCache kills the agent while every route service is down and
// starts it again with its route cache: its very first get_host answer, asked as soon
// as it listens, must come from the cached routes (nothing else can give it a host).
func TestAgentRestartWithCache(t *testing.T) {
	requireChaos(t)
	eachEngine(t, agentRestartWithCache)
}

func agentRestartWithCache(t *testing.T, e engine) {
	s := startSystem(t, systemConfig{engine: e})
	getHost := []string{"-ports", s.larsctlPorts(), "get-host", "1", "1"}
	proctest.RunUntil(t, eventLimit, 0, "larsctl", getHost...)
	s.waitAgentHost(1, 1, "10.0.1.1:8001")
	// The cache is written at most every 5 s once the routes changed.
	proctest.Eventually(t, eventLimit, "route cache written", func() (bool, string) {
		st, err := os.Stat(s.cache)
		return err == nil && st.Size() > 0, "no cache file yet"
	})
	s.dns[0].Kill()
	s.dns[1].Kill()
	s.agent.Kill()
	start := time.Now()
	s.startAgent()
	// One request, not retried, answered however late: a busy machine may take seconds
	// to run the agent, but only the cache can give it a host.
	code, out := proctest.Run(t, "larsctl", append([]string{"-timeout", eventLimit.String()}, getHost...)...)
	took := time.Since(start)
	if code != 0 || !strings.Contains(out, "10.0.1.") {
		t.Fatalf("get-host after a restart with the cache and no route service: exit %d %q", code, out)
	}
	printTable(t, "agent restarted with -cache while every lars-dns is down ("+e.name+")", []row{{
		"agent killed, route services down, agent started with -cache",
		"served the cached routes", fmt.Sprintf("first get_host answered %.0f ms after the start", float64(took.Microseconds())/1000),
	}})
}

// printTable writes rows as a table to standard output (make chaos shows it).
func printTable(_ *testing.T, title string, rows []row) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n== %s\n| fault | what held | figures |\n|---|---|---|\n", title)
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.fault, r.held, r.figures)
	}
	tableMu.Lock()
	defer tableMu.Unlock()
	fmt.Print(b.String())
}

package chaos

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/udpstat"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report"
)

// envSoak holds the soak's length, a Go duration (`make soak` sets it from SOAK); the
// soak skips without it.
const envSoak = "LARS_SOAK"

// The soak's load, moderate so that two systems (SQLite and MariaDB) run side by side
// on a small machine: the agent driven open loop at soakRate over services 1-100
// (get_host with a report after each answer, get_route and reports of the mix), and at
// soakRouteRate with get_route over the changingKeys keys from changingFirst/1, whose
// routes change every second.
const (
	soakRate      = 500
	soakRouteRate = 20
	changingFirst = 2001
	changingKeys  = 10
)

// sampleEvery is how often the soak samples every process.
const sampleEvery = 10 * time.Second

// TestSoak runs the whole system for LARS_SOAK under steady mixed load with a route
// change every second, on SQLite and MariaDB side by side, and checks what must hold:
// memory, goroutines and descriptors of every process stay within their growth bounds
// after the warm-up; every route change reaches the agent, whose routes end equal to the
// store's; every request is answered; and every report is accounted for, from the load
// generator to the rows of ServerCallStatus.
func TestSoak(t *testing.T) {
	d := soakDuration(t)
	t.Run(sqliteEngine.name, func(t *testing.T) {
		t.Parallel()
		soak(t, sqliteEngine, d)
	})
	t.Run(mariadbEngine.name, func(t *testing.T) {
		t.Parallel()
		requireMariaDB(t)
		soak(t, mariadbEngine, d)
	})
}

// soakDuration returns LARS_SOAK or skips t; it fails t when the soak is too short for
// the growth check, or longer than the test binary's -timeout allows.
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv(envSoak)
	if v == "" {
		t.Skip(envSoak + " is not set: the soak runs with make soak (SOAK=30m)")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q is not a positive duration", envSoak, v)
	}
	if least := soakWarmup(d) + minPostWarmup*sampleEvery; d < least {
		t.Fatalf("%s=%v is too short: the growth check needs %v (the warm-up and %d samples after it)", envSoak, d, least, minPostWarmup)
	}
	if dl, ok := t.Deadline(); ok && time.Until(dl) < d+5*time.Minute {
		t.Fatalf("%s=%v does not fit the test's -timeout (%v left): raise it", envSoak, d, time.Until(dl).Round(time.Second))
	}
	return d
}

func soak(t *testing.T, e engine, d time.Duration) {
	s := startSystem(t, systemConfig{engine: e, agentINI: agentINIExactCounts})
	for i := range changingKeys {
		s.larsctl("route", "set", fmt.Sprint(changingFirst+i), "1", fmt.Sprintf("10.20.%d.1:20000", i))
	}
	asker, err := newRouteAsker(s.ports)
	if err != nil {
		t.Fatal(err)
	}
	defer asker.close()
	s.pullEveryKey(asker)
	r := s.runSoak(e.name, d, asker)
	rows := []row{r.checkRoutes(), r.checkRequests(), r.checkReports()}
	rows = append(rows, r.checkGrowth()...)
	printSamples(e.name, d, r.procs, r.at, r.series)
	printTable(t, fmt.Sprintf("soak on %s (%v, %d requests/s mixed + %d get_route/s, a route change every second)", e.name, d, soakRate, soakRouteRate), rows)
}

// soakRun is what a soak saw: the samples of every process, the load's reports, the
// route changes.
type soakRun struct {
	s         *system
	d         time.Duration
	procs     []proc
	at        []time.Duration // when each sample was taken, from the start of the load
	series    [][]sample      // by process, then by sample
	mixed     *report.Report  // the mixed load over services 1-100
	routes    *report.Report  // get_route of the changing keys
	changes   changeStats
	asker     *routeAsker // the test's own get_route (pulls and change checks)
	loadDrops *dropWatch  // kernel drops on the load's sockets
}

// runSoak drives the system for d: the loads, a route change every second, and a
// sample of every process every sampleEvery, each also shown as a progress line.
func (s *system) runSoak(engine string, d time.Duration, asker *routeAsker) *soakRun {
	t := s.t
	t.Helper()
	r := &soakRun{s: s, d: d, asker: asker, loadDrops: newDropWatch(s.ports), procs: []proc{
		{"lars-dns A", s.dns[0].PID(), s.dnsAdmin[0]},
		{"lars-dns B", s.dns[1].PID(), s.dnsAdmin[1]},
		{"lars-reporter", s.reporter.PID(), s.repAdmin},
		{"lars-agent", s.agent.PID(), s.admin},
	}}
	r.series = make([][]sample, len(r.procs))
	start := time.Now()
	mixed := startLoad(loadgen.Config{Ports: s.ports, Modids: loadgen.Range{Lo: 1, Hi: 100}, Cmdids: loadgen.Range{Lo: 1, Hi: 1},
		Mix: loadgen.Mix{loadgen.KindGetHost: 3, loadgen.KindGetRoute: 1, loadgen.KindReport: 1}, ReportAfter: true,
		Rate: soakRate, Duration: d, Timeout: loadTimeout, Seed: 1})
	defer mixed.stop()
	routes := startLoad(loadgen.Config{Ports: s.ports, Modids: loadgen.Range{Lo: changingFirst, Hi: changingFirst + changingKeys - 1},
		Cmdids: loadgen.Range{Lo: 1, Hi: 1}, Mix: loadgen.Mix{loadgen.KindGetRoute: 1}, Rate: soakRouteRate, Duration: d,
		Timeout: loadTimeout, Seed: 2})
	defer routes.stop()
	changes := make(chan changeStats, 1)
	go func() { changes <- s.changeRoutesEverySecond(asker, start.Add(d)) }()
	stopDrops := make(chan struct{})
	stopWatch := sync.OnceFunc(func() { close(stopDrops) })
	defer stopWatch()
	dropsDone := r.loadDrops.follow(stopDrops)

	for n := 1; ; n++ {
		next := start.Add(time.Duration(n) * sampleEvery)
		if next.After(start.Add(d)) {
			break
		}
		time.Sleep(time.Until(next))
		var cells []string
		for i, p := range r.procs {
			smp, err := takeSample(p)
			if err != nil {
				t.Fatalf("sample at %v: %v", time.Since(start).Round(time.Second), err)
			}
			r.series[i] = append(r.series[i], smp)
			cells = append(cells, p.name+" "+smp.String())
		}
		r.at = append(r.at, time.Since(start).Round(time.Second))
		progress("soak on %s, %v of %v: %s", engine, r.at[len(r.at)-1], d, strings.Join(cells, ", "))
	}
	r.mixed, r.routes = mixed.wait(t), routes.wait(t)
	stopWatch()
	if err := <-dropsDone; err != nil {
		t.Fatal(err)
	}
	r.changes = <-changes
	return r
}

// checkRoutes checks that every route change reached the agent and that its table
// ended equal to the store's.
func (r *soakRun) checkRoutes() row {
	t, cs := r.s.t, r.changes
	t.Helper()
	if cs.made == 0 || cs.seen != cs.made || len(cs.failures) > 0 {
		t.Errorf("route changes: %d made, %d seen by the agent within %v; failures: %v", cs.made, cs.seen, changeLimit, firstFew(cs.failures))
	}
	keys := r.s.checkRoutesMatchStore(func(modid, cmdid int32) bool {
		return cmdid == 1 && (modid <= 100 || modid >= changingFirst && modid < changingFirst+changingKeys)
	})
	return row{"a route change every second", "every change reached the agent; its routes ended equal to the store's",
		fmt.Sprintf("%d changes made, %d seen (%s); %d keys compared at the end", cs.made, cs.seen, cs.latencies(), keys)}
}

// checkRequests checks that every request was answered in time, every get_host with
// a host, or that its loss was counted on the way: by the kernel on the agent's or the
// load's sockets, or by the agent.
func (r *soakRun) checkRequests() row {
	t, mixed, routes := r.s.t, r.mixed, r.routes
	t.Helper()
	kernelDrops, err := udpstat.Drops(r.s.ports)
	if err != nil {
		t.Fatal(err)
	}
	ar := r.s.agentRequests()
	counted := kernelDrops + r.loadDrops.total() + uint64(ar.drops)
	counts := fmt.Sprintf(": kernel drops %d on the agent's sockets, %d on the load's; %.0f datagrams dropped by the agent",
		kernelDrops, r.loadDrops.total(), ar.drops)
	hops := fmt.Sprintf("get_host: %d sent, %.0f received by the agent, %.0f answered, %d answers received; get_route: %d sent (and %d by the test), %.0f received by the agent",
		mixed.ByType.GetHost.Sent, ar.getHostIn, ar.getHostAnswered, mixed.ByType.GetHost.Received,
		mixed.ByType.GetRoute.Sent+routes.Sent, r.asker.sent, ar.getRouteIn)
	checkAnswers(t, mixed, counted, counts+"; "+hops)
	checkAnswers(t, routes, counted-min(counted, unanswered(mixed)), counts+"; "+hops)
	return row{"steady mixed load", "every request answered (late answers counted), every get_host with a host, or its loss counted",
		fmt.Sprintf("%d get_host, %d get_route, %d reports at %.0f datagrams/s; %d get_route of the changing keys; p99 %.0f us, p99.9 %.0f us; %d unanswered, %d late (send lag max %.0f us); %s%s",
			mixed.ByType.GetHost.Sent, mixed.ByType.GetRoute.Sent, mixed.ReportsSent, mixed.SendRate, routes.Sent,
			mixed.LatencyUS.P99, mixed.LatencyUS.P999, unanswered(mixed)+unanswered(routes),
			mixed.Late+routes.Late, max(mixed.SendLagUS.Max, routes.SendLagUS.Max), hops, counts)}
}

// checkReports checks that every report is accounted for: sent by the load, received
// by the agent, counted on its hosts, sent in statuses, read and written by
// lars-reporter, equal to the rows.
func (r *soakRun) checkReports() row {
	t, mixed := r.s.t, r.mixed
	t.Helper()
	l, rc := r.s.settleReports(func(modid, cmdid int32) bool { return modid <= 100 && cmdid == 1 })
	kernelDrops, err := udpstat.Drops(r.s.ports)
	if err != nil {
		t.Fatal(err)
	}
	// A report is lost before the agent only if counted: by the kernel (a full receive
	// buffer of the agent's sockets) or by the load generator (a datagram the kernel
	// refused to send, such as in a burst after a stall of the machine).
	if lost := float64(mixed.ReportsSent) - l.reportsRead; lost < 0 || lost > float64(kernelDrops+mixed.SendErrors) {
		t.Errorf("the load sent %d reports, the agent received %.0f; counted on the way: %d kernel drops on the agent's sockets, %d datagrams the load generator could not send",
			mixed.ReportsSent, l.reportsRead, kernelDrops, mixed.SendErrors)
	}
	if l.reportsRead-l.ignored != float64(rc.calls) {
		t.Errorf("the agent received %.0f reports (%.0f ignored) but its hosts count %d calls", l.reportsRead, l.ignored, rc.calls)
	}
	return row{"reports", "nothing lost that was not counted as dropped: load -> agent -> statuses -> lars-reporter -> rows",
		fmt.Sprintf("%d reports sent (%d datagrams not sent, counted), %.0f received (%d kernel drops on the agent's sockets), %.0f ignored (mix reports before a key's first answer: no host yet), %d counted on %d hosts; %s; %d rows differ",
			mixed.ReportsSent, mixed.SendErrors, l.reportsRead, kernelDrops, l.ignored, rc.calls, rc.hosts, l, len(rc.mismatches))}
}

// checkGrowth checks every process's samples after the warm-up against soakBounds,
// and returns a row per process and one stating the bounds.
func (r *soakRun) checkGrowth() []row {
	t := r.s.t
	t.Helper()
	warm := soakWarmup(r.d)
	first := 0
	for first < len(r.at) && r.at[first] < warm {
		first++
	}
	var rows []row
	for i, p := range r.procs {
		post := r.series[i][first:]
		if len(post) < minPostWarmup {
			t.Fatalf("%d samples after the %v warm-up, the growth check needs %d", len(post), warm, minPostWarmup)
		}
		var figs []string
		held := "within every growth bound"
		for _, b := range soakBounds {
			f, last, ok := b.growth(post)
			figs = append(figs, fmt.Sprintf("%s %.1f -> %.1f%s", b.what, f, last, b.unit))
			if !ok {
				held = "GREW PAST A BOUND"
				t.Errorf("%s: %s grew from %.1f to %.1f%s (mean of the first and last quarter after the %v warm-up), past the bound %.2f x %.1f + %g",
					p.name, b.what, f, last, b.unit, warm, b.factor, f, b.slack)
			}
		}
		rows = append(rows, row{p.name + " after the " + warm.String() + " warm-up", held, strings.Join(figs, ", ")})
	}
	var bounds []string
	for _, b := range soakBounds {
		bounds = append(bounds, b.describe())
	}
	return append(rows, row{"growth bounds", strings.Join(bounds, "; "), fmt.Sprintf("%d samples, every %v", len(r.at), sampleEvery)})
}

// pullEveryKey asks the agent for the route of every key of the soak until it holds
// each, so that the load starts on a warm agent and reports no call it could not place.
func (s *system) pullEveryKey(asker *routeAsker) {
	s.t.Helper()
	keys := serviceKeys()
	for i := range int32(changingKeys) {
		keys = append(keys, routeKey{changingFirst + i, 1})
	}
	s.pullKeys(asker, keys)
}

// tableMu keeps the tables of tests running side by side apart.
var tableMu sync.Mutex

// progress writes one line "== ..." to standard output (make soak shows it), so that a
// long run shows where it is.
func progress(format string, args ...any) {
	tableMu.Lock()
	defer tableMu.Unlock()
	fmt.Printf("== "+format+"\n", args...)
}

// printSamples writes the soak's samples as a table to standard output.
func printSamples(engine string, d time.Duration, procs []proc, at []time.Duration, series [][]sample) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n== soak on %s (%v): every process every %v: RSS MiB / Go heap in use MiB / goroutines / open fds\n| t |", engine, d, sampleEvery)
	for _, p := range procs {
		b.WriteString(" " + p.name + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(procs)) + "\n")
	for i, t := range at {
		fmt.Fprintf(&b, "| %v |", t)
		for j := range procs {
			b.WriteString(" " + series[j][i].String() + " |")
		}
		b.WriteString("\n")
	}
	tableMu.Lock()
	defer tableMu.Unlock()
	fmt.Print(b.String())
}

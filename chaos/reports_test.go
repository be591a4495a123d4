package chaos

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/larsgo/lars/internal/proctest"
)

// reportLedger is every count of the report path at one moment: the statuses the
// agent queued, sent and dropped, and what lars-reporter read, wrote, coalesced,
// dropped and holds. Once the path is quiet, each count is accounted for by the next.
type reportLedger struct {
	// The agent (lars_agent_status_*, lars_agent_report_*).
	emitted     float64 // key statuses queued for the report service
	queueDrops  float64 // statuses that did not fit the agent's queue, counted
	sent        float64 // statuses written to lars-reporter
	sendDrops   float64 // statuses taken from the queue without a connection, or whose write failed, counted
	reportsRead float64 // report datagrams received from business code
	ignored     float64 // reports for a key or host the agent does not have
	// lars-reporter (lars_reporter_*).
	frames    float64 // ReportStatusRequests read
	results   float64 // host results read (one row each)
	written   float64 // rows written to the store
	coalesced float64 // results replaced by a newer one of their row before being written
	dropped   float64 // rows dropped, counted, for any reason
	queued    float64 // rows waiting now
}

// reportLedger reads the agent's and lars-reporter's counters.
func (s *system) reportLedger() (reportLedger, error) {
	a, err := proctest.Scrape(s.admin)
	if err != nil {
		return reportLedger{}, err
	}
	r, err := proctest.Scrape(s.repAdmin)
	if err != nil {
		return reportLedger{}, err
	}
	return reportLedger{
		emitted:     a["lars_agent_status_emitted_total"],
		queueDrops:  a["lars_agent_status_dropped_total"],
		sent:        a["lars_agent_report_service_sent_total"],
		sendDrops:   a["lars_agent_report_drops_total"],
		reportsRead: a[`lars_agent_requests_total{msgid="6",type="report_request"}`],
		ignored:     a["lars_agent_reports_ignored_total"],
		frames:      r["lars_reporter_frames_total"],
		results:     r["lars_reporter_results_total"],
		written:     r["lars_reporter_rows_written_total"],
		coalesced:   r["lars_reporter_results_coalesced_total"],
		dropped: r[`lars_reporter_dropped_rows_total{reason="queue_full"}`] + r[`lars_reporter_dropped_rows_total{reason="db_error"}`] +
			r[`lars_reporter_dropped_rows_total{reason="shutdown"}`],
		queued: r["lars_reporter_queue_rows"],
	}, nil
}

// imbalance says which counts of a quiet report path do not add up ("" when all do):
// every status the agent queued was sent or counted as dropped; lars-reporter read
// every status sent (neither was restarted); every result it read was written,
// coalesced into a newer one or counted as dropped, and none waits.
func (l reportLedger) imbalance() string {
	var bad []string
	if l.emitted != l.sent+l.sendDrops {
		bad = append(bad, fmt.Sprintf("the agent queued %.0f statuses but sent %.0f and dropped %.0f", l.emitted, l.sent, l.sendDrops))
	}
	if l.frames != l.sent {
		bad = append(bad, fmt.Sprintf("the agent sent %.0f statuses, lars-reporter read %.0f", l.sent, l.frames))
	}
	if l.results != l.written+l.coalesced+l.dropped+l.queued {
		bad = append(bad, fmt.Sprintf("lars-reporter read %.0f results but wrote %.0f, coalesced %.0f, dropped %.0f and holds %.0f",
			l.results, l.written, l.coalesced, l.dropped, l.queued))
	}
	if l.queued != 0 {
		bad = append(bad, fmt.Sprintf("lars-reporter still holds %.0f rows", l.queued))
	}
	return strings.Join(bad, "; ")
}

// String gives the ledger's figures for the tables.
func (l reportLedger) String() string {
	return fmt.Sprintf("agent: %.0f statuses queued, %.0f sent, %.0f dropped (+%.0f not queued); lars-reporter: %.0f read, %.0f results, %.0f rows written, %.0f coalesced, %.0f dropped",
		l.emitted, l.sent, l.sendDrops, l.queueDrops, l.frames, l.results, l.written, l.coalesced, l.dropped)
}

// settleReports waits, once the load has stopped, until the report path has delivered
// everything: no count moved since the last look (2 s earlier: the agent sends a key's
// status at most every report_interval, 1 s), the counts add up (imbalance), and the
// rows of the keys keep selects equal the agent's counts but for as many as the counted
// drops can explain (compareRows, droppedRowsBound). It returns the ledger and the
// comparison of that moment; it fails t when the path does not get there within
// 2*eventLimit, which only a broken build reaches.
func (s *system) settleReports(keep func(modid, cmdid int32) bool) (reportLedger, rowsCheck) {
	s.t.Helper()
	var last reportLedger
	var state string
	within := 2 * eventLimit
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		time.Sleep(2 * time.Second)
		l, err := s.reportLedger()
		if err != nil {
			state = err.Error()
			continue
		}
		quiet := l == last
		last = l
		if !quiet {
			state = "still moving: " + l.String()
			continue
		}
		if state = l.imbalance(); state != "" {
			continue
		}
		rc := s.compareRows(keep)
		if allowed := l.droppedRowsBound(); float64(len(rc.mismatches)) <= allowed {
			return l, rc
		}
		state = fmt.Sprintf("%d rows differ from the agent's counts, %.0f drops counted: %v",
			len(rc.mismatches), l.droppedRowsBound(), firstFew(rc.mismatches))
	}
	s.t.Fatalf("the report path did not settle within %v: %s", within, state)
	return last, rowsCheck{}
}

// agentRequests are the agent's counts of the requests it was sent and answered.
type agentRequests struct {
	getHostIn       float64 // get_host requests received
	getHostAnswered float64 // get_host answers, every retcode
	getRouteIn      float64 // get_route requests (API, msgid 7) received
	drops           float64 // datagrams dropped, counted, for any reason (send_failed among them)
}

// agentRequests reads the agent's request counters, failing the test if it cannot.
func (s *system) agentRequests() agentRequests {
	s.t.Helper()
	a, err := proctest.Scrape(s.admin)
	if err != nil {
		s.t.Fatalf("agent metrics: %v", err)
	}
	var r agentRequests
	r.getHostIn = a[`lars_agent_requests_total{msgid="4",type="get_host_request"}`]
	r.getRouteIn = a[`lars_agent_requests_total{msgid="7",type="api_get_route_request"}`]
	for name, v := range a {
		switch {
		case strings.HasPrefix(name, "lars_agent_get_host_answers_total{"):
			r.getHostAnswered += v
		case strings.HasPrefix(name, "lars_agent_drops_total{"):
			r.drops += v
		}
	}
	return r
}

// agentRoute is one key of the agent's /routes.
type agentRoute struct {
	Modid, Cmdid int32
	Hosts        []struct {
		Addr        string
		RSucc, RErr uint32
	}
}

// agentRoutes returns the agent's route table from its /routes.
func (s *system) agentRoutes() ([]agentRoute, error) {
	var routes []agentRoute
	return routes, getJSON("http://"+s.admin+"/routes", &routes)
}

// storedStatus is one ServerCallStatus row, as larsctl status -json prints it.
type storedStatus struct {
	Modid, Cmdid int32
	IP           string
	Port         int32
	Caller       string
	Succ, Err    uint32
	TS           int64
}

// storedStatuses returns the report store's rows, read by larsctl.
func (s *system) storedStatuses() []storedStatus {
	s.t.Helper()
	var rows []storedStatus
	code, out := proctest.Run(s.t, "larsctl", "-db", s.db, "status", "-json")
	switch {
	case code == 4: // none stored yet
		return nil
	case code != 0:
		s.t.Fatalf("larsctl status -json: exit %d: %s", code, out)
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		s.t.Fatalf("larsctl status -json: %v: %.200s", err, out)
	}
	return rows
}

// rowsCheck is the comparison of the report store's rows with the agent's counts.
type rowsCheck struct {
	hosts      int      // hosts of the agent compared
	calls      uint64   // their successes and failures, summed
	mismatches []string // "key host: agent S/E, row S/E" for each that differs
}

// compareRows compares, for every host of the agent's keys that keep selects, the
// counts the agent holds (rsucc, rerr: with an idle_timeout longer than the run they
// count every call since the host joined the key) with its ServerCallStatus row, which
// holds the counts of the last status written. Once the report path is quiet they must
// be equal; a host with no calls may have no row.
func (s *system) compareRows(keep func(modid, cmdid int32) bool) rowsCheck {
	s.t.Helper()
	routes, err := s.agentRoutes()
	if err != nil {
		s.t.Fatalf("agent /routes: %v", err)
	}
	type rowKey struct {
		modid, cmdid int32
		host         string
	}
	rows := map[rowKey]storedStatus{}
	for _, r := range s.storedStatuses() {
		rows[rowKey{r.Modid, r.Cmdid, fmt.Sprintf("%s:%d", r.IP, r.Port)}] = r
	}
	var c rowsCheck
	for _, r := range routes {
		if !keep(r.Modid, r.Cmdid) {
			continue
		}
		for _, h := range r.Hosts {
			c.hosts++
			c.calls += uint64(h.RSucc) + uint64(h.RErr)
			row, ok := rows[rowKey{r.Modid, r.Cmdid, h.Addr}]
			if (!ok && h.RSucc+h.RErr == 0) || (ok && row.Succ == h.RSucc && row.Err == h.RErr) {
				continue
			}
			got := "no row"
			if ok {
				got = fmt.Sprintf("row %d/%d", row.Succ, row.Err)
			}
			c.mismatches = append(c.mismatches, fmt.Sprintf("%d/%d %s: agent %d/%d, %s", r.Modid, r.Cmdid, h.Addr, h.RSucc, h.RErr, got))
		}
	}
	return c
}

// agentINIExactCounts is the agent configuration under which the report rows can be
// compared exactly with the agent's counts: a host's window (idle_timeout) outlasts the
// run, so its counts are never reset and every status carries every call so far.
const agentINIExactCounts = "[loadbalance]\nidle_timeout = 86400\n"

// larsctl runs larsctl on the system's store with args and returns its output, failing
// the test unless it exits 0.
func (s *system) larsctl(args ...string) string {
	s.t.Helper()
	code, out := proctest.Run(s.t, "larsctl", append([]string{"-db", s.db}, args...)...)
	if code != 0 {
		s.t.Fatalf("larsctl %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
	return out
}

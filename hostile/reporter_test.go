package hostile

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// The lars-reporter probes of issue 28: forged reports for keys the route store does
// not hold, a connection flooding the queue, and silent connections.

// reporterEnvBin, if set, is the lars-reporter binary the probes run instead of the one
// they build (to show how an older build fails them); flags that binary does not know
// are left out, logged.
const reporterEnvBin = "LARS_REPORTER_BIN"

// reporterWithin bounds every wait for something that must happen: on a working build
// each comes within a second or two, the bound is far beyond.
const reporterWithin = 20 * time.Second

// reporterKey is the key the route store holds and the real agent calls; reporterHost
// its host.
var (
	reporterKey  = route.Key{Modid: 1, Cmdid: 1}
	reporterHost = route.FromWire(10<<24|1, 9000) // 10.0.0.1:9000
)

// reporterSetup is a route store holding reporterKey, lars-reporter on it and a real
// lars-agent reporting to it.
type reporterSetup struct {
	dsn         string
	db          *store.DB
	addr, admin string // lars-reporter's listen and admin addresses
	reporter    *proctest.Daemon
	agentPort   string // the agent's UDP port, for larsctl
	agentAdmin  string
}

// reporterStart builds the binaries, creates the store and starts lars-reporter with
// args and the agent.
func reporterStart(t *testing.T, args ...string) *reporterSetup {
	t.Helper()
	proctest.Build(t, "lars-agent", "larsctl")
	bin := os.Getenv(reporterEnvBin)
	if bin == "" {
		proctest.Build(t, "lars-reporter")
		bin = "lars-reporter"
	}
	dir := t.TempDir()
	s := &reporterSetup{dsn: "sqlite:" + filepath.Join(dir, "lars.db")}
	var err error
	if s.db, err = store.Open(context.Background(), s.dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	if _, err := s.db.SetHosts(context.Background(), reporterKey, []route.Host{reporterHost}); err != nil {
		t.Fatal(err)
	}
	s.addr, s.admin = proctest.FreeAddr(t), proctest.FreeAddr(t)
	all := append([]string{"-db", s.dsn, "-listen", s.addr, "-admin", s.admin, "-log-level", "warn"}, args...)
	s.reporter = proctest.Start(t, bin, reporterKnownFlags(t, bin, all)...)
	s.reporter.WaitListening(t, s.addr, reporterWithin)

	routes := filepath.Join(dir, "routes.txt")
	if err := os.WriteFile(routes, []byte("1 1 10.0.0.1 9000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.agentPort, s.agentAdmin = strconv.Itoa(proctest.FreePort(t, "udp")), proctest.FreeAddr(t)
	agent := proctest.Start(t, "lars-agent", "-routes", routes, "-reporter", s.addr, "-ports", s.agentPort,
		"-admin", s.agentAdmin, "-log-level", "warn")
	agent.WaitListening(t, s.agentAdmin, reporterWithin)
	proctest.RunUntil(t, reporterWithin, 0, "larsctl", "-ports", s.agentPort, "get-host", "1", "1")
	return s
}

// reporterKnownFlags returns args without the flags (and their values) bin does not
// list in its -h output, logging each one left out.
func reporterKnownFlags(t *testing.T, bin string, args []string) []string {
	t.Helper()
	_, help := proctest.Run(t, bin, "-h")
	var out []string
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(strings.SplitN(args[i], "=", 2)[0], "-")
		if strings.HasPrefix(args[i], "-") && !strings.Contains(help, "  -"+name+" ") && !strings.Contains(help, "  -"+name+"\n") {
			t.Logf("%s does not know -%s: left out", bin, name)
			if !strings.Contains(args[i], "=") && i+1 < len(args) {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// metrics returns lars-reporter's samples by name (labels included).
func (s *reporterSetup) metrics(t *testing.T) map[string]float64 {
	t.Helper()
	return reporterScrape(t, s.admin)
}

// reporterScrape returns the samples of the admin endpoint at addr, failing the test
// when it cannot be read.
func reporterScrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	series, err := proctest.Scrape(addr)
	if err != nil {
		t.Fatal(err)
	}
	return series
}

// reporterSettled reports whether every result lars-reporter read was written,
// coalesced or dropped (for any reason), with at least results read.
func reporterSettled(m map[string]float64, results float64) (bool, string) {
	var dropped float64
	for k, v := range m {
		if strings.HasPrefix(k, "lars_reporter_dropped_rows_total{") {
			dropped += v
		}
	}
	read := m["lars_reporter_results_total"]
	done := m["lars_reporter_rows_written_total"] + m["lars_reporter_results_coalesced_total"] + dropped
	return read >= results && done == read && m["lars_reporter_queue_rows"] == 0,
		fmt.Sprintf("read %.0f of %.0f results, %.0f written, coalesced or dropped, %.0f queued", read, results, done, m["lars_reporter_queue_rows"])
}

// simulate has larsctl make n successful calls of reporterKey through the agent.
func (s *reporterSetup) simulate(t *testing.T, n int) {
	t.Helper()
	if code, out := proctest.Run(t, "larsctl", "-ports", s.agentPort, "simulate", "1", "1", "-n", strconv.Itoa(n), "-err-rate", "0"); code != 0 {
		t.Fatalf("larsctl simulate: exit %d: %s", code, out)
	}
}

// agentRow returns the succ_cnt lars-reporter stored for the agent's calls of
// reporterHost, and whether a row is there.
func (s *reporterSetup) agentRow(t *testing.T) (int64, bool) {
	t.Helper()
	var succ int64
	err := s.db.SQL().QueryRowContext(context.Background(),
		"SELECT MAX(succ_cnt) FROM ServerCallStatus WHERE modid = ? AND cmdid = ? AND ip = ? AND port = ?",
		reporterKey.Modid, reporterKey.Cmdid, uint32(10<<24|1), 9000).Scan(&nullInt{&succ})
	if err != nil {
		t.Fatal(err)
	}
	return succ, succ > 0
}

// nullInt scans a nullable integer as 0 when NULL.
type nullInt struct{ v *int64 }

func (n nullInt) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*n.v = 0
	case int64:
		*n.v = x
	case []byte:
		v, err := strconv.ParseInt(string(x), 10, 64)
		*n.v = v
		return err
	default:
		return fmt.Errorf("unexpected %T", src)
	}
	return nil
}

// count returns the result of a COUNT query on the store.
func (s *reporterSetup) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.SQL().QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// reporterFrames returns frames reports of perFrame results each, for key modid/cmdid
// (each frame's modid is modid+i when spread), hosts numbered from firstIP on.
func reporterFrames(t *testing.T, frames, perFrame int, modid, cmdid int32, spread bool, firstIP int32) []byte {
	t.Helper()
	var buf []byte
	ip := firstIP
	for i := range frames {
		req := larspb.ReportStatusRequest{Modid: modid, Cmdid: cmdid, Caller: 11<<24 | 1, Ts: uint32(time.Now().Unix())}
		if spread {
			req.Modid = modid + int32(i)
		}
		for range perFrame {
			req.Results = append(req.Results, &larspb.HostCallResult{Ip: ip, Port: 80, Succ: 1})
			ip++
		}
		var err error
		if buf, err = codec.AppendFrame(buf, codec.MsgReportStatusRequest, &req); err != nil {
			t.Fatal(err)
		}
	}
	return buf
}

// reporterDial connects to lars-reporter.
func reporterDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestReporterForgedReportsForUnknownKeys: 2,000 reports for keys without a route are
// not stored (the console would have listed 2,000 more services) and are counted,
// while a real agent's report still lands.
func TestReporterForgedReportsForUnknownKeys(t *testing.T) {
	requireHostile(t)
	const forged = 2000
	s := reporterStart(t)
	c := reporterDial(t, s.addr)
	if _, err := c.Write(reporterFrames(t, forged, 1, 5000, 1, true, 20<<24)); err != nil {
		t.Fatal(err)
	}
	proctest.Eventually(t, reporterWithin, "the forged reports read and settled", func() (bool, string) {
		return reporterSettled(s.metrics(t), forged)
	})
	s.simulate(t, 20)
	proctest.Eventually(t, reporterWithin, "the agent's report stored", func() (bool, string) {
		succ, ok := s.agentRow(t)
		return ok, fmt.Sprintf("succ %d", succ)
	})
	stored := s.count(t, "SELECT COUNT(*) FROM ServerCallStatus WHERE modid >= 5000")
	keys := s.count(t, "SELECT COUNT(*) FROM (SELECT DISTINCT modid, cmdid FROM ServerCallStatus) k")
	m := s.metrics(t)
	t.Logf("forged rows stored %d, keys with call status %d, unknown_key drops %.0f", stored, keys, m[`lars_reporter_dropped_rows_total{reason="unknown_key"}`])
	if stored != 0 || keys != 1 {
		t.Errorf("%d of the %d forged rows stored, %d keys with call status: want none stored, the one real key", stored, forged, keys)
	}
	if got := m[`lars_reporter_dropped_rows_total{reason="unknown_key"}`]; got != forged {
		t.Errorf(`lars_reporter_dropped_rows_total{reason="unknown_key"} = %.0f, want %d`, got, forged)
	}
}

// TestReporterFloodCannotPushOutAnAgent: while the store is locked (a slow database),
// one connection floods a small queue with distinct rows of a real key, before and
// after a real agent's report; once the store answers, the agent's report lands, the
// drops are the flooder's own, and the log names the flooder's address.
func TestReporterFloodCannotPushOutAnAgent(t *testing.T) {
	requireHostile(t)
	const queue, before, after = 2000, 5000, 20000
	s := reporterStart(t, "-queue", strconv.Itoa(queue), "-workers", "1")
	// Hold the write lock: lars-reporter's writer waits (its write timeout is 10s).
	lock, err := s.db.SQL().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var release sync.Once
	unlock := func() { release.Do(func() { lock.Rollback() }) }
	t.Cleanup(unlock)
	if _, err := lock.Exec("UPDATE RouteVersion SET version = version WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	flood := reporterDial(t, s.addr)
	if _, err := flood.Write(reporterFrames(t, before/500, 500, 1, 1, false, 30<<24)); err != nil {
		t.Fatal(err)
	}
	proctest.Eventually(t, reporterWithin, "the first flood read", func() (bool, string) {
		m := s.metrics(t)
		return m["lars_reporter_results_total"] >= before, fmt.Sprintf("%.0f results", m["lars_reporter_results_total"])
	})
	s.simulate(t, 20)
	var agentSent float64
	proctest.Eventually(t, reporterWithin, "the agent's report read", func() (bool, string) {
		agentSent = reporterScrape(t, s.agentAdmin)["lars_agent_report_service_sent_total"]
		got := s.metrics(t)["lars_reporter_results_total"]
		return agentSent >= 1 && got >= before+agentSent, fmt.Sprintf("agent sent %.0f, reporter read %.0f", agentSent, got)
	})
	if _, err := flood.Write(reporterFrames(t, after/500, 500, 1, 1, false, 40<<24)); err != nil {
		t.Fatal(err)
	}
	proctest.Eventually(t, reporterWithin, "the second flood read", func() (bool, string) {
		got := s.metrics(t)["lars_reporter_results_total"]
		return got >= before+agentSent+after, fmt.Sprintf("%.0f results", got)
	})
	m := s.metrics(t)
	t.Logf("before unlock: %.0f rows written, %.0f db errors, %.0f queued, agent sent %.0f", m["lars_reporter_rows_written_total"], m["lars_reporter_db_errors_total"], m["lars_reporter_queue_rows"], agentSent)
	unlock()
	proctest.Eventually(t, reporterWithin, "every result written or dropped", func() (bool, string) {
		return reporterSettled(s.metrics(t), before+after+agentSent)
	})
	m = s.metrics(t)
	succ, landed := s.agentRow(t)
	own, heaviest := m[`lars_reporter_queue_full_dropped_rows_total{cause="own_over_share"}`], m[`lars_reporter_queue_full_dropped_rows_total{cause="heaviest_connection"}`]
	t.Logf("agent row stored %v (succ %d); queue_full drops %.0f (own_over_share %.0f, heaviest_connection %.0f)",
		landed, succ, m[`lars_reporter_dropped_rows_total{reason="queue_full"}`], own, heaviest)
	if !landed {
		t.Errorf("the agent's report was pushed out of the queue by the flood (%.0f rows dropped as queue_full)", m[`lars_reporter_dropped_rows_total{reason="queue_full"}`])
	}
	if own < after {
		t.Errorf(`lars_reporter_queue_full_dropped_rows_total{cause="own_over_share"} = %.0f, want the flooder's own, at least %d`, own, after)
	}
	if flooder := flood.LocalAddr().String(); !strings.Contains(s.reporter.Output(), flooder) {
		t.Errorf("lars-reporter's log does not name the flooder %s", flooder)
	}
}

// TestReporterClosesSilentConnections: with -idle-timeout 2s, connections that never
// send anything are closed and counted, while a real agent whose callers keep calling
// (it reports every second) keeps its connection and gets its reports stored.
func TestReporterClosesSilentConnections(t *testing.T) {
	requireHostile(t)
	const silent = 50
	s := reporterStart(t, "-idle-timeout", "2s")
	stop := make(chan struct{})
	calling := make(chan struct{})
	go func() { // the agent's callers: a few calls every 200ms until the probe ends
		defer close(calling)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			proctest.Run(t, "larsctl", "-ports", s.agentPort, "simulate", "1", "1", "-n", "5", "-err-rate", "0")
		}
	}()
	defer func() { close(stop); <-calling }()
	conns := make([]net.Conn, silent)
	for i := range conns {
		conns[i] = reporterDial(t, s.addr)
	}
	closed := 0
	deadline := time.Now().Add(10 * time.Second) // 5 idle timeouts
	for _, c := range conns {
		c.SetReadDeadline(deadline)
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				closed++
			}
		}
	}
	m := s.metrics(t)
	t.Logf("silent connections closed %d of %d within 10s; lars_reporter_connections %.0f, closed{idle} %.0f",
		closed, silent, m["lars_reporter_connections"], m[`lars_reporter_connections_closed_total{cause="idle"}`])
	if closed != silent {
		t.Errorf("%d of %d silent connections closed within 10s of a 2s idle timeout", closed, silent)
	}
	if got := m[`lars_reporter_connections_closed_total{cause="idle"}`]; got < silent {
		t.Errorf(`lars_reporter_connections_closed_total{cause="idle"} = %.0f, want at least %d`, got, silent)
	}
	if _, err := s.db.SQL().ExecContext(context.Background(), "DELETE FROM ServerCallStatus"); err != nil {
		t.Fatal(err)
	}
	proctest.Eventually(t, reporterWithin, "the calling agent's report stored after the silent ones were closed", func() (bool, string) {
		succ, ok := s.agentRow(t)
		return ok, fmt.Sprintf("succ %d", succ)
	})
}

package hostile

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// The console's store at scale: the sizes issue 28 names.
const (
	consoleServices    = 100_000   // keys modid 1..1000 x cmdid 1..100, two hosts each
	consoleBigHosts    = 10_000    // hosts of the big route, key 1/1
	consoleHistoryRows = 1_000_000 // RouteHistory rows, ten per key
	consoleForgedKeys  = 2_000     // keys with call status only (forged reports)
	// consolePageBound bounds every page's body: the old service page of the big
	// route was 7.1 MB here, its services page 24.4 MB.
	consolePageBound = 200 << 10
)

// consoleEnvBin, if set, is the lars-console binary the probe runs instead of the one
// it builds (to measure an older build); consoleEnvMeasure=1 logs the median time of
// consoleMeasureRuns GETs of each page (never asserted: the machine is shared).
const (
	consoleEnvBin     = "LARS_CONSOLE_BIN"
	consoleEnvMeasure = "LARS_CONSOLE_MEASURE"
)

// consoleBigKey is the key of the 10,000-host route.
var consoleBigKey = route.Key{Modid: 1, Cmdid: 1}

// consoleFillStore creates a SQLite route store at path with consoleServices keys, the
// big route, consoleHistoryRows history rows, call status for the big route and for
// consoleForgedKeys keys without a route and a name for every modid and cmdid, in one
// transaction of bulk SQL (seconds).
func consoleFillStore(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	big := make([]route.Host, consoleBigHosts)
	for i := range big {
		big[i] = route.FromWire(int32(172<<24|16<<16+i), 9000)
	}
	seq := func(n int) string {
		return fmt.Sprintf("WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM seq WHERE i < %d) ", n-1)
	}
	const ten = 10 << 24 // 10.0.0.0
	steps := []struct {
		what, sql string
		args      []any
	}{
		{"routes", seq(consoleServices) + `INSERT INTO RouteData (modid, cmdid, serverip, serverport)
			SELECT 1 + i/100, 1 + i%100, ` + fmt.Sprint(ten) + ` + i, p.port FROM seq, (SELECT 8000 AS port UNION ALL SELECT 8001) p
			WHERE i > 0`, nil},
		{"the big route", seq(consoleBigHosts) + `INSERT INTO RouteData (modid, cmdid, serverip, serverport)
			SELECT 1, 1, ` + fmt.Sprint(uint32(wireIPOf(big[0]))) + ` + i, 9000 FROM seq`, nil},
		{"history", seq(consoleHistoryRows-1) + `INSERT INTO RouteHistory (version, ts, who, op, modid, cmdid, hosts_before, hosts_after)
			SELECT 1 + i, 1700000000000 + i*1000, 'filler', 'add host', 1 + (i%100000)/100, 1 + i%100, '10.1.2.3:8000', '10.1.2.3:8000 10.1.2.4:8001' FROM seq`, nil},
		{"the big replace", `INSERT INTO RouteHistory (version, ts, who, op, modid, cmdid, hosts_before, hosts_after)
			VALUES (?, ?, 'filler', 'set hosts', 1, 1, '10.0.0.0:8000 10.0.0.0:8001', ?)`,
			[]any{consoleHistoryRows, int64(1700000000000 + consoleHistoryRows*1000), route.FormatHostList(big)}},
		{"big route status", seq(consoleBigHosts) + `INSERT INTO ServerCallStatus (modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload)
			SELECT 1, 1, ` + fmt.Sprint(uint32(wireIPOf(big[0]))) + ` + i, 9000, 2130706433, 100 + i%7, i%3, 1700001000 + i%60, CASE WHEN i%100 = 0 THEN '1' ELSE '0' END FROM seq`, nil},
		{"forged status", seq(consoleForgedKeys) + `INSERT INTO ServerCallStatus (modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload)
			SELECT 2000000 + i, 1, 16843009, 80, 2130706433, 1, 0, 1700001000, '0' FROM seq`, nil},
		{"modid names", seq(consoleServices/100) + `INSERT INTO ModIDConfig (modid, content) SELECT 1 + i, 'module ' || i FROM seq`, nil},
		{"cmdid names", seq(100) + `INSERT INTO CmdIDConfig (cmdid, content) SELECT 1 + i, 'command ' || i FROM seq`, nil},
	}
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			t.Fatalf("filling the store (%s): %v", s.what, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("store filled in %v: %d services (+%d forged), a %d-host route, %d history rows",
		time.Since(start).Round(time.Millisecond), consoleServices, consoleForgedKeys, consoleBigHosts, consoleHistoryRows)
}

// consolePages are the pages the probe fetches: every list the console shows, at its
// first page and further on.
var consolePages = []string{
	"/",
	"/?from=101901", // the last page
	"/?sort=hosts&order=desc",
	"/?sort=overloaded&order=desc",
	"/?sort=errors&order=desc",
	"/?sort=changed&order=desc",
	"/?sort=name",
	"/?modid=1",
	"/service/1/1",
	"/service/1/1?from=9901",
	"/service/1/1/chart.svg",
	"/service/500/50",
	"/history",
	"/history?before=500000",
	"/history?modid=1",
	"/history?modid=1&cmdid=1",
	"/names",
}

// consoleMeasureRuns is how many times each page is fetched to measure it.
const consoleMeasureRuns = 5

// consoleClient bounds each GET: the old console took seconds a page.
var consoleClient = &http.Client{Timeout: 2 * time.Minute}

// consoleToken is the API token the probes' consoles are started with: every page
// needs a login or it (issue 27). An older binary ignores the header.
const consoleToken = "hostile-console-api-token"

// consoleGet fetches path and returns the status, the body's size and how long it took.
func consoleGet(t *testing.T, base, path string) (status, size int, took time.Duration) {
	t.Helper()
	start := time.Now()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+consoleToken)
	resp, err := consoleClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, int(n), time.Since(start)
}

// consoleStart starts lars-console (or the binary consoleEnvBin names) on the store at
// path and returns its base URL and its admin endpoint's address ("" for an older
// binary, which has none).
func consoleStart(t *testing.T, path string) (base, adminAddr string) {
	t.Helper()
	bin := os.Getenv(consoleEnvBin)
	args := []string{"-db", "sqlite:" + path}
	if bin == "" {
		proctest.Build(t, "lars-console")
		bin = "lars-console"
		adminAddr = proctest.FreeAddr(t)
		args = append(args, "-admin", adminAddr, "-token", consoleToken, "-initial-password-file", filepath.Join(t.TempDir(), "initial-password"))
	}
	addr := proctest.FreeAddr(t)
	d := proctest.Start(t, bin, append(args, "-listen", addr)...)
	d.WaitListening(t, addr, time.Minute)
	return "http://" + addr, adminAddr
}

// consoleCutCounted fails unless the console's metrics count each cause at least once.
func consoleCutCounted(t *testing.T, adminAddr string, causes ...string) {
	t.Helper()
	series, err := proctest.Scrape(adminAddr)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range causes {
		if series[`lars_console_cut_total{cause="`+c+`"}`] == 0 {
			t.Errorf("lars_console_cut_total{cause=%q} did not move", c)
		}
	}
}

// TestConsolePagesBoundedAtScale: with 100,000 services, a 10,000-host route, 1,000,000
// history rows and 2,000 keys that only forged reports made, every page of the console
// is served and stays under consolePageBound; a change made through the console still
// lands; the cuts are counted (lars_console_cut_total by cause). Before issue 28
// (84122b4) the services page was 24.4 MB (2.0 s a GET) and the big route's page
// 7.1 MB (0.59 s); ten of the pages failed the size bound.
func TestConsolePagesBoundedAtScale(t *testing.T) {
	requireHostile(t)
	path := filepath.Join(t.TempDir(), "lars.db")
	consoleFillStore(t, path)
	base, adminAddr := consoleStart(t, path)
	for _, p := range consolePages {
		status, size, _ := consoleGet(t, base, p)
		if status != http.StatusOK {
			t.Errorf("GET %s: status %d", p, status)
		}
		if size >= consolePageBound {
			t.Errorf("GET %s: %d bytes, want under %d", p, size, consolePageBound)
		}
		t.Logf("GET %s: %d bytes", p, size)
	}
	if os.Getenv(consoleEnvMeasure) == "1" {
		for _, p := range consolePages {
			var times []time.Duration
			for range consoleMeasureRuns {
				_, _, took := consoleGet(t, base, p)
				times = append(times, took)
			}
			slices.Sort(times)
			t.Logf("GET %s: median %v (min %v, max %v)", p, times[len(times)/2].Round(time.Millisecond),
				times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
		}
	}
	if adminAddr != "" {
		consoleCutCounted(t, adminAddr, "services_page", "hosts_page", "changes_page", "history_hosts", "replace_form")
	}
	consoleChangeLands(t, base, path)
}

// consoleChangeLands adds a host to the big route through the console and checks that
// the store has it.
func consoleChangeLands(t *testing.T, base, path string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"modid": {"1"}, "cmdid": {"1"}, "ip": {"192.168.77.1"}, "port": {"8080"}}
	req, err := http.NewRequest(http.MethodPost, base+"/hosts/add", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Authorization", "Bearer "+consoleToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a host through the console: status %d, want 303", resp.StatusCode)
	}
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	routes, err := db.Routes(context.Background(), []route.Key{consoleBigKey})
	if err != nil {
		t.Fatal(err)
	}
	ip := uint32(192<<24 | 168<<16 | 77<<8 | 1)
	want := route.FromWire(int32(ip), 8080)
	if !slices.Contains(routes[consoleBigKey], want) {
		t.Errorf("the host added through the console is not in the store (%d hosts)", len(routes[consoleBigKey]))
	}
}

// wireIPOf returns IPv4 host h's wire IP.
func wireIPOf(h route.Host) int32 {
	ip, _, _ := h.Wire()
	return ip
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/proctest"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// The end-to-end test runs the real binaries as a user would: an agent serving a routes
// file and reporting to lars-reporter, larsctl simulating callers, the rows read back
// from the store.

func TestMain(m *testing.M) { proctest.Main(m) }

// callRow is a ServerCallStatus row as the test reads it.
type callRow struct {
	host      string
	succ, err int64
	overload  string
}

// callRows returns the ServerCallStatus rows of key modid/cmdid by "ip:port".
func callRows(t *testing.T, db *store.DB, modid, cmdid int) map[string]callRow {
	t.Helper()
	rs, err := db.SQL().QueryContext(context.Background(),
		"SELECT ip, port, succ_cnt, err_cnt, overload FROM ServerCallStatus WHERE modid = ? AND cmdid = ?", modid, cmdid)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string]callRow{}
	for rs.Next() {
		var ip, port uint32
		var r callRow
		if err := rs.Scan(&ip, &port, &r.succ, &r.err, &r.overload); err != nil {
			t.Fatal(err)
		}
		r.host = fmt.Sprintf("%d.%d.%d.%d:%d", ip>>24, ip>>16&0xff, ip>>8&0xff, ip&0xff, port)
		out[r.host] = r
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEndToEndAgentReportsReachTheStore(t *testing.T) {
	proctest.Build(t, "lars-reporter", "lars-agent", "larsctl")
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		// The route store holds the keys: the reporter keeps reports of those only.
		for k, h := range map[route.Key]route.Host{{Modid: 1, Cmdid: 1}: route.FromWire(0x0a000001, 9000), {Modid: 2, Cmdid: 2}: route.FromWire(0x0a000002, 9000)} {
			if _, err := db.SetHosts(context.Background(), k, []route.Host{h}); err != nil {
				t.Fatal(err)
			}
		}
		addr, adminAddr := proctest.FreeAddr(t), proctest.FreeAddr(t)
		reporter := proctest.Start(t, "lars-reporter", "-db", dsn, "-listen", addr, "-admin", adminAddr, "-shutdown-limit", stopWithin.String())
		reporter.WaitListening(t, addr, eventWithin)

		routes := filepath.Join(t.TempDir(), "routes.txt")
		if err := os.WriteFile(routes, []byte("1 1 10.0.0.1 9000\n2 2 10.0.0.2 9000\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		port := fmt.Sprint(proctest.FreePort(t, "udp"))
		agent := proctest.Start(t, "lars-agent", "-routes", routes, "-reporter", addr, "-ports", port, "-shutdown-limit", stopWithin.String())
		proctest.RunUntil(t, eventWithin, 0, "larsctl", "-ports", port, "get-host", "1", "1")

		// Key 1/1: every call succeeds. Key 2/2: every call fails, so its host is
		// overloaded after 15 failures.
		if code, out := proctest.Run(t, "larsctl", "-ports", port, "simulate", "1", "1", "-n", "50", "-err-rate", "0"); code != 0 {
			t.Fatalf("simulate 1 1: exit %d: %s", code, out)
		}
		if code, out := proctest.Run(t, "larsctl", "-ports", port, "simulate", "2", "2", "-n", "40", "-err-rate", "1"); code != 0 {
			t.Fatalf("simulate 2 2: exit %d: %s", code, out)
		}

		proctest.Eventually(t, eventWithin, "both hosts' status stored", func() (bool, string) {
			ok := callRows(t, db, 1, 1)["10.0.0.1:9000"]
			bad := callRows(t, db, 2, 2)["10.0.0.2:9000"]
			return ok == callRow{"10.0.0.1:9000", 50, 0, "0"} && bad.overload == "1",
				fmt.Sprintf("1/1 %+v, 2/2 %+v", ok, bad)
		})

		metrics := get(t, "http://"+adminAddr+"/metrics")
		for _, want := range []string{"lars_reporter_connections 1", "lars_reporter_rows_written_total", `lars_reporter_dropped_rows_total{reason="queue_full"} 0`,
			`lars_reporter_dropped_rows_total{reason="unknown_key"} 0`, "lars_reporter_known_keys 2"} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		if h := get(t, "http://"+adminAddr+"/healthz"); !strings.HasPrefix(h, "ok") {
			t.Errorf("/healthz %q", h)
		}

		// Exit 0: the service stopped, flush included, within its shutdown limit, given
		// as stopWithin so that a stalled machine cannot reach it. How much sooner is
		// not under test.
		if code, took := reporter.Stop(t); code != 0 {
			t.Fatalf("lars-reporter SIGTERM: exit %d after %v, want 0", code, took)
		}
		if code, _ := agent.Stop(t); code != 0 {
			t.Fatalf("lars-agent exit %d", code)
		}
	})
}

// get returns the body of a GET of url.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

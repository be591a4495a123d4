package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

func runServiceCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = runContext(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestServiceBadArguments(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	for _, args := range [][]string{
		{"-service", "ftp"},
		{"-service", "dns"}, // no -db
		{"-service", "dns", "-db", db, "-agents", "0"},
		{"-service", "dns", "-db", db, "-target", "10.1.2.3:7778"},
		{"-service", "dns", "-db", db, "-target", "nohostport"},
		{"-service", "dns", "-db", db, "-slo", "push-p99=soon"},
		{"-service", "dns", "-db", db, "-sweep", "-agents", "5"},
		{"-service", "dns", "-db", db, "-sweep-over", "keys"},
		{"-service", "dns", "-db", db, "-keys", "20", "-cmdids", "1-10"},
		{"-service", "dns", "-db", db, "-changes-per-sec", "0"},
		{"-service", "dns", "-db", db, "-rate", "100"}, // a reporter flag
		{"-service", "dns", "-db", "postgres://x"},
		{"-service", "dns", "-db", db, "-agents", "100000000"}, // more than the open-file limit
		{"-service=reporter", "-changes-per-sec", "5"},         // a dns flag
		{"-service", "reporter", "-rate", "-1"},
		{"-service", "reporter", "-sweep"}, // neither -admin-url nor -db
		{"-service", "reporter", "-hosts", "5000"},
		{"-service", "reporter", "-caller-base", "200.0.0.1"},
		{"-service", "reporter", "-admin-url", "127.0.0.1:6062"},
		{"-service", "reporter", "-spread", "pareto"},
		{"-service", "reporter", "extra"},
	} {
		code, stdout, stderr := runServiceCLI(args...)
		first, rest, _ := strings.Cut(stderr, "\n")
		if code != exitUsage || stdout != "" || !strings.HasPrefix(first, "lars-loadgen: ") {
			t.Errorf("%q: exit %d, stdout %q, stderr first line %q: want exit 2 and a message", args, code, stdout, first)
		}
		if args[1] != "ftp" && !strings.HasPrefix(rest, "Usage: lars-loadgen "+strings.TrimPrefix(args[0], "-service=")) && !strings.HasPrefix(rest, "Usage: lars-loadgen "+args[1]) {
			t.Errorf("%q: one line, then the usage; got %q", args, stderr)
		}
	}
	if code, stdout, stderr := runServiceCLI("-service", "dns", "-h"); code != exitOK || stdout != "" || !strings.Contains(stderr, "-changes-per-sec") {
		t.Errorf("-h: exit %d, stderr %q", code, stderr)
	}
}

// startRouteService runs a route service on the SQLite file dsn names, until the test
// ends; it returns its address and admin URL.
func startRouteService(t *testing.T, dsn string) (addr, admin string) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc, err := routesvc.New(routesvc.Config{Store: db, Listen: "127.0.0.1:0", Poll: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitReady(t, svc.Ready())
	srv := httptest.NewServer(svc.AdminHandler())
	t.Cleanup(srv.Close)
	return svc.Addr().String(), srv.URL
}

func TestServiceDNSRunWritesEveryReport(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "lars.db")
	addr, admin := startRouteService(t, db)
	jsonPath, csvPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.html")
	code, stdout, stderr := runServiceCLI("-service", "dns", "-target", addr, "-db", db, "-admin-url", admin,
		"-agents", "20", "-keys", "3", "-cmdids", "1-30", "-changes-per-sec", "20", "-duration", "600ms",
		"-push-timeout", "30s", "-slo", "push-p99=30s", "-json", jsonPath, "-csv", csvPath, "-html", htmlPath, "-quiet")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "push, every agent") || !strings.Contains(stdout, "objective push-p99=30s loss<=0%: MET") || stderr != "" {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	var rep ctlreport.DNSReport
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	p := rep.Pushes
	if rep.Schema != "lars-loadgen-dns/1" || rep.Agents != 20 || rep.Subscriptions != 60 || p.Received == 0 ||
		p.Expected != p.Received || rep.Service["lars_dns_pushes_total"] != float64(p.Received) {
		t.Errorf("report: schema %q, %d agents, %d subscriptions, pushes %+v, service pushes %v", rep.Schema, rep.Agents, rep.Subscriptions, p, rep.Service["lars_dns_pushes_total"])
	}
	rows := readCSV(t, csvPath)
	if strings.Join(rows[0], ",") != strings.Join(ctlreport.DNSCSVHeader, ",") || len(rows) != len(rep.Seconds)+1 {
		t.Errorf("csv header %v, %d rows for %d seconds", rows[0], len(rows)-1, len(rep.Seconds))
	}
	if html, err := os.ReadFile(htmlPath); err != nil || !bytes.Contains(html, []byte("<svg")) || !bytes.Contains(html, []byte("Push latency by percentile")) {
		t.Errorf("html: %v, %d bytes", err, len(html))
	}

	// The same run against an objective it cannot meet exits 1: no pull is answered
	// within 1us of its write, through a service on TCP.
	code, _, _ = runServiceCLI("-service", "dns", "-target", addr, "-db", db, "-agents", "5", "-keys", "2",
		"-changes-per-sec", "20", "-duration", "300ms", "-push-timeout", "30s", "-slo", "push-p50=1us,pull-p50=1us", "-quiet")
	if code != exitMissed {
		t.Errorf("objective push-p50=1us,pull-p50=1us: exit %d, want 1", code)
	}
}

func TestServiceReporterJSONToStdout(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := reportsvc.New(reportsvc.Config{Store: db, Listen: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitReady(t, svc.Ready())
	admin := httptest.NewServer(svc.AdminHandler())
	defer admin.Close()

	code, stdout, stderr := runServiceCLI("-service", "reporter", "-target", svc.Addr().String(), "-db", dsn,
		"-admin-url", admin.URL, "-agents", "4", "-keys", "3", "-hosts", "5", "-rate", "300", "-duration", "500ms", "-settle", "30s", "-json", "-")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr %s", code, stderr)
	}
	var rep ctlreport.ReporterReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not only the JSON report: %v\n%s", err, stdout)
	}
	if rep.Schema != "lars-loadgen-reporter/1" || rep.Service == nil || rep.Store == nil ||
		rep.Service.Results != rep.Sent.Results || rep.Store.Results != rep.Sent.Results || !rep.Verdict.Met {
		t.Errorf("report %+v, service %+v, store %+v", rep, rep.Service, rep.Store)
	}
	if !strings.Contains(stderr, "objective every result taken, none dropped: MET") || !strings.Contains(stderr, "frames") {
		t.Errorf("stderr (text report and live lines) %q", stderr)
	}
}

// waitReady waits until ready is closed: a service has started, as it does within
// 30s however busy the machine.
func waitReady(t *testing.T, ready <-chan struct{}) {
	t.Helper()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not start within 30s")
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/echo"
	"github.com/larsgo/lars/loadgen/report"
)

// echoPort starts an echo server; the load generator's -echo mode takes echoed
// requests as answers.
func echoPort(t *testing.T) string {
	t.Helper()
	srv, err := echo.Start("127.0.0.1:0", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return strconv.Itoa(int(srv.Addr().Port()))
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadArguments(t *testing.T) {
	for _, args := range [][]string{
		{"-nosuchflag"},
		{"extra"},
		{"-mix", "get_host=1,bogus=2"},
		{"-rate", "100", "-concurrency", "4"},
		{"-spread", "pareto"},
		{"-timeout", "10s"},
		{"-slo", "p99"},
		{"-modids", "9-1"},
		{"-fail-hosts", "nohost"},
		{"-report-fail", "1.5"},
		{"-sweep", "-rate", "100"},
		{"-ports", "0"},
		{"-zipf-s", "0.5"},
	} {
		code, stdout, stderr := runCLI(args...)
		first, _, _ := strings.Cut(stderr, "\n")
		if code != exitUsage || stdout != "" || !strings.HasPrefix(first, "lars-loadgen: ") || !strings.Contains(stderr, "Usage: lars-loadgen") {
			t.Errorf("%q: exit %d, stdout %q, stderr first line %q: want exit 2, a message and the usage", args, code, stdout, first)
		}
	}
}

func TestSLOMissedExits1(t *testing.T) {
	port := echoPort(t)
	code, stdout, _ := runCLI("-echo", "-ports", port, "-requests", "200", "-warmup", "0", "-quiet", "-slo", "p50=1ns")
	if code != exitMissed || !strings.Contains(stdout, "MISSED") {
		t.Errorf("exit %d, want 1 with MISSED in:\n%s", code, stdout)
	}
	// An objective no working build misses, however busy the machine: whatever answer
	// comes (within the longest timeout) is within it, and any loss is allowed.
	code, stdout, _ = runCLI("-echo", "-ports", port, "-requests", "200", "-warmup", "0", "-quiet", "-timeout", "4s", "-slo", "p99=30s", "-max-loss", "1")
	if code != exitOK || !strings.Contains(stdout, "MET") {
		t.Errorf("exit %d, want 0 with MET in:\n%s", code, stdout)
	}
}

// TestJSONSchema decodes -json - (the only thing on stdout) into the documented
// structure and checks the required fields and identities.
func TestJSONSchema(t *testing.T) {
	port := echoPort(t)
	code, stdout, stderr := runCLI("-echo", "-ports", port, "-duration", "500ms", "-warmup", "100ms", "-quiet", "-timeout", "4s",
		"-mix", "get_host=8,get_route=1,report=1", "-modids", "1-50", "-json", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	for _, k := range []string{"schema", "sent", "received", "timeouts", "rate", "latency_us", "retcodes", "by_type", "seconds"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("missing top-level field %q", k)
		}
	}
	lat, _ := raw["latency_us"].(map[string]any)
	for _, k := range []string{"min", "mean", "p50", "p90", "p99", "p999", "p9999", "max"} {
		if _, ok := lat[k].(float64); !ok {
			t.Errorf("missing latency_us.%s", k)
		}
	}
	rc, _ := raw["retcodes"].(map[string]any)
	for _, k := range []string{"succ", "overload", "system_error", "noexist"} {
		if _, ok := rc[k].(float64); !ok {
			t.Errorf("missing retcodes.%s", k)
		}
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var rep report.Report
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("does not decode into report.Report: %v", err)
	}
	if rep.Schema != report.SchemaVersion || rep.Sent == 0 || rep.Sent != rep.Received+rep.Timeouts {
		t.Errorf("schema %q sent %d received %d timeouts %d", rep.Schema, rep.Sent, rep.Received, rep.Timeouts)
	}
	if rep.Retcodes.Sum() != rep.ByType.GetHost.Received || rep.Retcodes.Succ == 0 {
		t.Errorf("retcodes %+v do not sum to get_host received %d", rep.Retcodes, rep.ByType.GetHost.Received)
	}
	if rep.Sent != rep.ByType.GetHost.Sent+rep.ByType.GetRoute.Sent || rep.ReportsSent != rep.ByType.Report.Sent {
		t.Errorf("by_type does not add up to the totals: %+v", rep.ByType)
	}
	if len(rep.Seconds) == 0 || rep.Rate <= 0 || rep.LatencyUS.P99 < rep.LatencyUS.P50 {
		t.Errorf("seconds %d rate %v latency %+v", len(rep.Seconds), rep.Rate, rep.LatencyUS)
	}
}

func TestCSVAndHTMLFiles(t *testing.T) {
	port := echoPort(t)
	dir := t.TempDir()
	csvPath, htmlPath, jsonPath := filepath.Join(dir, "s.csv"), filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json")
	code, stdout, stderr := runCLI("-echo", "-ports", port, "-duration", "1200ms", "-warmup", "0", "-rate", "2000",
		"-csv", csvPath, "-html", htmlPath, "-json", jsonPath)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "get_host") || !strings.Contains(stderr, "recv") {
		t.Errorf("want the table on stdout and live lines on stderr; stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v", err)
	}
	// A row a second, the last one at the end of the run: how many depends on when the
	// monitor got to run, so only the sum of the rows is exact.
	if len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(report.CSVHeader, ",") {
		t.Errorf("CSV has %d rows, header %v", len(rows), rows[0])
	}
	var sent uint64
	for _, row := range rows[1:] {
		n, err := strconv.ParseUint(row[2], 10, 64)
		if err != nil || len(row) != len(report.CSVHeader) {
			t.Fatalf("bad CSV row %v", row)
		}
		sent += n
	}
	var rep report.Report
	if b, err := os.ReadFile(jsonPath); err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("JSON file: %v", err)
	}
	if sent != rep.Sent {
		t.Errorf("CSV sent column sums to %d, report sent %d", sent, rep.Sent)
	}
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	if !strings.HasPrefix(h, "<!DOCTYPE html>") || strings.Count(h, "<svg") < 3 || !strings.HasSuffix(strings.TrimSpace(h), "</html>") ||
		strings.Contains(h, "<script") || strings.Contains(h, "src=") {
		t.Errorf("HTML page is not a self-contained page with 3 inline SVG plots (%d bytes)", len(h))
	}
}

func TestSweepCLI(t *testing.T) {
	port := echoPort(t)
	dir := t.TempDir()
	// Every step meets an objective no working build misses, however busy the machine
	// (any answer within the longest timeout, any loss): the search rises to its
	// maximum. The searches themselves are judged in the loadgen package, on its clock.
	code, stdout, stderr := runCLI("-echo", "-ports", port, "-sweep", "-sweep-start", "500", "-sweep-max", "2000",
		"-step-duration", "200ms", "-timeout", "4s", "-slo", "p99=30s", "-max-loss", "1", "-json", "-", "-csv", filepath.Join(dir, "s.csv"), "-html", filepath.Join(dir, "s.html"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sw report.SweepReport
	if err := json.Unmarshal([]byte(stdout), &sw); err != nil {
		t.Fatal(err)
	}
	if !sw.Found || sw.Capacity != 2000 || len(sw.Steps) != 3 {
		t.Errorf("capacity %v found %v after %d steps, want 2000 after 500, 1000, 2000", sw.Capacity, sw.Found, len(sw.Steps))
	}
	if !strings.Contains(stderr, "capacity: 2000") {
		t.Errorf("want the table on stderr with -json -:\n%s", stderr)
	}
}

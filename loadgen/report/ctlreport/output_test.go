package ctlreport

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// sampleReports returns small reports of each kind, as a run and a search make them.
func sampleReports() (*DNSReport, *DNSSweepReport, *ReporterReport, *ReporterSweepReport) {
	dns := &DNSReport{Schema: DNSSchemaVersion, Agents: 10, KeysPerAgent: 2, Subscriptions: 20, TargetChangeRate: 5,
		Changes: DNSChanges{Committed: 10, Rate: 5}, Pushes: DNSPushes{Expected: 20, Received: 20, Rate: 10,
			LatencyMS: Latency{Count: 20, P50: 400, P99: 900}, Histogram: []Bucket{{LowMS: 1, HighMS: 2, Count: 5}, {LowMS: 400, HighMS: 402, Count: 15}}},
		Service: map[string]float64{"lars_dns_pushes_total": 20},
		Seconds: []DNSSecond{{T: 1, Span: 1, Changes: 5, Pushes: 9, PushRate: 9}, {T: 2, Span: 1, Changes: 5, Pushes: 11, PushRate: 11}}}
	dnsSweep := &DNSSweepReport{Schema: DNSSweepSchemaVersion, Over: SweepAgents, Steps: []DNSSweepStep{
		{Value: 20, Met: false, Reason: "x", Report: dns}, {Value: 10, Met: true, Report: dns}}, Capacity: 10, Found: true}
	rep := &ReporterReport{Schema: ReporterSchemaVersion, Agents: 2, KeysPerAgent: 2, HostsPerKey: 3, TargetRate: 10,
		Sent:    ReporterSent{Frames: 20, Results: 60, FrameRate: 10, ResultRate: 30},
		Service: &ReporterService{Results: 60, RowsWritten: 60, Figures: map[string]float64{"lars_reporter_queue_rows": 0}},
		Store:   &ReporterStore{Rows: 12, Results: 60, CaughtUp: true}, Verdict: &ReporterVerdict{Met: true},
		Seconds: []ReporterSecond{{T: 1, Span: 1, Frames: 10, Results: 30, ResultRate: 30, ServiceResults: 30, StoreResults: 30}}}
	repSweep := &ReporterSweepReport{Schema: ReporterSweepSchemaVersion, Steps: []ReporterSweepStep{
		{Rate: 10, Met: true, Report: rep}, {Rate: 20, Met: false, Reason: "dropped", Report: rep}}, Capacity: 10, Found: true}
	return dns, dnsSweep, rep, repSweep
}

func TestWritersOfEveryForm(t *testing.T) {
	dns, dnsSweep, rep, repSweep := sampleReports()
	for _, tc := range []struct {
		name      string
		write     func(*bytes.Buffer) error
		want      string // in the text or page
		csvRows   int    // CSV lines after the header; -1: not CSV
		svgs      int    // plots in the page; 0: not HTML
		csvHeader []string
	}{
		{"dns text", func(b *bytes.Buffer) error { return dns.WriteText(b) }, "push, every agent", -1, 0, nil},
		{"dns sweep text", func(b *bytes.Buffer) error { return dnsSweep.WriteText(b) }, "capacity: 10 agents", -1, 0, nil},
		{"reporter text", func(b *bytes.Buffer) error { return rep.WriteText(b) }, "none dropped: MET", -1, 0, nil},
		{"reporter sweep text", func(b *bytes.Buffer) error { return repSweep.WriteText(b) }, "capacity: 10 frames/s", -1, 0, nil},
		{"dns csv", func(b *bytes.Buffer) error { return dns.WriteCSV(b) }, "", 2, 0, DNSCSVHeader},
		{"dns sweep csv", func(b *bytes.Buffer) error { return dnsSweep.WriteCSV(b) }, "", 2, 0, DNSSweepCSVHeader},
		{"reporter csv", func(b *bytes.Buffer) error { return rep.WriteCSV(b) }, "", 1, 0, ReporterCSVHeader},
		{"reporter sweep csv", func(b *bytes.Buffer) error { return repSweep.WriteCSV(b) }, "", 2, 0, ReporterSweepCSVHeader},
		{"dns html", func(b *bytes.Buffer) error { return dns.WriteHTML(b) }, "Push latency by percentile", -1, 4, nil},
		{"dns sweep html", func(b *bytes.Buffer) error { return dnsSweep.WriteHTML(b) }, "capacity search", -1, 2, nil},
		{"reporter html", func(b *bytes.Buffer) error { return rep.WriteHTML(b) }, "Results per second", -1, 2, nil},
		{"reporter sweep html", func(b *bytes.Buffer) error { return repSweep.WriteHTML(b) }, "target frame rate", -1, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.Contains(out, tc.want) {
				t.Errorf("%q not in:\n%s", tc.want, out)
			}
			if tc.svgs > 0 && strings.Count(out, "<svg") != tc.svgs {
				t.Errorf("%d plots, want %d", strings.Count(out, "<svg"), tc.svgs)
			}
			if tc.csvRows >= 0 {
				rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != tc.csvRows+1 || strings.Join(rows[0], ",") != strings.Join(tc.csvHeader, ",") {
					t.Errorf("%d rows, header %v", len(rows), rows[0])
				}
				for _, r := range rows[1:] {
					if len(r) != len(tc.csvHeader) {
						t.Errorf("row %v: %d fields for %d columns", r, len(r), len(tc.csvHeader))
					}
				}
			}
		})
	}
}

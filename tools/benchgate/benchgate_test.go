package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/larsgo/lars/codec
cpu: Intel(R) Xeon(R) Processor
,old.txt,,new.txt,,,
,sec/op,CI,sec/op,CI,vs base,P
DecodeGetHost-2,3.3e-08,1%,3.4e-08,2%,~,p=0.310 n=10
EncodeRoute10-2,2.0e-07,1%,3.0e-07,2%,+50.00%,p=0.000 n=10
EncodeGetHost-2,2.0e-07,1%,2.2e-07,2%,+10.00%,p=0.000 n=10
StreamReader-2,2.0e-07,1%,1.0e-07,2%,-50.00%,p=0.000 n=10
geomean,9.8e-08,,8.8e-08,,-10.39%,

,old.txt,,new.txt,,,
,allocs/op,CI,allocs/op,CI,vs base,P
DecodeGetHost-2,0,0%,1,0%,+Inf%,p=0.000 n=10
EncodeRoute10-2,0,0%,0,0%,~,p=1.000 n=10
geomean,,,,,+0.00%,

pkg: github.com/larsgo/lars/benchmarks
,old.txt,,new.txt,,,
,req/s,CI,req/s,CI,vs base,P
E2E/GetHost-2,300000,3%,200000,3%,-33.33%,p=0.001 n=10
E2E/GetRoute10-2,300000,3%,290000,3%,-3.33%,p=0.001 n=10
,old.txt,,new.txt,,,
,echo-req/s,CI,echo-req/s,CI,vs base,P
E2E/GetHost-2,300000,3%,100000,3%,-66.67%,p=0.001 n=10
,old.txt,,new.txt,,,
,allocs/req,CI,allocs/req,CI,vs base,P
E2E/GetHost-2,0,0%,0.0002,0%,~,p=0.100 n=10
E2E/GetRoute10-2,0,0%,0.5,0%,~,p=0.100 n=10

pkg: github.com/larsgo/lars/lb
,old.txt,,new.txt,,,
,sec/miss,CI,sec/miss,CI,vs base,P
GetHostPerMiss-2,1.5e-07,3%,2.1e-07,3%,+40.00%,p=0.000 n=10
,old.txt,,new.txt,,,
,x-miss,CI,x-miss,CI,vs base,P
GetHostPerMiss-2,0.7,3%,0.95,3%,+35.71%,p=0.000 n=10
`

func TestRegressionsFound(t *testing.T) {
	var out bytes.Buffer
	code := run(strings.NewReader(sample), &out, 25, 0.05)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"codec EncodeRoute10-2: sec/op +50.0%",        // slower beyond the threshold
		"codec DecodeGetHost-2: 1 allocs/op",          // allocates over a zero baseline
		"benchmarks E2E/GetHost-2: req/s -33.3%",      // lower rate beyond the threshold
		"benchmarks E2E/GetRoute10-2: 0.5 allocs/req", // allocates per request
		"lb GetHostPerMiss-2: x-miss +35.7%",          // a pick costs more misses
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, not := range []string{
		"EncodeGetHost",           // +10%: within the threshold
		"StreamReader",            // faster
		"echo-req/s",              // the baseline's own figure is not judged
		"sec/miss",                // nor the memory latency of the lb baseline
		"E2E/GetHost-2: 0.0002",   // within the allocation tolerance
		"DecodeGetHost-2: sec/op", // not significant
	} {
		if strings.Contains(got, not) {
			t.Errorf("output wrongly flags %q:\n%s", not, got)
		}
	}
}

func TestNoRegression(t *testing.T) {
	in := ",a,,b,,,\n,sec/op,CI,sec/op,CI,vs base,P\nX-2,1e-08,1%,1.1e-08,1%,+10.00%,p=0.000 n=10\n"
	var out bytes.Buffer
	if code := run(strings.NewReader(in), &out, 25, 0.05); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

// TestMachineDrift: a whole run 40% slower (another tenant on the machine) is a
// warning, not a regression; one benchmark 2x slower within it still fails.
func TestMachineDrift(t *testing.T) {
	in := "pkg: p\n,a,,b,,,\n,sec/op,CI,sec/op,CI,vs base,P\n" +
		"A-2,1e-08,1%,1.4e-08,1%,+40.00%,p=0.000 n=10\n" +
		"B-2,1e-08,1%,1.38e-08,1%,+38.00%,p=0.000 n=10\n" +
		"C-2,1e-08,1%,1.42e-08,1%,+42.00%,p=0.000 n=10\n" +
		"D-2,1e-08,1%,1.41e-08,1%,+41.00%,p=0.000 n=10\n"
	var out bytes.Buffer
	if code := run(strings.NewReader(in), &out, 25, 0.05); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "warning: p: the whole run's sec/op moved +40.5%") {
		t.Fatalf("no drift warning:\n%s", out.String())
	}
	in += "E-2,1e-08,1%,2.8e-08,1%,+180.00%,p=0.000 n=10\n"
	out.Reset()
	if code := run(strings.NewReader(in), &out, 25, 0.05); code != 1 || !strings.Contains(out.String(), "p E-2: sec/op +180.0%") {
		t.Fatalf("exit %d, want E-2 flagged:\n%s", code, out.String())
	}
}

// TestRoundTripRatio: x-roundtrip (api's GetHost over bare round trips, measured in
// the same run) is lower-better and judged as it stands: a client change that slows
// every pair alike is a regression, not drift, while the same move in sec/op is.
func TestRoundTripRatio(t *testing.T) {
	pairs := []string{"GetHostVsRoundTrip/g=1-2", "GetHostVsRoundTrip/g=2-2",
		"GetHostVsRoundTrip/g=8-2", "GetHostVsRoundTrip/g=64-2"}
	in := "pkg: github.com/larsgo/lars/api\n,a,,b,,,\n,sec/op,CI,sec/op,CI,vs base,P\n"
	for _, p := range pairs {
		in += p + ",2e-05,1%,2.8e-05,1%,+40.00%,p=0.000 n=10\n"
	}
	in += ",a,,b,,,\n,x-roundtrip,CI,x-roundtrip,CI,vs base,P\n"
	for _, p := range pairs {
		in += p + ",1.05,1%,1.4,1%,+33.33%,p=0.000 n=10\n"
	}
	var out bytes.Buffer
	if code := run(strings.NewReader(in), &out, 25, 0.05); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out.String())
	}
	got := out.String()
	for _, p := range pairs {
		if !strings.Contains(got, "api "+p+": x-roundtrip +33.3%, +33.3% relative to the run") {
			t.Errorf("%s: x-roundtrip not flagged:\n%s", p, got)
		}
		if strings.Contains(got, p+": sec/op") {
			t.Errorf("%s: sec/op flagged, though the whole run moved alike:\n%s", p, got)
		}
	}
	if strings.Contains(got, "x-roundtrip moved") {
		t.Errorf("x-roundtrip taken for drift:\n%s", got)
	}

	better := strings.ReplaceAll(in, "1.05,1%,1.4,1%,+33.33%", "1.4,1%,1.05,1%,-25.00%")
	out.Reset()
	if code := run(strings.NewReader(better), &out, 25, 0.05); strings.Contains(out.String(), "x-roundtrip -25") {
		t.Errorf("exit %d, a lower x-roundtrip flagged:\n%s", code, out.String())
	}
}

package stats

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var (
	oneLatency = Grammar{Percentiles: []string{"p50", "p90", "p99", "p999", "p9999"}, Example: "p99=1ms", Durations: "1ms or 500us"}
	subjects   = Grammar{Subjects: []string{"push", "pull"}, Percentiles: []string{"p50", "p99", "p999"}, Example: "push-p99=2s", Durations: "2s or 500ms"}
)

func TestParse(t *testing.T) {
	o, err := oneLatency.Parse("p99=1ms, P99.9=5ms,p99.99=1s")
	want := []Limit{{"", "p99", time.Millisecond}, {"", "p999", 5 * time.Millisecond}, {"", "p9999", time.Second}}
	if err != nil || len(o.Limits) != len(want) || o.Limits[0] != want[0] || o.Limits[1] != want[1] || o.Limits[2] != want[2] {
		t.Errorf("%+v %v", o, err)
	}
	o, err = subjects.Parse("p50=500ms,pull-p99.9=3s")
	if err != nil || len(o.Limits) != 2 || o.Limits[0] != (Limit{"push", "p50", 500 * time.Millisecond}) || o.Limits[1] != (Limit{"pull", "p999", 3 * time.Second}) {
		t.Errorf("%+v %v", o, err)
	}
	if s := o.String(); s != "push-p50=500ms,pull-p999=3s loss<=0%" {
		t.Errorf("String %q", s)
	}
	for _, tc := range []struct {
		g    Grammar
		bad  string
		says string
	}{
		{oneLatency, "p99", "want pNN=DURATION, e.g. p99=1ms"},
		{oneLatency, "p98=1ms", "percentile must be one of p50, p90, p99, p999, p9999"},
		{oneLatency, "push-p99=1ms", "percentile must be one of"},
		{oneLatency, "p99=-1ms", "such as 1ms or 500us"},
		{subjects, "", "want WHAT-pNN=DURATION, e.g. push-p99=2s"},
		{subjects, "writes-p99=1s", "measure one of push, pull"},
		{subjects, "push-p9999=1s", "percentile must be one of p50, p99, p999"},
		{subjects, "push-p99=soon", "such as 2s or 500ms"},
	} {
		if _, err := tc.g.Parse(tc.bad); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q: %v, want %q", tc.bad, err, tc.says)
		}
	}
}

func TestVerdict(t *testing.T) {
	o := Objective{Limits: []Limit{{"", "p50", time.Millisecond}, {"", "p99", time.Millisecond}}, MaxLoss: 0.001}
	v := o.Judge("us", func(l Limit) float64 { return map[string]float64{"p50": 400, "p99": 2500}[l.Percentile] })
	v.CheckLoss(0.01, o.MaxLoss)
	v.Miss("no answer")
	if v.Met || v.Reason != "p99 2500.0us > 1000.0us, loss 1% > 0.1%, no answer" || v.Summary() != "MISSED: "+v.Reason {
		t.Errorf("verdict %+v", v)
	}
	b, err := json.Marshal(v)
	want := `{"objective":"p50=1ms,p99=1ms loss\u003c=0.1%","met":false,"checks":[{"name":"p50","limit_us":1000,"value_us":400,"met":true},` +
		`{"name":"p99","limit_us":1000,"value_us":2500,"met":false}],"loss":0.01,"max_loss":0.001,"reason":"p99 2500.0us \u003e 1000.0us, loss 1% \u003e 0.1%, no answer"}`
	if err != nil || string(b) != want {
		t.Errorf("JSON %s %v\nwant %s", b, err, want)
	}
	var back Verdict
	if err := json.Unmarshal(b, &back); err != nil || back.Loss != v.Loss || back.MaxLoss != v.MaxLoss || back.Checks[1] != v.Checks[1] {
		t.Errorf("read back %+v %v", back, err)
	}
	if b2, _ := json.Marshal(back); string(b2) != want {
		t.Errorf("written again %s", b2)
	}

	met := Objective{Limits: []Limit{{"push", "p99", 2 * time.Second}}}.Judge("ms", func(Limit) float64 { return 1500 })
	if b, _ := json.Marshal(met); !met.Met || met.Summary() != "MET" ||
		string(b) != `{"objective":"push-p99=2s loss\u003c=0%","met":true,"checks":[{"name":"push-p99","limit_ms":2000,"value_ms":1500,"met":true}]}` {
		t.Errorf("met %+v %s", met, b)
	}
	if StepVerdict(true, "") != "met" || StepVerdict(false, "slow") != "missed: slow" {
		t.Error("step verdicts")
	}
}

func TestProcessCPU(t *testing.T) {
	before, ok := ProcessCPU()
	for i := 0; i < 1e7; i++ {
		_ = strings.Repeat("x", i%3)
	}
	if after, _ := ProcessCPU(); ok && after < before {
		t.Errorf("CPU went back from %v to %v", before, after)
	}
}

package policysim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/loadgen/hostmodel"
	"github.com/larsgo/lars/route"
)

// simHosts returns n hosts 10.0.1.i:8000+i.
func simHosts(n int) []route.Host {
	hs := make([]route.Host, n)
	for i := range hs {
		hs[i] = route.FromWire(10<<24|1<<8|int32(i+1), 8001+int32(i))
	}
	return hs
}

// policyWorkloads are the workloads of the docs/performance-notes.md comparison: (a) 10 hosts,
// one 10x slower; (b) one host failing half its calls in bursts (flapping, 1s up,
// 1s down); (c) every host failing every call for 5 s.
func policyWorkloads() []Workload {
	hosts := simHosts(10)
	base := hostmodel.Behaviour{Latency: 10 * time.Millisecond, Spread: 0.3}
	slow, flap, outage := hostmodel.Model{Default: base}, hostmodel.Model{Default: base}, hostmodel.Model{Default: base}
	ip0, port0, _ := hosts[0].Wire()
	b := base
	b.Latency = 100 * time.Millisecond
	slow.SetHost(ip0, port0, b)
	b = base
	b.FlapPeriod = 2 * time.Second
	flap.SetHost(ip0, port0, b)
	outage.Default.DownFrom, outage.Default.DownUntil = 10*time.Second, 15*time.Second
	return []Workload{
		{Name: "a: one host 10x slower", Hosts: hosts, Model: slow, Seed: 1},
		{Name: "b: one host failing half its calls in bursts", Hosts: hosts, Model: flap, Seed: 2},
		{Name: "c: every host failing for 5 s", Hosts: hosts, Model: outage, Seed: 3},
	}
}

var comparedPolicies = []struct {
	name string
	pol  lb.Policies
}{
	{"rr (Lars)", lb.Policies{}},
	{"p2c", lb.Policies{Pick: lb.PolicyP2C}},
	{"ewma", lb.Policies{Pick: lb.PolicyEWMA}},
	{"rr + panic 50", lb.Policies{PanicThreshold: 50}},
	{"rr + backoff 2x", lb.Policies{OverloadBackoff: 2}},
	{"ewma + panic 50 + backoff 2x", lb.Policies{Pick: lb.PolicyEWMA, PanicThreshold: 50, OverloadBackoff: 2}},
}

// TestPolicyComparison runs each workload under each policy (30 simulated seconds,
// 2,000 calls a second: 60,000 calls) and checks the effects each policy is for;
// with -v it prints the table of docs/performance-notes.md.
func TestPolicyComparison(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "| workload | policy | refused | failed | p50 | p99 |\n|---|---|---|---|---|---|\n")
	results := map[string]map[string]Result{}
	for _, w := range policyWorkloads() {
		results[w.Name] = map[string]Result{}
		for _, p := range comparedPolicies {
			r := Run(w, p.pol)
			results[w.Name][p.name] = r
			if r.Calls != 60_000 {
				t.Fatalf("%s, %s: %d calls, want 60000", w.Name, p.name, r.Calls)
			}
			fmt.Fprintf(&table, "| %s | %s | %d | %d | %v | %v |\n", w.Name, p.name, r.Refused, r.Failed,
				r.P50.Round(100*time.Microsecond), r.P99.Round(100*time.Microsecond))
		}
	}
	t.Log("\n" + table.String())

	a := results["a: one host 10x slower"]
	slowHost := simHosts(1)[0].Addr
	for _, p := range []string{"p2c", "ewma"} {
		if a[p].PerHost[slowHost] >= a["rr (Lars)"].PerHost[slowHost]/2 {
			t.Errorf("slow host: %s sent it %d calls, want well below round robin's %d", p, a[p].PerHost[slowHost], a["rr (Lars)"].PerHost[slowHost])
		}
	}
	if a["ewma"].P99 >= a["rr (Lars)"].P99/2 {
		t.Errorf("slow host: ewma p99 %v, want well below round robin's %v", a["ewma"].P99, a["rr (Lars)"].P99)
	}
	c := results["c: every host failing for 5 s"]
	if c["rr + panic 50"].Refused >= c["rr (Lars)"].Refused/2 {
		t.Errorf("outage: panic mode refused %d, want well below round robin's %d", c["rr + panic 50"].Refused, c["rr (Lars)"].Refused)
	}
	b := results["b: one host failing half its calls in bursts"]
	if b["rr + backoff 2x"].Failed > b["rr (Lars)"].Failed {
		t.Errorf("flapping host: backoff failed %d calls, more than round robin's %d", b["rr + backoff 2x"].Failed, b["rr (Lars)"].Failed)
	}
}

// TestRunDeterministic: under round robin (no random choices in the table) a
// seed gives one result.
func TestRunDeterministic(t *testing.T) {
	w := policyWorkloads()[1]
	w.Duration = 5 * time.Second
	r1, r2 := Run(w, lb.Policies{}), Run(w, lb.Policies{})
	if r1.P99 != r2.P99 || r1.Failed != r2.Failed || r1.Refused != r2.Refused {
		t.Fatalf("two runs of one seed differ: %+v, %+v", r1, r2)
	}
}

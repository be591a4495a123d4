package benchmarks

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The capacity comparison (make bench-capacity): the open-loop capacity search of
// lars-loadgen under a p99 objective, against lars-agent and lars-echo alternately in
// the same run, on three ports each, reported as the ratio of their medians. It guards
// the path from the socket to the serving goroutine: a change that costs the agent
// tail latency lowers its capacity against the echo on the same machine at the same
// time. It runs only with LARS_BENCH_CAPACITY=1 (it takes a minute or two and wants
// the machine to itself).
const (
	capacityEnv      = "LARS_BENCH_CAPACITY"
	capacityRounds   = "LARS_CAPACITY_ROUNDS"    // agent+echo sweep pairs, default 3
	capacityMinRatio = "LARS_CAPACITY_MIN_RATIO" // default 0.85
	capacityStep     = "LARS_CAPACITY_STEP"      // measured span of a sweep step, default 1s
)

// capacitySweep is the part of lars-loadgen's -sweep JSON report (loadgen/SCHEMA.md)
// this test reads.
type capacitySweep struct {
	Capacity float64 `json:"capacity"`
	Steps    []struct {
		TargetRate float64 `json:"target_rate"`
		Met        bool    `json:"met"`
		Report     struct {
			Latency struct {
				P50 float64 `json:"p50"`
				P99 float64 `json:"p99"`
			} `json:"latency_us"`
		} `json:"report"`
	} `json:"steps"`
}

// TestCapacityRatio fails when the agent's capacity at p99 < 1 ms falls below
// LARS_CAPACITY_MIN_RATIO times lars-echo's, medians of alternated sweeps.
func TestCapacityRatio(t *testing.T) {
	if os.Getenv(capacityEnv) != "1" {
		t.Skipf("set %s=1 to run the capacity comparison (make bench-capacity)", capacityEnv)
	}
	rounds := capacityEnvInt(t, capacityRounds, 3)
	minRatio := capacityEnvFloat(t, capacityMinRatio, 0.85)
	step := os.Getenv(capacityStep)
	if step == "" {
		step = "1s"
	}
	if err := buildOnce(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", binDir, "../cmd/lars-loadgen").CombinedOutput(); err != nil {
		t.Fatalf("go build lars-loadgen: %v\n%s", err, out)
	}
	routes, err := filepath.Abs("../examples/routes.txt") // services 1..100, cmdid 1
	if err != nil {
		t.Fatal(err)
	}
	var caps [2][]float64
	names := [2]string{"lars-agent", "lars-echo"}
	for r := range rounds {
		for k, name := range names {
			ports := freePorts(t, 3)
			args := []string{"-ports", ports}
			if name == "lars-agent" {
				args = append(args, "-routes", routes, "-log-level", "warn")
			} else {
				args = append(args, "-addr", "127.0.0.1:0")
			}
			sw := runSweep(t, name, args, ports, step)
			caps[k] = append(caps[k], sw.Capacity)
			t.Logf("round %d %-10s capacity %6.0f/s  %s", r+1, name, sw.Capacity, sw.curve())
		}
	}
	agent, echo := capacityMedian(caps[0]), capacityMedian(caps[1])
	if echo == 0 {
		t.Fatalf("lars-echo met the objective at no rate (capacities %v): the machine is too busy to measure", caps[1])
	}
	ratio := agent / echo
	t.Logf("capacity at p99<1ms, median of %d: lars-agent %.0f/s %v, lars-echo %.0f/s %v: ratio %.2f (bound %.2f)",
		rounds, agent, caps[0], echo, caps[1], ratio, minRatio)
	fmt.Printf("capacity-ratio agent/echo %.3f agent %.0f echo %.0f\n", ratio, agent, echo)
	if ratio < minRatio {
		t.Errorf("agent/echo capacity ratio %.2f is below %.2f", ratio, minRatio)
	}
}

// runSweep starts the server name with args, runs one capacity search against its
// ports and stops the server.
func runSweep(t *testing.T, name string, args []string, ports, step string) *capacitySweep {
	t.Helper()
	srv := exec.Command(filepath.Join(binDir, name), args...)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{name: name, cmd: srv}
	defer s.stop()
	first, _, _ := strings.Cut(ports, ",")
	if err := waitAnswering("127.0.0.1:" + first); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := filepath.Join(t.TempDir(), "sweep.json")
	lg := []string{"-sweep", "-slo", "p99=1ms", "-modids", "1-100", "-step-duration", step,
		"-sweep-start", "10000", "-ports", ports, "-quiet", "-json", out}
	if name == "lars-echo" {
		lg = append(lg, "-echo")
	}
	// lars-loadgen exits 1 when the objective is missed at some step, as a sweep's
	// last steps are: only a missing report is an error here.
	cmdOut, runErr := exec.Command(filepath.Join(binDir, "lars-loadgen"), lg...).CombinedOutput()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("lars-loadgen against %s: %v (%v)\n%s", name, err, runErr, cmdOut)
	}
	var sw capacitySweep
	if err := json.Unmarshal(b, &sw); err != nil {
		t.Fatalf("sweep report: %v", err)
	}
	return &sw
}

// curve lists the sweep's steps as rate/s:p99µs, + for met and - for missed.
func (sw *capacitySweep) curve() string {
	var b strings.Builder
	for _, st := range sw.Steps {
		mark := "-"
		if st.Met {
			mark = "+"
		}
		fmt.Fprintf(&b, " %.0f:%s%.0fus", st.TargetRate, mark, st.Report.Latency.P99)
	}
	return strings.TrimSpace(b.String())
}

// freePorts returns n distinct UDP ports, comma-separated, free a moment ago.
func freePorts(t *testing.T, n int) string {
	t.Helper()
	var ports []string
	for len(ports) < n {
		p, err := freePort("udp")
		if err != nil {
			t.Fatal(err)
		}
		if s := strconv.Itoa(p); !slices.Contains(ports, s) {
			ports = append(ports, s)
		}
	}
	return strings.Join(ports, ",")
}

func capacityMedian(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func capacityEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

func capacityEnvFloat(t *testing.T, name string, def float64) float64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return f
}

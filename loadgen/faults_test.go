package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/larsgo/lars/loadgen/report"
)

// TestFaultsCounted runs an open loop, on simulated time, against a fake agent that
// answers after 2 ms and misbehaves on known requests: every loss must land in its
// class, exactly, and every answer in time must measure exactly the injected delay.
func TestFaultsCounted(t *testing.T) {
	const n = 600
	sim := newSimNet(t)
	f := &fakeAgent{delay: 2 * time.Millisecond, dropEvery: 10, lateEvery: 25, lateUntil: n / 2,
		lateDelay: 150 * time.Millisecond, dupEvery: 7, badEvery: 11}
	port := sim.agent(f)
	rep, err := Run(context.Background(), sim.config(Config{Ports: []int{port}, Rate: 3000, Requests: n,
		Timeout: 100 * time.Millisecond, Modids: Range{1, 50}}))
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, rep)
	if got := uint64(f.n.Load()); got != n || rep.Sent != n {
		t.Fatalf("server saw %d requests, report sent %d, want %d", got, rep.Sent, n)
	}
	if f.dropped.Load() == 0 || f.late.Load() == 0 || f.dups.Load() == 0 || f.bad.Load() == 0 {
		t.Fatalf("dropped %d late %d duplicated %d malformed %d: the script must exercise every class",
			f.dropped.Load(), f.late.Load(), f.dups.Load(), f.bad.Load())
	}
	wantTimeouts := uint64(f.dropped.Load() + f.late.Load() + f.bad.Load())
	checks := []struct {
		name      string
		got, want uint64
	}{
		{"timeouts", rep.Timeouts, wantTimeouts},
		{"late", rep.Late, uint64(f.late.Load())},
		{"duplicates", rep.Duplicates, uint64(f.dups.Load())},
		{"malformed", rep.Malformed, uint64(f.bad.Load())},
		{"received", rep.Received, n - wantTimeouts},
		{"succ", rep.Retcodes.Succ, n - wantTimeouts},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// Every request went at its intended time, and every answer in time came exactly
	// 2 ms after it.
	if l := rep.LatencyUS; !l.Exact || l.Min != 2000 || l.Max != 2000 || l.Count != n-wantTimeouts {
		t.Errorf("latency %+v: want exactly %d answers of exactly 2000us", l, n-wantTimeouts)
	}
	if rep.SendLagUS.Max != 0 {
		t.Errorf("send lag %+v on simulated time, want none", rep.SendLagUS)
	}
}

// TestSimulatedTimeIgnoresStalls: on simulated time, real stalls five times as long as
// the timeout change nothing: every answer is on time, at exactly its delay.
func TestSimulatedTimeIgnoresStalls(t *testing.T) {
	sim := newSimNet(t)
	f := &fakeAgent{delay: 2 * time.Millisecond, realPause: 50 * time.Millisecond, pauseEvery: 5}
	rep, err := Run(context.Background(), sim.config(Config{Ports: []int{sim.agent(f)}, Rate: 1000, Requests: 20,
		Timeout: 10 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, rep)
	if l := rep.LatencyUS; rep.Received != 20 || rep.Timeouts != 0 || rep.Late != 0 || l.Min != 2000 || l.Max != 2000 {
		t.Errorf("received %d timeouts %d late %d latency %+v: want 20 answers of exactly 2000us", rep.Received, rep.Timeouts, rep.Late, l)
	}
}

// TestTimeoutBoundary: an answer that comes exactly the timeout after its request is
// late (and its request timed out); one that comes a nanosecond sooner is on time.
func TestTimeoutBoundary(t *testing.T) {
	const timeout = 50 * time.Millisecond
	for _, c := range []struct {
		delay time.Duration
		late  bool
	}{{timeout - 1, false}, {timeout, true}} {
		sim := newSimNet(t)
		f := &fakeAgent{delay: c.delay}
		rep, err := Run(context.Background(), sim.config(Config{Ports: []int{sim.agent(f)}, Rate: 1000, Requests: 20,
			Timeout: timeout}))
		if err != nil {
			t.Fatal(err)
		}
		checkIdentities(t, rep)
		want := [3]uint64{20, 0, 0} // received, timeouts, late
		if c.late {
			want = [3]uint64{0, 20, 20}
		}
		if got := [3]uint64{rep.Received, rep.Timeouts, rep.Late}; got != want {
			t.Errorf("answers after %v with a %v timeout: received, timeouts, late %v, want %v", c.delay, timeout, got, want)
		}
	}
}

// TestRefused counts the ICMP refusals of a port where nothing listens. It runs on
// the real clock: no answer ever comes, so every request ends as a timeout whatever
// the machine's speed, and a refusal is seen by the receiver or by the next send; the
// timeout leaves the receiver a second after the last send to see it.
func TestRefused(t *testing.T) {
	c := listenLoopback(t)
	closed := port(c)
	c.Close() // the port is now closed: the kernel answers with ICMP port unreachable
	rep, err := Run(context.Background(), Config{Ports: []int{closed}, Rate: 1000, Requests: 50, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, rep)
	if rep.Timeouts != 50 || rep.Refused+rep.SendErrors == 0 {
		t.Errorf("timeouts %d refused %d send errors %d: want 50 timeouts and some refusals", rep.Timeouts, rep.Refused, rep.SendErrors)
	}
}

// TestCoordinatedOmission shows why the open loop measures from intended send
// times: a single 200 ms stall of the server shows in the open loop's p99.9, while a
// closed loop, which stops sending while it waits, hides it. On simulated time the
// stall is exactly 200 ms and every other answer takes exactly 100 us.
func TestCoordinatedOmission(t *testing.T) {
	run := func(cfg Config) *report.Report {
		t.Helper()
		sim := newSimNet(t)
		f := &fakeAgent{delay: 100 * time.Microsecond, stallAt: 300, stall: 200 * time.Millisecond}
		cfg.Ports = []int{sim.agent(f)}
		cfg.Timeout = time.Second
		rep, err := Run(context.Background(), sim.config(cfg))
		if err != nil {
			t.Fatal(err)
		}
		checkIdentities(t, rep)
		if rep.Timeouts != 0 {
			t.Errorf("%d timeouts, want none", rep.Timeouts)
		}
		return rep
	}
	open := run(Config{Rate: 2000, Duration: time.Second})
	closed := run(Config{Concurrency: 1, Duration: time.Second})
	t.Logf("open loop: %d answers, p99 %.0fus p99.9 %.0fus; closed loop: %d answers, p99 %.0fus p99.9 %.0fus",
		open.Received, open.LatencyUS.P99, open.LatencyUS.P999, closed.Received, closed.LatencyUS.P99, closed.LatencyUS.P999)
	const stalled = 200e3 + 100 // us: the stall, then the delay
	if open.Sent != 2000 || open.LatencyUS.P999 < 100e3 || open.LatencyUS.Max != stalled {
		t.Errorf("open loop: %d sent, p99.9 %.0fus, max %.0fus: want 2000, >= 100ms (the stall), %.0fus",
			open.Sent, open.LatencyUS.P999, open.LatencyUS.Max, stalled)
	}
	if closed.LatencyUS.Max != stalled {
		t.Errorf("closed loop max %.0fus: the stalled request should show there (%.0fus)", closed.LatencyUS.Max, stalled)
	}
	if closed.LatencyUS.P999 != 100 {
		t.Errorf("closed loop p99.9 %.0fus: want the 100us of every answer but the stalled one", closed.LatencyUS.P999)
	}
}

package loadgen

import (
	"context"
	"testing"
	"time"
)

// TestDriveShares: each socket's share of the window follows the key mass of its
// port and the shares add up to the window; a window too small for every port that
// has keys leaves the loop to the sender.
func TestDriveShares(t *testing.T) {
	shares := func(cfg Config, sockets int) []int {
		t.Helper()
		cfg.Sockets = sockets
		c, err := cfg.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		r := &runner{cfg: c}
		r.byPort = make([][]*lane, len(c.Ports))
		for i := range c.Sockets {
			l := &lane{r: r, port: i % len(c.Ports)}
			r.lanes = append(r.lanes, l)
			r.byPort[l.port] = append(r.byPort[l.port], l)
		}
		return driveShares(r)
	}
	three := []int{1, 2, 3}
	// One key, (1, 1), goes to port index (1+1) % 3 = 2: that socket holds the window.
	if got := shares(Config{Ports: three, Concurrency: 64}, 3); len(got) != 3 || got[0] != 0 || got[1] != 0 || got[2] != 64 {
		t.Errorf("one key: shares %v, want [0 0 64]", got)
	}
	// 300 keys, uniform: about a third each, summing to the window.
	got := shares(Config{Ports: three, Concurrency: 64, Modids: Range{1, 300}}, 6)
	sum := 0
	for _, s := range got {
		sum += s
		if s < 9 || s > 12 {
			t.Errorf("uniform keys over 6 sockets: shares %v, want about 64/6 each", got)
		}
	}
	if sum != 64 {
		t.Errorf("shares %v add up to %d, want 64", got, sum)
	}
	if got := shares(Config{Ports: three, Concurrency: 8, Modids: Range{1, 300}}, 3); got != nil {
		t.Errorf("window 8 over 3 ports: shares %v, want none (the sender drives)", got)
	}
	if got := shares(Config{Ports: three, Rate: 1000, Modids: Range{1, 300}}, 3); got != nil {
		t.Errorf("open loop: shares %v, want none", got)
	}
}

// TestDrivenClosedLoop runs closed loops, on simulated time, against three fake agent
// ports, the second of which loses every tenth request, with each socket driving its
// own window and with the shared window: the exact request count is sent, exactly the
// losses end as timeouts and the window keeps going around them. With windows per socket the lossy port is
// sent less (its window waits for timeouts); with the shared window every port gets
// its keys' third.
func TestDrivenClosedLoop(t *testing.T) {
	t.Run("per socket", func(t *testing.T) { testClosedLoopWindows(t, false) })
	t.Run("shared", func(t *testing.T) { testClosedLoopWindows(t, true) })
}

func testClosedLoopWindows(t *testing.T, shared bool) {
	sim := newSimNet(t)
	fakes := []*fakeAgent{{delay: 200 * time.Microsecond}, {delay: 200 * time.Microsecond, dropEvery: 10},
		{delay: 200 * time.Microsecond}}
	var ports []int
	for _, f := range fakes {
		ports = append(ports, sim.agent(f))
	}
	const n = 3000
	rep, err := Run(context.Background(), sim.config(Config{Ports: ports, Concurrency: 48, Requests: n, Warmup: 0,
		Timeout: 500 * time.Millisecond, Modids: Range{1, 99}, SharedWindow: shared}))
	if err != nil {
		t.Fatal(err)
	}
	checkIdentities(t, rep)
	var seen int64
	for i, f := range fakes {
		seen += f.n.Load()
		share := float64(f.n.Load()) / n
		switch {
		case shared && (share < 0.25 || share > 0.42):
			t.Errorf("shared window: port %d saw %d of %d requests, want about a third", i, f.n.Load(), n)
		case !shared && i == 1 && share > 0.25:
			t.Errorf("windows per socket: the lossy port saw %d of %d requests, want less than its third", f.n.Load(), n)
		case !shared && i != 1 && share < 0.3:
			t.Errorf("windows per socket: port %d saw %d of %d requests, want more than a third", i, f.n.Load(), n)
		}
	}
	t.Logf("requests per port %d %d %d; timeouts %d", fakes[0].n.Load(), fakes[1].n.Load(), fakes[2].n.Load(), rep.Timeouts)
	if rep.Sent != n || seen != n {
		t.Fatalf("report sent %d, agents saw %d, want %d", rep.Sent, seen, n)
	}
	if dropped := uint64(fakes[1].dropped.Load()); rep.Timeouts != dropped || dropped == 0 {
		t.Errorf("timeouts %d, dropped %d: want every loss counted", rep.Timeouts, dropped)
	}
}

// TestDrivenClosedLoopInterrupted: cancelling the run stops the sockets that drive it
// promptly, and what was sent adds up. It runs on the real clock, against the echo
// server: the run is cancelled once the server has echoed 100 requests, and must end
// well before its minute is up (the bound is for a machine stalled for seconds).
func TestDrivenClosedLoopInterrupted(t *testing.T) {
	srv := startEcho(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelled := make(chan time.Time, 1)
	go func() {
		defer cancel()
		for deadline := time.Now().Add(30 * time.Second); srv.Served() < 100 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		cancelled <- time.Now()
	}()
	rep, err := Run(ctx, Config{Ports: []int{int(srv.Addr().Port())}, Echo: true, Concurrency: 32, Duration: time.Minute,
		Warmup: 0, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	at := <-cancelled
	if took := time.Since(at); took > 30*time.Second {
		t.Errorf("the run took %v after its cancellation", took)
	}
	if !rep.Interrupted || rep.Sent < 100 {
		t.Errorf("interrupted %v, sent %d: want an interrupted run that sent 100 requests or more", rep.Interrupted, rep.Sent)
	}
	checkIdentities(t, rep)
}

// TestDrivenClosedLoopInterruptedSimulated: on simulated time, a run cancelled when
// the agent reads its 100th request stops within a few windows, not at the end of its
// simulated minute, and what was sent adds up.
func TestDrivenClosedLoopInterruptedSimulated(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim := newSimNet(t)
	f := &fakeAgent{delay: 100 * time.Microsecond, onRequest: func(k int) {
		if k == 100 {
			cancel()
		}
	}}
	rep, err := Run(ctx, sim.config(Config{Ports: []int{sim.agent(f)}, Concurrency: 32, Duration: time.Minute,
		Warmup: 0, Timeout: 200 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Sent < 100 || rep.Sent > 100+4*32 || rep.Timeouts != 0 {
		t.Errorf("interrupted %v, sent %d, timeouts %d: want an interrupted run that sent 100 requests and at most a few windows more, all answered",
			rep.Interrupted, rep.Sent, rep.Timeouts)
	}
	t.Logf("sent %d", rep.Sent)
	checkIdentities(t, rep)
}

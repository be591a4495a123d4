package routesvc

import (
	"context"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// leaseEntry is a LeaseEntry of h in k.
func leaseEntry(k route.Key, h route.Host, ttl time.Duration, op larspb.LeaseOp) *larspb.LeaseEntry {
	return &larspb.LeaseEntry{Modid: k.Modid, Cmdid: k.Cmdid, Host: &larspb.HostInfo{Ip: wip(h), Port: wport(h)},
		TtlMs: uint32(ttl.Milliseconds()), Op: op}
}

// encodeLease encodes a Lease of entries.
func encodeLease(t testing.TB, entries ...*larspb.LeaseEntry) []byte {
	t.Helper()
	frame, err := codec.AppendFrame(nil, codec.MsgLease, &larspb.Lease{Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	return frame
}

// lease sends a Lease of entries.
func (a *agentConn) lease(entries ...*larspb.LeaseEntry) {
	a.t.Helper()
	a.send(encodeLease(a.t, entries...))
}

// leaseReply reads frames until a LeaseReply, failing after d.
func (a *agentConn) leaseReply(d time.Duration) *larspb.LeaseReply {
	a.t.Helper()
	deadline := time.Now().Add(d)
	for {
		id, body := a.nextFrame(time.Until(deadline))
		if id != codec.MsgLeaseReply {
			continue
		}
		var r larspb.LeaseReply
		if err := r.UnmarshalVT(body); err != nil {
			a.t.Fatal(err)
		}
		return &r
	}
}

// statuses returns the statuses of r's results.
func statuses(r *larspb.LeaseReply) []larspb.LeaseStatus {
	out := make([]larspb.LeaseStatus, len(r.Results))
	for i, x := range r.Results {
		out[i] = x.Status
	}
	return out
}

// register sends one entry and returns its result, failing unless it is want.
func (a *agentConn) register(k route.Key, h route.Host, ttl time.Duration, op larspb.LeaseOp, want larspb.LeaseStatus) *larspb.LeaseResult {
	a.t.Helper()
	a.lease(leaseEntry(k, h, ttl, op))
	r := a.leaseReply(eventWithin)
	if len(r.Results) != 1 || r.Results[0].Status != want {
		a.t.Fatalf("%v %v of %v: %+v, want %v", op, k, h, r, want)
	}
	return r.Results[0]
}

// stoppableService runs a service on st with cfg (Listen, Logger and Poll filled in
// when empty), waits until it serves, and returns a function that stops it (Run
// returned), called when the test ends if not before.
func stoppableService(t testing.TB, st Store, cfg Config, before ...func(*Service)) (*Service, func()) {
	t.Helper()
	cfg.Store = st
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f(svc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(eventWithin):
			t.Errorf("Run did not return within %v", eventWithin)
		}
	}
	t.Cleanup(stop)
	select {
	case <-svc.Ready():
	case err := <-done:
		stopped = true
		t.Fatalf("Run ended before serving: %v", err)
	case <-time.After(eventWithin):
		t.Fatalf("service not ready within %v", eventWithin)
	}
	return svc, stop
}

// historyOps returns the ops of k's RouteHistory rows, oldest first.
func historyOps(t testing.TB, db *store.DB, k route.Key) []string {
	t.Helper()
	rows, err := db.History(context.Background(), store.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Key == k {
			ops = append(ops, rows[i].Op)
		}
	}
	return ops
}

package routesvc

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// batchLogStore is holdOnceStore that records how many frames (batches) each
// ApplyLeaseBatches carried.
type batchLogStore struct {
	*holdOnceStore
	mu    sync.Mutex
	calls []int
}

func (g *batchLogStore) ApplyLeaseBatches(ctx context.Context, batches []store.LeaseBatch) ([][]store.Registration, error) {
	g.mu.Lock()
	g.calls = append(g.calls, len(batches))
	g.mu.Unlock()
	return g.holdOnceStore.ApplyLeaseBatches(ctx, batches)
}

// TestLeaseWorkerBatches: the frames queued while the worker is held in the store are
// applied, once it is released, in one store call, and every frame is answered in
// queue order on its connection as one call per frame would answer it; an instance dropped by one frame and registered again by
// a later one of the same go ends registered.
func TestLeaseWorkerBatches(t *testing.T) {
	db := openStore(t, storetest.SQLiteDSN(t))
	g := &batchLogStore{holdOnceStore: &holdOnceStore{DB: db, began: make(chan struct{}, 1), release: make(chan struct{})}}
	svc := startService(t, g, Config{AllowRegister: true})
	k, k2 := route.Key{Modid: 73, Cmdid: 1}, route.Key{Modid: 73, Cmdid: 2}
	h1, h2, h3 := host("10.73.0.1", 80), host("10.73.0.2", 80), host("10.73.0.3", 80)
	a, b := dial(t, svc), dial(t, svc)

	g.hold.Store(true)
	a.lease(leaseEntry(k, h1, time.Minute, renu)) // 1: held in the store
	select {
	case <-g.began:
	case <-time.After(eventWithin):
		t.Fatal("the worker did not take the first frame")
	}
	queued := func(n int) {
		waitUntil(t, eventWithin, "the frame queued", func() bool { return len(svc.leases.jobs) == n })
	}
	a.lease(leaseEntry(k, h1, time.Minute, drop)) // 2
	queued(1)
	b.lease(leaseEntry(k, h2, time.Minute, renu), leaseEntry(k2, h3, time.Minute, renu)) // 3
	queued(2)
	a.lease(leaseEntry(k, h1, time.Minute, renu)) // 4: h1 again
	queued(3)
	close(g.release)

	type answer struct {
		op     larspb.LeaseOp
		ips    []int32
		status []larspb.LeaseStatus
	}
	read := func(c *agentConn) answer {
		r := c.leaseReply(eventWithin)
		var an answer
		for _, e := range r.Results {
			an.op = e.Op
			an.ips = append(an.ips, e.GetHost().GetIp())
		}
		an.status = statuses(r)
		return an
	}
	for i, want := range []answer{
		{renu, []int32{wip(h1)}, []larspb.LeaseStatus{ok}},
		{drop, []int32{wip(h1)}, []larspb.LeaseStatus{ok}},
		{renu, []int32{wip(h1)}, []larspb.LeaseStatus{ok}},
	} {
		if got := read(a); got.op != want.op || !slices.Equal(got.ips, want.ips) || !slices.Equal(got.status, want.status) {
			t.Fatalf("a's answer %d: %+v; want %+v", i+1, got, want)
		}
	}
	if got := read(b); !slices.Equal(got.ips, []int32{wip(h2), wip(h3)}) || !slices.Equal(got.status, []larspb.LeaseStatus{ok, ok}) {
		t.Fatalf("b's answer %+v", got)
	}
	g.mu.Lock()
	calls := slices.Clone(g.calls)
	g.mu.Unlock()
	if !slices.Equal(calls, []int{1, 3}) {
		t.Fatalf("store calls of %v frames; want [1 3]: the queued frames in one call", calls)
	}
	if st := svc.LeaseStats(); st.ApplyCalls != 2 || st.ApplyRows != 5 || st.Registered != 4 || st.Deregistered != 1 || st.Failed != 0 {
		t.Fatalf("lease stats %+v; want 2 calls of 5 rows, 4 registered, 1 deregistered", st)
	}
	routes, err := db.Routes(context.Background(), []route.Key{k, k2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(routes[k], []route.Host{h1, h2}) || !slices.Equal(routes[k2], []route.Host{h3}) {
		t.Fatalf("routes %v", routes)
	}
	if got := historyOps(t, db, k); !slices.Equal(got, []string{"register", "register", "deregister", "register"}) {
		t.Fatalf("history of %v: %v", k, got)
	}
	hist, err := db.History(context.Background(), store.HistoryFilter{Limit: 4})
	if err != nil || len(hist) != 4 {
		t.Fatalf("history %v, %v", hist, err)
	}
	// Both connections are agent@127.0.0.1 (an owner named once per row, not joined
	// with itself); the store's tests cover owners that differ.
	for _, h := range hist {
		if h.Who != "agent@127.0.0.1" {
			t.Fatalf("history row %+v by %q; want agent@127.0.0.1", h, h.Who)
		}
	}
	if held := svc.LeaseStats().Held; held != 3 {
		t.Fatalf("%d leases held; want 3", held)
	}
}

package routesvc

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// holdOnceStore holds the first ApplyLeases or ApplyLeaseBatches after hold is set until release is
// closed, telling when it began; every other call goes through.
type holdOnceStore struct {
	*store.DB
	hold    atomic.Bool
	began   chan struct{}
	release chan struct{}
}

func (g *holdOnceStore) ApplyLeases(ctx context.Context, owner string, reqs []store.LeaseRequest) ([]store.Registration, error) {
	if g.hold.CompareAndSwap(true, false) {
		g.began <- struct{}{}
		<-g.release
	}
	return g.DB.ApplyLeases(ctx, owner, reqs)
}

func (g *holdOnceStore) ApplyLeaseBatches(ctx context.Context, batches []store.LeaseBatch) ([][]store.Registration, error) {
	if g.hold.CompareAndSwap(true, false) {
		g.began <- struct{}{}
		<-g.release
	}
	return g.DB.ApplyLeaseBatches(ctx, batches)
}

// TestDropRacingFlushNotRegisteredAgain: a lease whose LEASE_DROP is on its way to the
// store is no lease to keep. A flush that finds it gone in the store meanwhile (the
// drop committed, the worker not yet done with it) must not take it for a lease
// expired under a renewing agent and register it again, which brought a dropped
// instance back for one ttl (seen by lars-loadgen dns -mode register under churn).
func TestDropRacingFlushNotRegisteredAgain(t *testing.T) {
	db := openStore(t, storetest.SQLiteDSN(t))
	g := &holdOnceStore{DB: db, began: make(chan struct{}, 1), release: make(chan struct{})}
	clk := fakeclock.New()
	svc := startService(t, g, Config{AllowRegister: true, LeaseFlush: time.Hour}, func(s *Service) { s.leases.now = clk.Now })
	k, h := route.Key{Modid: 71, Cmdid: 1}, host("10.71.0.1", 80)
	reg := dial(t, svc)
	reg.register(k, h, time.Minute, renu, ok)
	clk.Advance(50 * time.Second)
	reg.register(k, h, time.Minute, keep, ok) // renewed in memory, due at the next flush

	g.hold.Store(true)
	reg.lease(leaseEntry(k, h, time.Minute, drop))
	select {
	case <-g.began: // the worker holds the drop, before the store
	case <-time.After(eventWithin):
		t.Fatal("the worker did not take the drop")
	}
	// The drop commits (done here for the held worker); the flush runs before the
	// worker has recorded it.
	if _, err := db.Deregister(context.Background(), k, h, "agent@test"); err != nil {
		t.Fatal(err)
	}
	svc.leases.tick(context.Background())
	close(g.release)
	if got := statuses(reg.leaseReply(eventWithin)); len(got) != 1 {
		t.Fatalf("the drop answered %v", got)
	}
	routes, err := db.Routes(context.Background(), []route.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes[k]) != 0 {
		t.Errorf("%v has %v after its only instance was dropped: registered again by the flush", k, routes[k])
	}
	if st := svc.LeaseStats(); st.Reregistered != 0 || st.Held != 0 {
		t.Errorf("lease stats %+v: want nothing registered again, nothing held", st)
	}
}

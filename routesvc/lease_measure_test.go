package routesvc

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/store"
)

// envIdleLeases sets how many idle registered instances TestIdleLeaseWrites keeps
// (default 10,000; the figure in docs/control-plane.md is for 100,000).
const envIdleLeases = "LARS_TEST_IDLE_LEASES"

// TestIdleLeaseWrites measures what N idle registered instances (ttl 10 s, renewed by
// their agents every 3.25 s, phases spread) cost the store once registered: rows and
// statements a second, and the time the store spent on them. The lease manager runs
// on a fake clock, driven by hand every Config.LeaseFlush; the store is real. It
// asserts the stated bound: at most N / (ttl/2) rows a second.
func TestIdleLeaseWrites(t *testing.T) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv(envIdleLeases)); err == nil && v > 0 {
		n = v
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		const ttl = 10 * time.Second
		db := openStore(t, dsn)
		svc, err := New(Config{Store: db, AllowRegister: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		m := svc.leases
		clk := fakeclock.New()
		m.now = clk.Now
		ctx := context.Background()
		if !m.ensure(ctx) {
			t.Fatal("cannot create the lease table")
		}
		c := &conn{svc: svc, owner: "agent@measure"}
		keys := make([]store.LeaseKey, n)
		for i := range keys {
			keys[i] = store.LeaseKey{Key: lb.Key{Modid: int32(100 + i/100), Cmdid: 1}, Host: lb.Host{IP: 0x0A000001, Port: int32(1 + i%100)}}
		}
		start := time.Now()
		for lo := 0; lo < n; lo += MaxLeaseEntries {
			job := &leaseJob{c: c}
			for i, lk := range keys[lo:min(lo+MaxLeaseEntries, n)] {
				job.idx = append(job.idx, i)
				job.reqs = append(job.reqs, store.LeaseRequest{Key: lk.Key, Host: lk.Host, TTL: ttl, Op: store.LeaseNew})
			}
			res, err := db.ApplyLeases(ctx, c.owner, job.reqs)
			if err != nil {
				t.Fatal(err)
			}
			job.results = make([]*larspb.LeaseResult, len(job.reqs))
			for i := range job.results {
				job.results[i] = &larspb.LeaseResult{}
			}
			m.applied(job, res, clk.Now())
		}
		t.Logf("%d registrations in frames of %d: %v", n, MaxLeaseEntries, time.Since(start).Round(time.Millisecond))
		flush := svc.cfg.LeaseFlush
		const every = 13 // renewals every 13 rounds of 250 ms: 3.25 s, under ttl/3
		round := 0
		run := func(d time.Duration) (storeTime time.Duration) {
			for end := clk.Now().Add(d); clk.Now().Before(end); round++ {
				clk.Advance(flush)
				for i, lk := range keys {
					if (i+round)%every == 0 {
						if _, ok := m.keep(c, lk, ttl); !ok {
							t.Fatalf("renewal of %v not answered from memory", lk)
						}
					}
				}
				s := time.Now()
				m.flush(ctx, false)
				storeTime += time.Since(s)
			}
			return storeTime
		}
		run(30 * time.Second) // to the steady state
		before := svc.LeaseStats()
		const span = time.Minute
		spent := run(span)
		after := svc.LeaseStats()
		secs := span.Seconds()
		rows := float64(after.RenewRows-before.RenewRows) / secs
		stmts := float64(after.RenewStatements-before.RenewStatements) / secs
		t.Logf("%d idle instances, ttl %v, renewed every %v: %.0f rows/s in %.1f statements/s (store busy %.1f%% of the time, %v per second)",
			n, ttl, every*flush, rows, stmts, 100*spent.Seconds()/secs, (spent / time.Duration(secs)).Round(time.Microsecond))
		if bound := float64(n) / (ttl / 2).Seconds(); rows > bound {
			t.Fatalf("%.0f rows/s, want at most N/(ttl/2) = %.0f", rows, bound)
		}
		if after.StoreErrors != 0 || after.Reregistered != 0 || after.Held != n {
			t.Fatalf("lease stats %+v", after)
		}
	})
}

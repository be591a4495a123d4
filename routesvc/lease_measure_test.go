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
	"github.com/larsgo/lars/route"
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
			keys[i] = store.LeaseKey{Key: route.Key{Modid: int32(100 + i/100), Cmdid: 1}, Host: route.FromWire(0x0A000001, int32(1+i%100))}
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

// envIdleLeasesRealTime, set to a duration, makes TestIdleLeaseWritesRealTime run for
// that long.
const envIdleLeasesRealTime = "LARS_TEST_IDLE_LEASES_REALTIME"

// TestIdleLeaseWritesRealTime measures the same as TestIdleLeaseWrites with a real
// service on its real clock: agents on 10 connections register N instances (default
// 10,000; envIdleLeases) with ttl 10 s and renew them every 3.25 s in frames of
// 1,000; after a third of the run to settle, the rows and statements a second the
// service wrote are taken from its figures. Nothing may expire. It runs only when
// envIdleLeasesRealTime gives its length (at least 30s).
func TestIdleLeaseWritesRealTime(t *testing.T) {
	length, err := time.ParseDuration(os.Getenv(envIdleLeasesRealTime))
	if err != nil || length < 30*time.Second {
		t.Skip(envIdleLeasesRealTime + " is not a duration of at least 30s: a long measurement, run by hand")
	}
	n := 10000
	if v, err := strconv.Atoi(os.Getenv(envIdleLeases)); err == nil && v > 0 {
		n = v
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		const ttl, every, conns, frame = 10 * time.Second, 3250 * time.Millisecond, 10, 1000
		db := openStore(t, dsn)
		svc := startService(t, db, Config{AllowRegister: true, MaxLeasesPerConn: n})
		done := make(chan struct{})
		errs := make(chan error, conns)
		for a := range conns {
			reg := dial(t, svc)
			var frames [][]byte
			for lo := a * n / conns; lo < (a+1)*n/conns; lo += frame {
				var keepEntries []*larspb.LeaseEntry
				for i := lo; i < min(lo+frame, (a+1)*n/conns); i++ {
					k := route.Key{Modid: int32(100 + i/100), Cmdid: 1}
					keepEntries = append(keepEntries, leaseEntry(k, route.FromWire(0x0A000001, int32(1+i%100)), ttl, keep))
				}
				frames = append(frames, encodeLease(t, keepEntries...))
			}
			go func() { // reads and drops the replies
				for {
					reg.nc.SetReadDeadline(time.Now().Add(eventWithin))
					if _, _, err := reg.sr.Next(); err != nil {
						select {
						case <-done:
						default:
							errs <- err
						}
						return
					}
				}
			}()
			go func() { // KEEP registers the first time, then renews
				tick := time.NewTicker(every)
				defer tick.Stop()
				for {
					for _, f := range frames {
						if _, err := reg.nc.Write(f); err != nil {
							return
						}
					}
					select {
					case <-done:
						return
					case <-tick.C:
					}
				}
			}()
		}
		defer close(done)
		settle := length / 3
		time.Sleep(settle) // the measurement's own pacing, not an event's wait
		before, at := svc.LeaseStats(), time.Now()
		time.Sleep(length - settle)
		after, secs := svc.LeaseStats(), time.Since(at).Seconds()
		t.Logf("%d idle instances (real time, %v measured), ttl %v, renewed every %v: %.0f rows/s in %.1f statements/s; %d held, %d expired, %d renewals from memory/s, %d store calls for frames",
			n, time.Duration(secs*float64(time.Second)).Round(time.Second), ttl, every,
			float64(after.RenewRows-before.RenewRows)/secs, float64(after.RenewStatements-before.RenewStatements)/secs,
			after.Held, after.Expired, int(float64(after.RenewedInMemory-before.RenewedInMemory)/secs), after.ApplyCalls)
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		if after.Expired != 0 || after.Held != n {
			t.Fatalf("lease stats %+v: want every instance held, none expired", after)
		}
	})
}

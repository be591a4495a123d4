package routesvc

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

var (
	keep = larspb.LeaseOp_LEASE_KEEP
	renu = larspb.LeaseOp_LEASE_NEW
	drop = larspb.LeaseOp_LEASE_DROP
	ok   = larspb.LeaseStatus_LEASE_OK
)

// TestRegisterPushedToSubscribers: a registration is answered LEASE_OK, written
// through the one write path (who: the agent's address) and pushed to an agent
// subscribed to its service; a DROP removes it and is pushed too; an operator's host
// is answered LEASE_STATIC and left alone.
func TestRegisterPushedToSubscribers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		k, h, static := route.Key{Modid: 50, Cmdid: 1}, host("10.50.0.1", 8080), host("10.50.0.9", 8080)
		if _, err := db.AddHost(context.Background(), k, static); err != nil {
			t.Fatal(err)
		}
		svc := startService(t, db, Config{AllowRegister: true})
		sub := dial(t, svc)
		sub.pull(k.Modid, k.Cmdid)
		sub.waitFor(k, []route.Host{static}, pushWithin)

		reg := dial(t, svc)
		reg.lease(leaseEntry(k, h, 10*time.Second, renu), leaseEntry(k, static, 10*time.Second, keep))
		r := reg.leaseReply(eventWithin)
		if got := statuses(r); !slices.Equal(got, []larspb.LeaseStatus{ok, larspb.LeaseStatus_LEASE_STATIC}) {
			t.Fatalf("statuses %v, want OK and STATIC", got)
		}
		sub.waitFor(k, []route.Host{h, static}, pushWithin)
		hist, err := db.History(context.Background(), store.HistoryFilter{Limit: 1})
		if err != nil || hist[0].Op != "register" || hist[0].Who != "agent@127.0.0.1" {
			t.Fatalf("history %+v, %v: want a register row by agent@127.0.0.1", hist, err)
		}
		reg.register(k, h, 0, drop, ok)
		sub.waitFor(k, []route.Host{static}, pushWithin)
		if st := svc.LeaseStats(); st.Registered != 1 || st.Deregistered != 1 || st.Held != 1 {
			t.Fatalf("lease stats %+v: want 1 registered, 1 deregistered, the static one held", st)
		}
		var m strings.Builder
		svc.WriteMetrics(&m)
		for _, want := range []string{"lars_dns_registrations_total 1", `lars_dns_lease_frames_total{result="taken"} 2`, "lars_dns_leases_held 1",
			"lars_dns_lease_deadlock_retries_total "} {
			if !strings.Contains(m.String(), want) {
				t.Fatalf("metrics lack %s:\n%s", want, m.String())
			}
		}
	})
}

// TestLeaseExpiresAndIsPushed: a lease nobody renews ends within its ttl and a few
// rounds of the loop; its instance is removed and pushed.
func TestLeaseExpiresAndIsPushed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		const ttl, flush = time.Second, 50 * time.Millisecond
		svc := startService(t, db, Config{AllowRegister: true, LeaseFlush: flush})
		k, h := route.Key{Modid: 51, Cmdid: 1}, host("10.51.0.1", 8080)
		sub := dial(t, svc)
		sub.pull(k.Modid, k.Cmdid)
		sub.waitFor(k, nil, pushWithin)
		reg := dial(t, svc)
		start := time.Now()
		reg.register(k, h, ttl, renu, ok)
		sub.waitFor(k, []route.Host{h}, pushWithin)
		sub.waitFor(k, nil, eventWithin)
		took := time.Since(start)
		// Bound: the ttl, a round of the loop, the poll; generous for a loaded machine.
		if bound := ttl + 2*flush + 3*time.Second; took > bound {
			t.Fatalf("expired and pushed %v after registering, want within %v", took, bound)
		}
		t.Logf("registered, expired and pushed in %v (ttl %v)", took, ttl)
		// The push may come before the loop counted its expiry.
		waitUntil(t, eventWithin, "the expiry counted", func() bool { st := svc.LeaseStats(); return st.Expired == 1 && st.Held == 0 })
		if ops := historyOps(t, db, k); !slices.Equal(ops, []string{"register", "expire"}) {
			t.Fatalf("history %v", ops)
		}
	})
}

// TestTwoServicesOneRemoval: two services on one database both push an expiry, and
// exactly one of them removed the instance.
func TestTwoServicesOneRemoval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		cfg := Config{AllowRegister: true, LeaseFlush: 20 * time.Millisecond}
		db1, db2 := openStore(t, dsn), openStore(t, dsn)
		svc1, svc2 := startService(t, db1, cfg), startService(t, db2, cfg)
		k := route.Key{Modid: 52, Cmdid: 1}
		var entries []*larspb.LeaseEntry
		var hosts []route.Host
		for i := range 20 {
			h := host("10.52.0.1", int32(8000+i))
			hosts = append(hosts, h)
			entries = append(entries, leaseEntry(k, h, time.Second, renu))
		}
		hosts = route.Normalize(hosts)
		subs := []*agentConn{dial(t, svc1), dial(t, svc2)}
		for _, s := range subs {
			s.pull(k.Modid, k.Cmdid)
			s.waitFor(k, nil, pushWithin)
		}
		reg := dial(t, svc1)
		reg.lease(entries...)
		if got := statuses(reg.leaseReply(eventWithin)); len(got) != 20 || slices.ContainsFunc(got, func(s larspb.LeaseStatus) bool { return s != ok }) {
			t.Fatalf("statuses %v", got)
		}
		for _, s := range subs {
			s.waitFor(k, hosts, pushWithin)
		}
		for _, s := range subs {
			s.waitFor(k, nil, eventWithin)
		}
		// The pushes may come before the loops counted their expiries.
		waitUntil(t, eventWithin, "20 expiries counted", func() bool {
			return svc1.LeaseStats().Expired+svc2.LeaseStats().Expired >= 20
		})
		if e1, e2 := svc1.LeaseStats().Expired, svc2.LeaseStats().Expired; e1+e2 != 20 {
			t.Fatalf("expired %d + %d, want 20 once each", e1, e2)
		}
		if ops := historyOps(t, db1, k); !slices.Equal(slices.Compact(ops), []string{"register", "expire"}) {
			t.Fatalf("history %v: want the registration, then expiries", ops)
		}
	})
}

// TestRestartExpiresNothingRenewed: an agent renewing its instances through a
// restart of the service (a new one on the same database, reached again) loses none:
// the old one flushed the renewals it saw on shutdown, the new one takes the agent's
// renewals through the store.
func TestRestartExpiresNothingRenewed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		const ttl = time.Second
		cfg := Config{AllowRegister: true, LeaseFlush: 20 * time.Millisecond}
		db := openStore(t, dsn)
		k, h := route.Key{Modid: 53, Cmdid: 1}, host("10.53.0.1", 8080)
		svc1, stop1 := stoppableService(t, db, cfg)
		reg := dial(t, svc1)
		reg.register(k, h, ttl, renu, ok)
		end := time.Now().Add(3 * ttl)
		for time.Now().Before(end) { // renew at a third of the ttl
			time.Sleep(ttl / 3)
			reg.register(k, h, ttl, keep, ok)
		}
		stop1()
		svc2 := startService(t, openStore(t, dsn), cfg)
		reg = dial(t, svc2)
		end = time.Now().Add(3 * ttl)
		for time.Now().Before(end) {
			reg.register(k, h, ttl, keep, ok)
			time.Sleep(ttl / 3)
		}
		if ops := historyOps(t, db, k); !slices.Equal(ops, []string{"register"}) {
			t.Fatalf("history %v: want the one registration, no expiry", ops)
		}
		if got, _ := db.Routes(context.Background(), []route.Key{k}); !slices.Equal(got[k], []route.Host{h}) {
			t.Fatalf("routes %v", got)
		}
		if st := svc1.LeaseStats(); st.RenewedInMemory == 0 || st.RenewStatements == 0 {
			t.Fatalf("first service %+v: want renewals from memory, written", st)
		}
	})
}

// TestRegistrationDeniedWhenOff: without -allow-register and without a policy every
// registration is refused, saying how to turn it on, and counted; nothing is written.
func TestRegistrationDeniedWhenOff(t *testing.T) {
	db := openStore(t, storetest.SQLiteDSN(t))
	svc := startService(t, db, Config{})
	reg := dial(t, svc)
	k := route.Key{Modid: 54, Cmdid: 1}
	r := reg.register(k, host("10.54.0.1", 80), time.Second, renu, larspb.LeaseStatus_LEASE_DENIED)
	if !strings.Contains(r.Message, "-allow-register") {
		t.Fatalf("message %q does not say how to turn registration on", r.Message)
	}
	if st := svc.LeaseStats(); st.Refused[leaseRefusedDenied] != 1 || st.ApplyCalls != 0 {
		t.Fatalf("lease stats %+v", st)
	}
	if got, _ := db.Routes(context.Background(), []route.Key{k}); len(got[k]) != 0 {
		t.Fatalf("routes %v", got)
	}
}

// TestInvalidEntries: a ttl out of range, port or address 0 are LEASE_INVALID, each
// in its place among valid entries of the same frame.
func TestInvalidEntries(t *testing.T) {
	svc := emptyService(t, Config{AllowRegister: true})
	reg := dial(t, svc)
	k := route.Key{Modid: 55, Cmdid: 1}
	inv := larspb.LeaseStatus_LEASE_INVALID
	reg.lease(leaseEntry(k, host("10.55.0.1", 80), time.Second, renu), leaseEntry(k, host("10.55.0.1", 80), 500*time.Millisecond, keep),
		leaseEntry(k, host("10.55.0.2", 0), time.Second, keep), leaseEntry(k, route.FromWire(0, 80), time.Second, keep),
		leaseEntry(k, host("10.55.0.3", 80), 2*time.Hour, renu), &larspb.LeaseEntry{Modid: 55, Cmdid: 1, TtlMs: 1000})
	want := []larspb.LeaseStatus{ok, inv, inv, inv, inv, inv}
	if got := statuses(reg.leaseReply(eventWithin)); !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if st := svc.LeaseStats(); st.Refused[leaseRefusedInvalid] != 5 {
		t.Fatalf("refused %v", st.Refused)
	}
}

package ctlplane

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/larstest"
	"github.com/larsgo/lars/internal/waitfor"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/routesvc"
)

// The real route service on SQLite with -allow-register: every registration of the
// storm and of the steady phase is answered LEASE_OK and reaches every subscriber,
// every drop and expiry leaves them, nothing is removed while renewed, the service's
// own counts agree (registrations, deregistrations, expiries) and its lease writes are
// read from /metrics. How soon is no verdict here (the fake tests time the pushes
// exactly): a push only has to come within 30s. The ttl is 4 s, not the 1 s the
// service allows: on a machine busy with other work, -race, renewals every 333 ms and
// a store write within the last 250 ms of a lease were late by more than that.
func TestRegisterAgainstRouteServiceOnSQLite(t *testing.T) {
	larstest.CheckGoroutines(t, generousWait)
	db := openStore(t)
	svc, admin := startRouteService(t, db, routesvc.Config{AllowRegister: true, Poll: 50 * time.Millisecond, LeaseFlush: 50 * time.Millisecond, Logger: quiet})
	rep, err := RunRegister(context.Background(), RegisterConfig{Target: svc.Addr().String(), Agents: 20, Instances: 5,
		Cmdids: loadgen.Range{Lo: 1, Hi: 10}, Subscribers: 3, TTL: 4 * time.Second, Churn: 6, Expire: 3, Duration: 2 * time.Second,
		PushTimeout: generousWait, SetupTimeout: generousWait, AdminURL: admin})
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.Problems(); len(p) != 0 {
		t.Errorf("problems: %s", strings.Join(p, ", "))
	}
	st, sd := rep.Storm, rep.Steady
	if st.Accepted != 100 || !st.Complete || st.RegisterMS.Count != 300 {
		t.Errorf("storm %+v; want 100 accepted, each seen by the 3 subscribers", st)
	}
	if sd.Dropped+sd.Expired+sd.Skipped != 18 || sd.Registered != sd.Dropped+sd.Expired || sd.Expired == 0 || sd.Dropped == 0 {
		t.Errorf("steady %+v; want 18 replacements (12 dropped, 6 expiring, a few perhaps skipped)", sd)
	}
	if sd.RegisterMS.Count != 3*sd.Registered || sd.DropMS.Count != 3*sd.Dropped || sd.ExpiryMS.Count != 3*sd.Expired {
		t.Errorf("sights: register %d, drop %d, expiry %d for %+v", sd.RegisterMS.Count, sd.DropMS.Count, sd.ExpiryMS.Count, sd)
	}
	// The service's counts: read from /metrics over the steady phase (a drop written
	// just before the phase's last scrape may be applied after it, so the window may
	// lack one), and in all the drops it applied, every one of the run's.
	if got, ok := rep.Service["lars_dns_deregistrations_total"]; !ok || got <= 0 {
		t.Errorf("deregistrations over the steady phase from /metrics: %v, %v; want some", got, ok)
	}
	if !waitfor.Poll(generousWait, func() bool { return svc.LeaseStats().Deregistered >= sd.Dropped }) {
		t.Errorf("the service applied %d deregistrations, the run dropped %d", svc.LeaseStats().Deregistered, sd.Dropped)
	}
	if rep.DB == nil || rep.DB.RowsPerS <= 0 || rep.DB.StatementsPerS <= 0 {
		t.Errorf("database figures %+v; want the lease writes read from /metrics", rep.DB)
	}
	// The cleanup dropped every instance: the service lets go of every lease (polled:
	// with several store workers, a renewal written before a drop may be applied
	// after it and take the lease again until it ends).
	if !waitfor.Poll(generousWait, func() bool { return svc.LeaseStats().Held == 0 }) {
		t.Errorf("the service holds %d leases %v after the cleanup", svc.LeaseStats().Held, generousWait)
	}
}

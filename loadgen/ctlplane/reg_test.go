package ctlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
)

// near reports whether the histogram latency v (ms) is want within its 0.4% buckets.
func near(v, want float64) bool { return math.Abs(v-want) <= want*0.005+0.01 }

// resultCount returns the count of op and status in rep.
func resultCount(rep *RegisterReport, op, status string) uint64 {
	for _, x := range rep.Results {
		if x.Op == op && x.Status == status {
			return x.Count
		}
	}
	return 0
}

// Against a fake service on the bubble's clock that pushes a change 30ms after it
// and expires leases every 100ms: the storm's 100 instances each reach the 3
// subscribers 30ms after their LEASE_NEW, as do the steady phase's new ones and
// drops; an expiry is seen 30 to 130ms after the lease's end; every sight is
// counted once, the results add up, and the cleanup leaves the service empty.
func TestRegisterAgainstFake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeLeaseService(30*time.Millisecond, 100*time.Millisecond)
		rep, err := RunRegister(context.Background(), RegisterConfig{Target: "fake:1", Agents: 20, Instances: 5,
			Cmdids: loadgen.Range{Lo: 1, Hi: 7}, Subscribers: 3, TTL: 3 * time.Second, Churn: 4, Expire: 2,
			Duration: 3 * time.Second, PushTimeout: 5 * time.Second, dial: svc.dial})
		if err != nil {
			t.Fatal(err)
		}
		svc.close()
		st, sd := rep.Storm, rep.Steady
		if st.Instances != 100 || st.Answered != 100 || st.Accepted != 100 || !st.Complete || st.Missing != 0 {
			t.Errorf("storm %+v; want 100 registered, answered, accepted and seen by all", st)
		}
		if st.AcceptedS != 0 || st.AllPushedS != 0.03 || st.RegisterMS.Count != 300 || !near(st.RegisterMS.Min, 30) || !near(st.RegisterMS.Max, 30) {
			t.Errorf("storm accepted in %vs, pushed in %vs, latency %+v; want at once, 30ms, 300 of 30ms", st.AcceptedS, st.AllPushedS, st.RegisterMS)
		}
		if sd.Dropped != 12 || sd.Expired != 6 || sd.Skipped != 0 || sd.Registered != 18 {
			t.Errorf("steady %+v; want 12 dropped and 6 expired (6/s for 3s, a third expiring), 18 registered", sd)
		}
		for name, l := range map[string]ctlreport.Latency{"register": sd.RegisterMS, "drop": sd.DropMS} {
			if l.Count == 0 || !near(l.Min, 30) || !near(l.Max, 30) {
				t.Errorf("%s latency %+v; want each 30ms", name, l)
			}
		}
		if sd.RegisterMS.Count != 54 || sd.DropMS.Count != 36 || sd.ExpiryMS.Count != 18 {
			t.Errorf("sights: register %d, drop %d, expiry %d; want 54, 36, 18", sd.RegisterMS.Count, sd.DropMS.Count, sd.ExpiryMS.Count)
		}
		if l := sd.ExpiryMS; l.Min < 29.8 || l.Max > 131 || sd.ExpiredEarly != 0 {
			t.Errorf("expiry latency %+v (%d early); want 30 to 130ms", l, sd.ExpiredEarly)
		}
		if sd.MissingRegister+sd.MissingDrop+sd.MissingExpiry != 0 {
			t.Errorf("missing sights %+v", sd)
		}
		if a := rep.Anomalies; a != (RegAnomalies{}) {
			t.Errorf("anomalies %+v", a)
		}
		if p := rep.Problems(); len(p) != 0 {
			t.Errorf("problems %q", p)
		}
		// Every instance still kept at the end is dropped: the 100 running.
		if n := resultCount(rep, "new", "ok"); n != 118 {
			t.Errorf("new ok %d, want 118", n)
		}
		if n := resultCount(rep, "drop", "ok"); n != 12+100 {
			t.Errorf("drop ok %d, want 112 (12 replaced, 100 at the end)", n)
		}
		if n := resultCount(rep, "keep", "ok"); n == 0 || n != rep.Renewals.Entries {
			t.Errorf("keep ok %d, renewals %+v", n, rep.Renewals)
		}
		if n := svc.registered(); n != 0 {
			t.Errorf("the service holds %d instances after the run", n)
		}
		var reg, gone uint64
		for _, s := range rep.Seconds {
			reg += s.Registered
			gone += s.Gone
		}
		if reg != 18 || gone != 54 {
			t.Errorf("per-second series: %d registered, %d gone; want 18, 54", reg, gone)
		}
		checkRegOutputs(t, rep)
	})
}

// checkRegOutputs fails t unless the report writes as text, CSV, HTML and JSON that
// reads back.
func checkRegOutputs(t *testing.T, rep *RegisterReport) {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "register->push, storm") {
		t.Errorf("text: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := rep.WriteCSV(&b); err != nil || strings.Count(b.String(), "\n") != len(rep.Seconds)+1 {
		t.Errorf("csv: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := rep.WriteHTML(&b); err != nil || !strings.Contains(b.String(), "</html>") {
		t.Errorf("html: %v", err)
	}
	b.Reset()
	var back RegisterReport
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Schema != RegisterSchemaVersion || back.Storm != rep.Storm {
		t.Errorf("json: %v, %+v", err, back.Storm)
	}
}

// A service whose HelloReply does not offer FEATURE_REGISTER: the run fails at once
// and says so.
func TestRegisterRefusedWithoutFeature(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeLeaseService(time.Millisecond, time.Second)
		svc.features = uint32(larspb.Feature_FEATURE_UNSUBSCRIBE)
		_, err := RunRegister(context.Background(), RegisterConfig{Target: "fake:1", Agents: 3, Instances: 2, Subscribers: 1, dial: svc.dial})
		svc.close()
		if err == nil || !strings.Contains(err.Error(), "does not take registrations") || !strings.Contains(err.Error(), "FEATURE_REGISTER") {
			t.Fatalf("err %v; want a refusal naming FEATURE_REGISTER", err)
		}
	})
}

// Registrations the service denies are counted by status, expected at no
// subscriber, and never replaced; the others are measured as usual.
func TestRegisterDeniedCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeLeaseService(10*time.Millisecond, 100*time.Millisecond)
		svc.status = func(e *larspb.LeaseEntry) larspb.LeaseStatus {
			if e.Cmdid == 2 {
				return larspb.LeaseStatus_LEASE_DENIED
			}
			return larspb.LeaseStatus_LEASE_OK
		}
		rep, err := RunRegister(context.Background(), RegisterConfig{Target: "fake:1", Agents: 4, Instances: 4,
			Cmdids: loadgen.Range{Lo: 1, Hi: 2}, Subscribers: 2, TTL: time.Second, Churn: 4, Duration: time.Second, dial: svc.dial})
		if err != nil {
			t.Fatal(err)
		}
		svc.close()
		st := rep.Storm
		if st.Answered != 16 || st.Accepted != 8 || st.Complete || st.Missing != 0 || st.RegisterMS.Count != 16 {
			t.Errorf("storm %+v; want 16 answered, 8 accepted, each seen by both subscribers", st)
		}
		if d := resultCount(rep, "new", "denied"); d != 8 {
			t.Errorf("new denied %d, want 8", d)
		}
		if sd := rep.Steady; sd.MissingRegister+sd.MissingDrop != 0 || sd.Dropped != 4 || resultCount(rep, "new", "denied") != 8 {
			t.Errorf("steady %+v: want 4 accepted instances replaced, nothing missing", sd)
		}
		if a := rep.Anomalies; a != (RegAnomalies{}) {
			t.Errorf("anomalies %+v", a)
		}
		if p := rep.Problems(); len(p) != 1 || p[0] != "8 new denied" {
			t.Errorf("problems %q; want the 8 denied", p)
		}
	})
}

// A service that takes renewals without extending the leases removes instances
// still renewed: each removal is counted as an anomaly, not as an expiry.
func TestRegisterRemovedWhileRenewedCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeLeaseService(10*time.Millisecond, 100*time.Millisecond)
		svc.ignoreKeep = true
		rep, err := RunRegister(context.Background(), RegisterConfig{Target: "fake:1", Agents: 2, Instances: 3,
			Subscribers: 2, TTL: time.Second, Duration: 2 * time.Second, dial: svc.dial})
		if err != nil {
			t.Fatal(err)
		}
		svc.close()
		if a := rep.Anomalies; a.RemovedWhileKept != 12 || rep.Steady.ExpiryMS.Count != 0 {
			t.Errorf("anomalies %+v, expiries %+v; want the 6 instances removed while renewed at both subscribers", a, rep.Steady.ExpiryMS)
		}
		if p := strings.Join(rep.Problems(), ", "); !strings.Contains(p, "12 instances removed while renewed") {
			t.Errorf("problems %q", p)
		}
	})
}

// Instance addresses decode to the instance, and hosts of other runs or keys do not.
func TestRegIDsRoundTrip(t *testing.T) {
	ids := regIDs{tag: 5000, slots: 7, n: 70}
	for g := range ids.n {
		h := ids.host(g)
		if got, ok := ids.instance(wireIPPort(h)); !ok || got != g {
			t.Fatalf("instance %d: host %+v decodes to %d, %v", g, h, got, ok)
		}
	}
	for _, h := range [][2]int32{{regIPBase, 4999}, {regIPBase, 5007}, {regIPBase + 10, 5000}, {regIPBase - 1, 5000}, {0, 0}} {
		if g, ok := ids.instance(h[0], h[1]); ok {
			t.Errorf("host %v decodes to instance %d", h, g)
		}
	}
}

// A storm spread over 1s: agent i registers at i/10 s, so the last instance reaches
// the subscribers 0.9s + 20ms after the start; the warmup passes before the steady
// phase, whose span is its own.
func TestRegisterStormSpread(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newFakeLeaseService(20*time.Millisecond, 100*time.Millisecond)
		rep, err := RunRegister(context.Background(), RegisterConfig{Target: "fake:1", Agents: 10, Instances: 2, Subscribers: 2,
			TTL: 2 * time.Second, StormSpread: time.Second, Warmup: 500 * time.Millisecond, Duration: time.Second, dial: svc.dial})
		if err != nil {
			t.Fatal(err)
		}
		svc.close()
		if st := rep.Storm; st.Accepted != 20 || !st.Complete || st.AcceptedS != 0.9 || st.AllPushedS != 0.92 || !near(st.RegisterMS.Max, 20) {
			t.Errorf("storm %+v; want the last accepted at 0.9s, pushed at 0.92s, each 20ms after its registration", st)
		}
		if rep.Steady.DurationS != 1 || rep.WarmupS != 0.5 || rep.StormSpreadS != 1 {
			t.Errorf("steady %vs, warmup %vs, spread %vs", rep.Steady.DurationS, rep.WarmupS, rep.StormSpreadS)
		}
		if p := rep.Problems(); len(p) != 0 {
			t.Errorf("problems %q", p)
		}
	})
}

package ctlplane

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/reportsvc"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/routesvc"
	"github.com/larsgo/lars/store"
)

// generousWait bounds what a test waits for on a real service, socket or store: never
// reached by a working build, however busy the machine.
const generousWait = 30 * time.Second

// fakeWriter is a RouteWriter over a pipeRouteService, for runs inside a synctest
// bubble: a write takes writeTime, and the service pushes the change delay after the
// write was called, as a polling service would. Every moment is exact on the bubble's
// clock.
type fakeWriter struct {
	svc              *pipeRouteService
	writeTime, delay time.Duration
	// afterChange, when not nil, is called at the end of change number n (1, 2, ...),
	// before its write returns.
	afterChange func(n int)

	mu sync.Mutex
	// subscribed is the sum over changes of the connections the fake had subscribed to
	// the key when the change was written: the pushes it owes.
	subscribed int
	changes    int
	pending    sync.WaitGroup
}

func (f *fakeWriter) ReplaceKeys(_ context.Context, routes map[route.Key][]route.Host) ([]route.Key, error) {
	var keys []route.Key
	for k, hosts := range routes {
		f.svc.SetRoute(k, hosts)
		keys = append(keys, k)
	}
	return keys, nil
}

func (f *fakeWriter) SetHosts(_ context.Context, k route.Key, hosts []route.Host) (bool, error) {
	hosts = slices.Clone(hosts)
	f.mu.Lock()
	f.subscribed += f.svc.Subscribed(k)
	f.changes++
	n := f.changes
	f.mu.Unlock()
	f.pending.Add(1)
	time.AfterFunc(f.delay, func() {
		defer f.pending.Done()
		f.svc.SetRoute(k, hosts)
	})
	time.Sleep(f.writeTime)
	if f.afterChange != nil {
		f.afterChange(n)
	}
	return true, nil
}

func (f *fakeWriter) owed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.subscribed
}

// newFakeDNS returns a route service on an in-memory network and a writer whose
// writes take writeTime and are pushed delay after they were called. Call it inside a
// synctest bubble, and dial the agents with the service's dial.
func newFakeDNS(writeTime, delay time.Duration) (*pipeRouteService, *fakeWriter) {
	svc := newPipeRouteService()
	return svc, &fakeWriter{svc: svc, writeTime: writeTime, delay: delay}
}

// openStore opens a fresh SQLite store in the test's directory.
func openStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "lars.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// startRouteService runs a real route service on db until the test ends, with its
// admin endpoint; it returns the service and the admin base URL.
func startRouteService(t *testing.T, db *store.DB, cfg routesvc.Config) (*routesvc.Service, string) {
	t.Helper()
	cfg.Store, cfg.Listen = db, "127.0.0.1:0"
	svc, err := routesvc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, runService(t, "route service", svc)
}

// startReportService runs a real report service until the test ends, with its admin
// endpoint; it returns the service and the admin base URL.
func startReportService(t *testing.T, cfg reportsvc.Config) (*reportsvc.Service, string) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	svc, err := reportsvc.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, runService(t, "report service", svc)
}

// service is what routesvc.Service and reportsvc.Service have in common.
type service interface {
	Run(context.Context) error
	Ready() <-chan struct{}
	AdminHandler() http.Handler
}

// runService runs svc until the test ends (failing it if Run returns an error), waits
// until it is ready, and serves its admin endpoint, whose base URL it returns.
func runService(t *testing.T, name string, svc service) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	select {
	case <-svc.Ready():
	case err := <-done:
		t.Fatalf("%s ended: %v", name, err)
	case <-time.After(generousWait):
		t.Fatalf("%s not ready within %v", name, generousWait)
	}
	admin := httptest.NewServer(svc.AdminHandler())
	t.Cleanup(admin.Close)
	return admin.URL
}

// checkPushSums fails t unless the push counts of r add up (checkPushIdentities) and
// no push came before its write returned: for runs on a synctest bubble's clock.
func checkPushSums(t *testing.T, r *ctlreport.DNSReport) {
	t.Helper()
	p := r.Pushes
	if p.Early != 0 {
		t.Errorf("%d pushes came before their write returned", p.Early)
	}
	checkPushIdentities(t, r)
}

// checkPushIdentities fails t unless the push counts of r add up, every frame was a
// push of the run or a pull's answer, and the per-second series adds up to the totals.
// Unlike checkPushSums it allows early pushes: against a real service, a write that
// stalls between its commit and its return lets the push come first (it is counted,
// with a latency of 0).
func checkPushIdentities(t *testing.T, r *ctlreport.DNSReport) {
	t.Helper()
	p := r.Pushes
	if p.Expected != p.Received+p.LostClosed+p.Missing {
		t.Errorf("expected %d != received %d + lost with closed connections %d + missing %d", p.Expected, p.Received, p.LostClosed, p.Missing)
	}
	if p.LatencyMS.Count != p.Received {
		t.Errorf("%d push latencies for %d pushes received", p.LatencyMS.Count, p.Received)
	}
	if p.Duplicates+p.Stale+p.Unexpected+p.Malformed != 0 {
		t.Errorf("frames: %d duplicate, %d stale, %d unexpected, %d malformed; want none", p.Duplicates, p.Stale, p.Unexpected, p.Malformed)
	}
	var perSecond uint64
	var changes uint64
	for _, s := range r.Seconds {
		perSecond += s.Pushes
		changes += s.Changes
	}
	if perSecond != p.Received || changes != uint64(r.Changes.Committed) {
		t.Errorf("per-second series: %d pushes and %d changes, totals %d and %d", perSecond, changes, p.Received, r.Changes.Committed)
	}
}

// wireInfo returns IPv4 host h as a HostInfo.
func wireInfo(h route.Host) *larspb.HostInfo {
	ip, port := wireIPPort(h)
	return &larspb.HostInfo{Ip: ip, Port: port}
}

// wireIPPort returns IPv4 host h's wire (ip, port).
func wireIPPort(h route.Host) (ip, port int32) {
	ip, port, ok := h.Wire()
	if !ok {
		panic("not IPv4: " + h.String())
	}
	return ip, port
}

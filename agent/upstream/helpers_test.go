package upstream

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// wait bounds every wait of these tests for something that must happen (a frame, a
// count reached, Run returning): on a working build each comes in milliseconds, and
// the bound is far beyond that, so that a machine stalled for seconds never reaches
// it. A passing test never waits it out.
const wait = 30 * time.Second

var (
	quiet = slog.New(slog.DiscardHandler)
	h1    = route.FromWire(10<<24|1, 8001)
	h2    = route.FromWire(10<<24|2, 8002)
	h3    = route.FromWire(-1<<31, 8003) // 128.0.0.0: negative on the wire
)

// newFakeClock returns an injected clock that moves only when told.
func newFakeClock() *fakeclock.Clock { return fakeclock.New() }

// run starts run in a goroutine and returns a function that cancels it and checks it
// returns nil promptly; the test's cleanup calls it too if the test did not.
func run(t *testing.T, run func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(wait):
				t.Errorf("Run did not return within %v of cancel", wait)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds, failing the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// routeOf returns the sorted hosts the table has for the key, and whether it has the
// key, without creating it.
func routeOf(tbl *lb.Table, k route.Key) ([]route.Host, bool) {
	for _, ki := range tbl.Snapshot() {
		if ki.Key == k {
			var hosts []route.Host
			for _, hi := range ki.Hosts {
				hosts = append(hosts, hi.Host)
			}
			slices.SortFunc(hosts, cmpHost)
			return hosts, true
		}
	}
	return nil, false
}

func cmpHost(a, b route.Host) int { return route.Compare(a, b) }

func sorted(hosts ...route.Host) []route.Host {
	hosts = slices.Clone(hosts)
	slices.SortFunc(hosts, cmpHost)
	return hosts
}

// hasRoute reports whether the table's route of the key is exactly hosts.
func hasRoute(tbl *lb.Table, k route.Key, hosts ...route.Host) func() bool {
	return func() bool {
		got, ok := routeOf(tbl, k)
		return ok && slices.Equal(got, sorted(hosts...))
	}
}

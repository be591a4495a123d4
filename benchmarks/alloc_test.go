//go:build !race

package benchmarks

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// TestEndToEndNoAlloc drives every end-to-end workload at an agent in this process,
// after a warm-up, and requires no heap allocation per request across the whole
// process (agent and client). The bound, one allocation per 10,000 requests, leaves
// room for the background work that is not per request (the runtime's own). The
// agent's table runs on a clock that stands still, so the work that comes with time
// (the status messages of reported keys, once a report interval) does not grow with
// the time a busy machine takes over the requests.
func TestEndToEndNoAlloc(t *testing.T) {
	routes, err := route.ParseRoutes(strings.NewReader(benchRoutes()), "bench routes")
	if err != nil {
		t.Fatal(err)
	}
	a := frozenAgent(t, routes)
	for _, w := range workloads() {
		t.Run(w.name, func(t *testing.T) {
			c, err := newBatchClient(a.Addrs()[0].String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			c.load(w.frames)
			if _, _, err := c.rounds(20000, w.agentAnswers); err != nil { // warm-up
				t.Fatal(err)
			}
			const n = 100000
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, lost, err := c.rounds(n, w.agentAnswers)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			allocs := after.Mallocs - before.Mallocs
			t.Logf("%d requests, %d lost answers, %d allocations", n, lost, allocs)
			if float64(allocs)/n > 1e-4 {
				t.Fatalf("%d allocations over %d requests", allocs, n)
			}
		})
	}
}

// frozenAgent runs an agent serving routes on a free loopback port as
// agenttest.Start does (one socket waiting in the netpoller, logging nowhere), with
// its table's clock standing still, and stops it when the test ends.
func frozenAgent(t *testing.T, routes map[route.Key][]route.Host) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Config{Routes: routes, Ports: []int{0}, SocketsPerPort: 1, Wait: batchio.WaitPoll,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Table: lb.Config{Clock: fakeclock.New().Now}})
	if err != nil {
		t.Fatal(err)
	}
	a.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return a
}

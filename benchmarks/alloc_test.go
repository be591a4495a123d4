//go:build !race

package benchmarks

import (
	"runtime"
	"strings"
	"testing"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/agenttest"
)

// TestEndToEndNoAlloc drives every end-to-end workload at an agent in this process,
// after a warm-up, and requires no heap allocation per request across the whole
// process (agent and client). The bound, one allocation per 10,000 requests, leaves
// room for the background work that is not per request (the runtime's own, the
// once-a-second status messages of reported keys).
func TestEndToEndNoAlloc(t *testing.T) {
	routes, err := agent.ParseRoutes(strings.NewReader(benchRoutes()), "bench routes")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := agenttest.Start(t, routes, 1)
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

// Package agenttest starts a real lars agent for the tests of the packages that talk
// to one (api, larsctl, loadgen, benchmarks).
package agenttest

import (
	"io"
	"log/slog"
	"testing"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/route"
)

// Start runs an agent serving routes on ports free loopback ports (one socket each),
// logging nowhere, and closes it when the test ends. It returns the agent and its
// ports in order.
//
// The agent waits for datagrams in Go's netpoller (batchio.WaitPoll), the mode for an
// agent inside another program. lars-agent's default, blocking its serving threads in
// recvmmsg, relies on GOMAXPROCS being raised for those threads, which lars-agent does
// for its own process; inside a test process it would instead take Ps from the code
// under test, each woken thread waiting for one (the api package's pair benchmarks
// against it took 29-42% less time a call in the netpoller, 6 alternating runs).
func Start(tb testing.TB, routes map[route.Key][]route.Host, ports int) (*agent.Agent, []uint16) {
	tb.Helper()
	a, err := agent.New(agent.Config{Routes: routes, Ports: make([]int, ports), SocketsPerPort: 1, Wait: batchio.WaitPoll,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	a.Start()
	tb.Cleanup(func() { a.Close() })
	var ps []uint16
	for _, ap := range a.Addrs() {
		ps = append(ps, ap.Port())
	}
	return a, ps
}

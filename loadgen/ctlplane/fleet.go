package ctlplane

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/larsgo/lars/loadgen"
)

// Fleet is the simulated agents of a run and the keys they hold, common to the route
// service's and the report service's runs.
type Fleet struct {
	// Target is the service's TCP address. Default: the service's usual port on
	// 127.0.0.1.
	Target string
	// Agents is the number of simulated agents, each with its own connection. Default 1.
	Agents int
	// Keys is the number of distinct keys each agent holds. Default 1.
	Keys int
	// Modids and Cmdids are the key space the agents' keys are drawn from. Default 1-1
	// each.
	Modids, Cmdids loadgen.Range
	// Spread is how keys are drawn: loadgen.Uniform (default) or loadgen.Zipf.
	Spread loadgen.Spread
	// ZipfS is the Zipf exponent, above 1. Default loadgen.DefaultZipfS.
	ZipfS float64
	// Seed seeds the key draws. Default 1.
	Seed uint64

	// dial, when not nil, opens the agents' connections in place of a net.Dialer: a
	// test's in-memory network (net.Pipe), on which a synctest bubble's clock runs.
	dial dialFunc
	// adminClient, when not nil, reads the service's /metrics (the runs' AdminURL) in
	// place of an http.Client of the run's own: a test's handler called in memory.
	adminClient *http.Client
}

// dialFunc opens one connection, as net.Dialer.DialContext does.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialer returns how the agents connect: f.dial when set, else a net.Dialer bounded
// by timeout.
func (f *Fleet) dialer(timeout time.Duration) dialFunc {
	if f.dial != nil {
		return f.dial
	}
	d := &net.Dialer{Timeout: timeout}
	return d.DialContext
}

// withDefaults fills in the defaults, with defaultTarget for Target, and checks f.
func (f Fleet) withDefaults(defaultTarget string) (Fleet, error) {
	if f.Target == "" {
		f.Target = defaultTarget
	}
	if _, _, err := net.SplitHostPort(f.Target); err != nil {
		return f, fmt.Errorf("target %q: want HOST:PORT", f.Target)
	}
	f.Agents = max(f.Agents, 1)
	f.Keys = max(f.Keys, 1)
	if f.ZipfS == 0 {
		f.ZipfS = loadgen.DefaultZipfS
	}
	if f.ZipfS <= 1 {
		return f, fmt.Errorf("zipf exponent %v: must be above 1", f.ZipfS)
	}
	if f.Seed == 0 {
		f.Seed = 1
	}
	return f, nil
}

// subscriptions draws the keys of every agent.
func (f *Fleet) subscriptions() (*subscriptions, error) {
	ks, err := newKeySpace(f.Modids, f.Cmdids)
	if err != nil {
		return nil, err
	}
	return drawSubscriptions(ks, f.Agents, f.Keys, f.Spread, f.ZipfS, f.Seed)
}

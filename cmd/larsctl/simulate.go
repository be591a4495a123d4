package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/larsgo/lars/api"
)

var simulateCmd = &command{
	name: "simulate",
	args: "MODID CMDID [-n N] [-err-rate R] [-seed S] [-interval D]",
	summary: "call get_host N times and report each call a success, or a failure with probability R;\n" +
		"then print each host's success and failure counts and how many calls got no host",
	flags: func(fs *flag.FlagSet) any {
		s := &simulation{}
		fs.IntVar(&s.n, "n", 100, "number of get_host calls")
		fs.Float64Var(&s.errRate, "err-rate", 0.2, "probability, 0 to 1, that a call is reported failed")
		fs.Uint64Var(&s.seed, "seed", 0, "random seed; 0 picks one")
		fs.DurationVar(&s.interval, "interval", 0, "pause between calls")
		return s
	},
	run: func(e *env, opts any, args []string) error {
		modid, cmdid, err := keyArgs(args, 2)
		if err != nil {
			return err
		}
		sim := opts.(*simulation)
		if sim.n < 0 {
			return usagef("-n %d: must not be negative", sim.n)
		}
		if sim.errRate < 0 || sim.errRate > 1 {
			return usagef("-err-rate %v: must be between 0 and 1", sim.errRate)
		}
		c, err := e.keyClient(modid, cmdid)
		if err != nil {
			return err
		}
		defer c.Close()
		res, err := sim.run(c, modid, cmdid)
		res.print(e.stdout)
		return err
	},
}

// simulation is a caller's behaviour: n calls, each reported failed with probability
// errRate.
type simulation struct {
	n        int
	errRate  float64
	seed     uint64
	interval time.Duration
}

// hostCount is one host's reported calls.
type hostCount struct{ succ, err int }

// simResult counts a simulation's outcomes.
type simResult struct {
	hosts    map[api.Host]*hostCount
	overload int // calls answered RET_OVERLOAD
	noexist  int // calls answered RET_NOEXIST
	timeout  int // calls with no answer in time
	other    int // any other error
}

// run makes the calls. It stops early only when the agent is unreachable, returning
// ErrAgentUnreachable with the counts so far.
func (s *simulation) run(c *api.Client, modid, cmdid int32) (simResult, error) {
	seed := s.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	res := simResult{hosts: make(map[api.Host]*hostCount)}
	ctx := context.Background()
	for i := range s.n {
		if i > 0 && s.interval > 0 {
			time.Sleep(s.interval)
		}
		h, err := c.GetHost(ctx, modid, cmdid)
		switch {
		case err == nil:
			hc := res.hosts[h]
			if hc == nil {
				hc = &hostCount{}
				res.hosts[h] = hc
			}
			var retcode int32
			if rng.Float64() < s.errRate {
				retcode = 1
				hc.err++
			} else {
				hc.succ++
			}
			if err := c.Report(modid, cmdid, h, retcode); errors.Is(err, api.ErrAgentUnreachable) {
				return res, err
			}
		case errors.Is(err, api.ErrOverload):
			res.overload++
		case errors.Is(err, api.ErrNoExist):
			res.noexist++
		case errors.Is(err, api.ErrTimeout):
			res.timeout++
		case errors.Is(err, api.ErrAgentUnreachable):
			return res, err
		default:
			res.other++
		}
	}
	return res, nil
}

// print writes one line per host in address order, "host IP:PORT succ N err M", then
// the calls that got no host: "overload N", "noexist N", "timeout N", "error N".
func (r simResult) print(w io.Writer) {
	hosts := make([]api.Host, 0, len(r.hosts))
	for h := range r.hosts {
		hosts = append(hosts, h)
	}
	sortHosts(hosts)
	for _, h := range hosts {
		fmt.Fprintf(w, "host %v succ %d err %d\n", h, r.hosts[h].succ, r.hosts[h].err)
	}
	fmt.Fprintf(w, "overload %d\nnoexist %d\ntimeout %d\nerror %d\n", r.overload, r.noexist, r.timeout, r.other)
}

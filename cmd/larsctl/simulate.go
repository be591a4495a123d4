package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/loadgen/hostmodel"
	"github.com/larsgo/lars/route"
)

var simulateCmd = &command{
	name: "simulate",
	args: "MODID CMDID [-n N] [-err-rate R] [-seed S] [-interval D] [-host-latency H=D,...] [-host-fail H=R,...] [-host-flap H=D,...]\n" +
		"  [-host-capacity H=N,...] [-host-warmup H=D,...] [-host-zone H=ZONE,...] [-zone ZONE -cross-zone D]",
	summary: "call get_host N times and report each call a success, or a failure with probability R;\n" +
		"then print each host's success and failure counts and how many calls got no host.\n" +
		"With -host-latency, -host-fail or -host-flap the hosts are modelled (H is IP:PORT, or * for\n" +
		"the others): each call's result and latency come from its host's model, reports carry the\n" +
		"latency, and the modelled latency p50 and p99 of the calls that got a host are printed.\n" +
		"-host-capacity gives hosts a capacity in calls a second (more within a second fail), reached\n" +
		"after -host-warmup from a tenth (counted from the host's first call: a host joining cold);\n" +
		"-host-zone places hosts in zones and -zone the caller: a call out of it takes -cross-zone more,\n" +
		"and the share of calls kept in the caller's zone is printed",
	flags: func(fs *flag.FlagSet) any {
		s := &simulation{}
		fs.IntVar(&s.n, "n", 100, "number of get_host calls")
		fs.Float64Var(&s.errRate, "err-rate", 0.2, "probability, 0 to 1, that a call is reported failed")
		fs.Uint64Var(&s.seed, "seed", 0, "random seed; 0 picks one")
		fs.DurationVar(&s.interval, "interval", 0, "pause between calls")
		fs.StringVar(&s.hostLatency, "host-latency", "", "modelled median latency per host, IP:PORT=50ms,... (* for the others)")
		fs.StringVar(&s.hostFail, "host-fail", "", "modelled failure rate per host, IP:PORT=0.5,... (* for the others); replaces -err-rate")
		fs.StringVar(&s.hostFlap, "host-flap", "", "modelled flapping hosts, IP:PORT=2s,...: fail every call in the second half of each period")
		fs.StringVar(&s.hostCapacity, "host-capacity", "", "modelled capacity per host in calls a second, IP:PORT=200,... (* for the others): calls beyond it within a second fail")
		fs.StringVar(&s.hostWarmUp, "host-warmup", "", "modelled warm-up per host, IP:PORT=20s,... (* for the others): capacity grows from a tenth over it, from the host's first call")
		fs.StringVar(&s.hostZone, "host-zone", "", "modelled zone per host, IP:PORT=eu,... (* for the others)")
		fs.StringVar(&s.limits.callerZone, "zone", "", "the caller's zone, for -host-zone and -cross-zone")
		fs.DurationVar(&s.limits.crossZone, "cross-zone", 0, "latency a call to a host outside -zone takes on top of its own")
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
		if err := hostmodel.Parse(&sim.model, sim.hostLatency, sim.hostFail, sim.hostFlap); err != nil {
			return usagef("%v", err)
		}
		if err := sim.limits.parse(sim.hostCapacity, sim.hostWarmUp, sim.hostZone); err != nil {
			return usagef("%v", err)
		}
		if sim.limits.callerZone != "" {
			if err := route.CheckZone(sim.limits.callerZone); err != nil {
				return usagef("-zone: %v", err)
			}
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

	hostLatency, hostFail, hostFlap string          // the model's flags
	model                           hostmodel.Model // the modelled hosts; empty: -err-rate

	hostCapacity, hostWarmUp, hostZone string     // the limits' flags
	limits                             hostLimits // capacities, warm-ups and zones
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

	modelled  bool            // hosts were modelled: latencies holds their latencies
	latencies []time.Duration // modelled latency of each call that got a host

	zoned  bool // the caller has a zone: inZone of the calls that got a host went to hosts in it
	inZone int
}

// run makes the calls. It stops early only when the agent is unreachable, returning
// ErrAgentUnreachable with the counts so far.
func (s *simulation) run(c *api.Client, modid, cmdid int32) (simResult, error) {
	seed := s.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	limited := s.limits.active()
	res := simResult{hosts: make(map[api.Host]*hostCount), modelled: !s.model.Empty() || limited, zoned: s.limits.callerZone != ""}
	ctx := context.Background()
	start := time.Now()
	for i := range s.n {
		if i > 0 && s.interval > 0 {
			time.Sleep(s.interval)
		}
		h, err := c.GetHost(ctx, modid, cmdid)
		switch {
		case err == nil:
			if err := s.call(c, modid, cmdid, h, time.Since(start), rng, &res); errors.Is(err, api.ErrAgentUnreachable) {
				res.inZone = s.limits.inZone
				return res, err
			}
		case errors.Is(err, api.ErrOverload):
			res.overload++
		case errors.Is(err, api.ErrNoExist):
			res.noexist++
		case errors.Is(err, api.ErrTimeout):
			res.timeout++
		case errors.Is(err, api.ErrAgentUnreachable):
			res.inZone = s.limits.inZone
			return res, err
		default:
			res.other++
		}
	}
	res.inZone = s.limits.inZone
	return res, nil
}

// call makes the modelled call to h started at (since the run's start), counts it in
// res and reports it to the agent, returning the report's error.
func (s *simulation) call(c *api.Client, modid, cmdid int32, h api.Host, at time.Duration, rng *rand.Rand, res *simResult) error {
	hc := res.hosts[h]
	if hc == nil {
		hc = &hostCount{}
		res.hosts[h] = hc
	}
	var latency time.Duration
	failed := false
	if res.modelled {
		ip, port, _ := h.Wire()
		latency, failed = s.model.Call(ip, port, at, rng)
		if s.limits.active() {
			extra, shed := s.limits.call(h.Addr, at)
			latency += extra
			failed = failed || shed
		}
		res.latencies = append(res.latencies, latency)
	} else {
		failed = rng.Float64() < s.errRate
	}
	var retcode int32
	if failed {
		retcode = 1
		hc.err++
	} else {
		hc.succ++
	}
	if latency > 0 {
		return c.ReportLatency(modid, cmdid, h, retcode, latency)
	}
	return c.Report(modid, cmdid, h, retcode)
}

// print writes one line per host in address order, "host IP:PORT succ N err M", then
// the calls that got no host: "overload N", "noexist N", "timeout N", "error N", and
// with modelled hosts "latency p50 D p99 D".
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
	if r.modelled && len(r.latencies) > 0 {
		l := slices.Clone(r.latencies)
		slices.Sort(l)
		fmt.Fprintf(w, "latency p50 %v p99 %v\n", l[len(l)/2], l[len(l)*99/100])
	}
	if r.zoned {
		sent := 0
		for _, hc := range r.hosts {
			sent += hc.succ + hc.err
		}
		fmt.Fprintf(w, "in zone %d of %d\n", r.inZone, sent)
	}
}

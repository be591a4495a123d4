// Package policysim compares the balancer's policies without a network: the real
// lb.Table on a simulated clock, called at a steady rate for one key whose hosts are
// modelled (loadgen/hostmodel), each call reported with its modelled latency and
// result when it completes.
package policysim

import (
	"container/heap"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/loadgen/hostmodel"
)

// Workload is a simulated run of one key against modelled hosts, for comparing
// balancing policies without a network: the real lb.Table on a simulated clock.
type Workload struct {
	Name     string
	Hosts    []lb.Host
	Model    hostmodel.Model
	Rate     int           // get_host calls a second, evenly spaced. Default 2000.
	Duration time.Duration // simulated time. Default 30s.
	Sweep    time.Duration // the agent's sweep period. Default 100ms.
	Settings lb.Settings   // zero: lb.DefaultSettings
	Seed     uint64
}

// Result is what the callers of a simulated run saw.
type Result struct {
	Calls    int           // get_host calls
	Refused  int           // answered without a host (RetOverload)
	Failed   int           // calls that went to a host and failed there
	P50, P99 time.Duration // modelled latency of the calls that got a host
	PerHost  map[lb.Host]int
	Panics   uint64 // calls served in panic mode
}

// completion is a call in flight in the simulation.
type completion struct {
	at      time.Duration
	host    lb.Host
	latency time.Duration
	failed  bool
}

type completions []completion

func (c completions) Len() int           { return len(c) }
func (c completions) Less(i, j int) bool { return c[i].at < c[j].at }
func (c completions) Swap(i, j int)      { c[i], c[j] = c[j], c[i] }
func (c *completions) Push(x any)        { *c = append(*c, x.(completion)) }
func (c *completions) Pop() any {
	old := *c
	x := old[len(old)-1]
	*c = old[:len(old)-1]
	return x
}

// Run runs w under the policies pol: calls at w.Rate, each reported with its
// modelled latency and result when it completes, Sweep every w.Sweep.
func Run(w Workload, pol lb.Policies) Result {
	rate, dur, sweep := w.Rate, w.Duration, w.Sweep
	if rate <= 0 {
		rate = 2000
	}
	if dur <= 0 {
		dur = 30 * time.Second
	}
	if sweep <= 0 {
		sweep = 100 * time.Millisecond
	}
	base := time.Unix(1_000_000, 0)
	var now time.Duration
	const modid, cmdid = 1, 1
	tbl := lb.NewTable(lb.Config{Settings: w.Settings, Static: true, Policies: pol,
		Clock: func() time.Time { return base.Add(now) }})
	tbl.ReplaceRoutes(map[lb.Key][]lb.Host{{Modid: modid, Cmdid: cmdid}: w.Hosts})
	rng := rand.New(rand.NewPCG(w.Seed, 0x5eed))
	res := Result{PerHost: make(map[lb.Host]int)}
	var lat []time.Duration
	var pending completions
	nextSweep := sweep
	advance := func(to time.Duration) {
		for {
			// The earliest of the next completion and the next sweep, up to to.
			if len(pending) > 0 && pending[0].at <= to && pending[0].at < nextSweep {
				c := heap.Pop(&pending).(completion)
				now = c.at
				tbl.Tick()
				rc := int32(0)
				if c.failed {
					rc = 1
				}
				tbl.ReportLatency(modid, cmdid, c.host, rc, c.latency)
				continue
			}
			if nextSweep <= to {
				now = nextSweep
				tbl.Sweep()
				nextSweep += sweep
				continue
			}
			now = to
			tbl.Tick()
			return
		}
	}
	interval := time.Second / time.Duration(rate)
	for at := time.Duration(0); at < dur; at += interval {
		advance(at)
		res.Calls++
		h, rc := tbl.GetHost(modid, cmdid)
		if rc != codec.RetSucc {
			res.Refused++
			continue
		}
		l, failed := w.Model.Call(h.IP, h.Port, at, rng)
		if failed {
			res.Failed++
		}
		res.PerHost[h]++
		lat = append(lat, l)
		heap.Push(&pending, completion{at: at + l, host: h, latency: l, failed: failed})
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50 = lat[len(lat)/2]
		res.P99 = lat[len(lat)*99/100]
	}
	res.Panics = tbl.Stats().PanicPicks
	return res
}

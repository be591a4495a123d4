// Package policysim compares the balancer's policies without a network: the real
// lb.Table on a simulated clock, called at a steady rate for one key whose hosts are
// modelled (loadgen/hostmodel), each call reported with its modelled latency and
// result when it completes.
package policysim

import (
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/loadgen/hostmodel"
	"github.com/larsgo/lars/route"
)

// Workload is a simulated run of one key against modelled hosts, for comparing
// balancing policies without a network: the real lb.Table on a simulated clock.
type Workload struct {
	Name     string
	Hosts    []route.Host // IPv4: the model knows hosts by their wire address
	Model    hostmodel.Model
	Rate     int           // get_host calls a second, evenly spaced. Default 2000.
	Duration time.Duration // simulated time. Default 30s.
	Sweep    time.Duration // the agent's sweep period. Default 100ms.
	Settings lb.Settings   // zero: lb.DefaultSettings
	Seed     uint64

	// Capacity, when set, models each listed host's capacity in calls in flight: a
	// call to a host already holding more than its capacity takes its modelled
	// latency times inflight/capacity (a queue), and one beyond twice its capacity
	// fails at once (the host sheds it). Hosts not listed have no limit.
	Capacity map[netip.AddrPort]int
	// Joins add hosts to the route while the run goes on (the route then is Hosts and
	// every host joined so far).
	Joins []Join
	// Zone is the zone the agent is told it runs in (lb.Config.Zone), AgentZone the
	// one it does run in; CrossZone is the latency a call to a host of another zone
	// than AgentZone takes on top of its own.
	Zone, AgentZone string
	CrossZone       time.Duration
	// Window, when its length is positive, is a span of the run whose calls Result
	// also counts apart (WindowFailed, WindowRefused, WindowP99).
	Window Span
}

// Join is a host joining the route at At, cold: its capacity (Workload.Capacity)
// starts at a tenth and grows to all of it over WarmUp.
type Join struct {
	At     time.Duration
	Host   route.Host
	WarmUp time.Duration
}

// Span is a span of simulated time, [From, From+Len).
type Span struct {
	From, Len time.Duration
}

// contains reports whether at is in s.
func (s Span) contains(at time.Duration) bool { return s.Len > 0 && at >= s.From && at < s.From+s.Len }

// Result is what the callers of a simulated run saw.
type Result struct {
	Calls    int           // get_host calls
	Refused  int           // answered without a host (RetOverload)
	Failed   int           // calls that went to a host and failed there
	P50, P99 time.Duration // modelled latency of the calls that got a host
	PerHost  map[netip.AddrPort]int
	Panics   uint64 // calls served in panic mode
	InZone   int    // calls that went to a host of the agent's zone (Workload.AgentZone)

	// The calls started in Workload.Window: refused, failed, and the p99 latency of
	// those that got a host.
	WindowRefused, WindowFailed int
	WindowP99                   time.Duration
}

// completion is a call in flight in the simulation.
type completion struct {
	at      time.Duration
	host    netip.AddrPort
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
	tbl := lb.NewTable(lb.Config{Settings: w.Settings, Static: true, Policies: pol, Zone: w.Zone,
		Clock: func() time.Time { return base.Add(now) }})
	hosts := slices.Clone(w.Hosts)
	tbl.ReplaceRoutes(map[route.Key][]route.Host{{Modid: modid, Cmdid: cmdid}: hosts})
	zones := map[netip.AddrPort]string{}
	for _, h := range w.Hosts {
		zones[h.Addr] = h.Zone
	}
	joined := map[netip.AddrPort]Join{}
	joins := slices.Clone(w.Joins)
	slices.SortFunc(joins, func(a, b Join) int { return int(a.At - b.At) })
	inflight := map[netip.AddrPort]int{}
	var windowLat []time.Duration
	rng := rand.New(rand.NewPCG(w.Seed, 0x5eed))
	res := Result{PerHost: make(map[netip.AddrPort]int)}
	var lat []time.Duration
	var pending completions
	nextSweep := sweep
	advance := func(to time.Duration) {
		for {
			// The earliest of the next completion and the next sweep, up to to.
			if len(pending) > 0 && pending[0].at <= to && pending[0].at < nextSweep {
				c := heap.Pop(&pending).(completion)
				now = c.at
				inflight[c.host]--
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
		for len(joins) > 0 && joins[0].At <= at {
			j := joins[0]
			joins = joins[1:]
			joined[j.Host.Addr] = j
			zones[j.Host.Addr] = j.Host.Zone
			hosts = append(hosts, j.Host)
			tbl.ReplaceRoutes(map[route.Key][]route.Host{{Modid: modid, Cmdid: cmdid}: hosts})
		}
		inWindow := w.Window.contains(at)
		res.Calls++
		h, rc := tbl.GetHost(modid, cmdid)
		if rc != codec.RetSucc {
			res.Refused++
			if inWindow {
				res.WindowRefused++
			}
			continue
		}
		ip, _ := route.WireIP(h.Addr())
		l, failed := w.Model.Call(ip, int32(h.Port()), at, rng)
		if z := zones[h]; w.AgentZone != "" && z == w.AgentZone {
			res.InZone++
		} else if w.AgentZone != "" && z != "" {
			l += w.CrossZone
		}
		if c, ok := w.Capacity[h]; ok {
			capacity := float64(c)
			if j, ok := joined[h]; ok && j.WarmUp > 0 && at-j.At < j.WarmUp {
				capacity *= 0.1 + 0.9*float64(at-j.At)/float64(j.WarmUp)
			}
			if n := float64(inflight[h] + 1); n > 2*capacity {
				failed = true
			} else if n > capacity {
				l = time.Duration(float64(l) * n / capacity)
			}
		}
		inflight[h]++
		if failed {
			res.Failed++
		}
		res.PerHost[h]++
		lat = append(lat, l)
		if inWindow {
			windowLat = append(windowLat, l)
			if failed {
				res.WindowFailed++
			}
		}
		heap.Push(&pending, completion{at: at + l, host: h, latency: l, failed: failed})
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50 = lat[len(lat)/2]
		res.P99 = lat[len(lat)*99/100]
	}
	if len(windowLat) > 0 {
		slices.Sort(windowLat)
		res.WindowP99 = windowLat[len(windowLat)*99/100]
	}
	res.Panics = tbl.Stats().PanicPicks
	return res
}

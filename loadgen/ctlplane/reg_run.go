package ctlplane

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen/stats"
)

// regRun is one registration run's shared state.
type regRun struct {
	cfg   RegisterConfig
	epoch time.Time
	keys  keySpace
	ids   regIDs
	inst  []regInstance // by instance id

	agents      []*regAgent      // nil for one that could not connect
	subscribers []*regSubscriber // nil for one that could not connect
	// subscribersReady is how many subscribers had every key's route before the
	// storm: the pushes each registration and removal is expected to reach.
	subscribersReady int
	readers          sync.WaitGroup
	agentLoops       sync.WaitGroup
	stopLoops        chan struct{}

	replyLatency, pullLatency stats.AtomicHistogram
	// writeBlocked is how long each Lease frame's write took: long when the service
	// stops reading the connection.
	writeBlocked stats.AtomicHistogram
	// results counts LeaseResults by op and status (the last status: any unknown).
	results [3][numLeaseStatuses + 1]atomic.Uint64

	dialErrors, agentsClosed, subscribersClosed atomic.Uint64
	subscribersReadyN                           atomic.Uint64
	newSent, dropped, expired, skipped          atomic.Uint64
	renewFrames, renewEntries, writeErrors      atomic.Uint64
	stormAnswered, stormAccepted                atomic.Uint64
	stormAnsweredAt, stormAcceptedAt            atomic.Int64
	routeFrames                                 atomic.Uint64
	removedWhileKept, reappeared, expiredEarly  atomic.Uint64
	reappearedEnded                             atomic.Uint64
	earliestNs                                  atomic.Int64
	unaskedRemoved, replyMismatch, outOfOrder   atomic.Uint64
	malformed, unexpected                       atomic.Uint64
	stopping                                    atomic.Bool
}

// regServiceMetrics are the prefixes of the route service's series a registration
// run reports: its leases, registrations, pushes and process.
var regServiceMetrics = []string{"lars_dns_lease", "lars_dns_registrations", "lars_dns_deregistrations", "lars_dns_pushes_total",
	"lars_dns_keys_changed_total", "lars_dns_routes", "lars_dns_connections", "process_cpu_seconds_total", "process_resident_memory_bytes"}

// numLeaseStatuses is the LeaseStatus values the protocol defines.
const numLeaseStatuses = int(larspb.LeaseStatus_LEASE_INVALID) + 1

// now returns the time since the run's epoch in nanoseconds (monotonic).
func (r *regRun) now() int64 { return int64(time.Since(r.epoch)) }

// countResult counts one LeaseResult.
func (r *regRun) countResult(op larspb.LeaseOp, st larspb.LeaseStatus) {
	o, s := int(op), int(st)
	if o < 0 || o > 2 {
		r.replyMismatch.Add(1)
		return
	}
	if s < 0 || s >= numLeaseStatuses {
		s = numLeaseStatuses
	}
	r.results[o][s].Add(1)
}

// keyIndex returns the index of (modid, cmdid) in the run's key space.
func (r *regRun) keyIndex(modid, cmdid int32) (uint64, bool) {
	ks := r.keys
	m, c := int64(modid)-int64(ks.mods.Lo), int64(cmdid)-int64(ks.cmds.Lo)
	if m < 0 || c < 0 || c >= int64(ks.ncmd) {
		return 0, false
	}
	i := uint64(m)*ks.ncmd + uint64(c)
	return i, i < ks.n
}

// RunRegister runs simulated agents that register instances with a route service
// (Lease frames over their route-service connections) while subscriber connections
// time every instance's arrival and departure in the pushes: first a storm (every
// agent registers its instances at once), then a steady phase of renewals,
// replacements and expiries, then (unless cfg.Leave) every instance still registered
// is dropped. It returns when every push has come or timed out, or ctx ends. An
// error means the run could not be made: bad configuration, no connection, or a
// service that does not take registrations.
func RunRegister(ctx context.Context, cfg RegisterConfig) (*RegisterReport, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ks, err := newKeySpace(cfg.Modids, cfg.Cmdids)
	if err != nil {
		return nil, err
	}
	if ks.n > maxRegKeys {
		return nil, fmt.Errorf("%d keys: at most %d (every subscriber pulls each)", ks.n, maxRegKeys)
	}
	slots := cfg.slotsPerAgent()
	ids := regIDs{tag: newRegTag(slots), slots: slots, n: cfg.Agents * slots}
	r := &regRun{cfg: cfg, epoch: time.Now(), keys: ks, ids: ids, inst: make([]regInstance, ids.n),
		agents: make([]*regAgent, cfg.Agents), subscribers: make([]*regSubscriber, cfg.Subscribers), stopLoops: make(chan struct{})}
	rep := &RegisterReport{Schema: RegisterSchemaVersion, Target: cfg.Target, Start: r.epoch, Agents: cfg.Agents,
		InstancesPerAgent: cfg.Instances, Keys: int(ks.n), Subscribers: cfg.Subscribers, TTLS: cfg.TTL.Seconds(),
		StormSpreadS: cfg.StormSpread.Seconds(), WarmupS: cfg.Warmup.Seconds(), ChurnPerSec: cfg.Churn, ExpirePerSec: cfg.Expire, Seconds: []RegSecond{}}
	defer r.stop()

	if err := r.connectSubscribers(ctx); err != nil {
		return nil, err
	}
	if err := r.connectAgents(ctx); err != nil {
		return nil, err
	}
	rep.SetupS = float64(r.now()) / 1e9

	r.runStorm(ctx, rep)
	sleepCtx(ctx, cfg.Warmup)

	var sc *scraper
	if cfg.AdminURL != "" {
		sc = newScraper(ctx, cfg.AdminURL, cfg.adminClient)
	}
	cpuStart, _ := stats.ProcessCPU()
	steadyStart := r.now()
	mon := newRegMonitor(r, steadyStart, sc)
	mon.run()
	newRegChurn(r).run(ctx, steadyStart)
	steadyEnd := r.now()
	if sc != nil {
		rep.Service = sc.figures(ctx, regServiceMetrics...)
	}
	r.drain(ctx)
	mon.stop()
	rep.DrainS = float64(r.now()-steadyEnd) / 1e9
	cpuEnd, _ := stats.ProcessCPU()
	rep.LoadgenCPUS = (cpuEnd - cpuStart).Seconds()
	rep.Steady.DurationS = float64(steadyEnd-steadyStart) / 1e9
	if !cfg.Leave {
		r.cleanup(ctx)
	}
	rep.Interrupted = ctx.Err() != nil
	r.stop()
	r.tally(rep)
	rep.Seconds = mon.seconds
	return rep, nil
}

// stop ends the agents' goroutines, closes every connection and waits for the
// readers; once only.
func (r *regRun) stop() {
	if r.stopping.Swap(true) {
		return
	}
	close(r.stopLoops)
	r.agentLoops.Wait()
	for _, a := range r.agents {
		if a != nil {
			a.nc.Close()
		}
	}
	for _, s := range r.subscribers {
		if s != nil {
			s.nc.Close()
		}
	}
	r.readers.Wait()
}

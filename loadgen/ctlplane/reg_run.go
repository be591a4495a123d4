package ctlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
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

// connectSubscribers opens the subscribers' connections, writes their pulls and
// waits until each has every key's route (or the setup timeout).
func (r *regRun) connectSubscribers(ctx context.Context) error {
	connected := r.dialAll(ctx, r.cfg.Subscribers, func(id int, nc net.Conn) {
		s := newRegSubscriber(r, nc)
		r.subscribers[id] = s
		pulls := s.pulls()
		s.pullAt = r.now()
		r.readers.Add(1)
		go s.readLoop()
		nc.Write(pulls) // a failed write ends the connection: the reader sees it
	})
	if connected == 0 {
		return fmt.Errorf("no subscriber could connect to %s (%d connection errors)", r.cfg.Target, r.dialErrors.Load())
	}
	r.waitFor(ctx, r.cfg.SetupTimeout, func() bool {
		return r.subscribersReadyN.Load()+r.subscribersClosed.Load() >= uint64(connected)
	})
	r.subscribersReady = int(r.subscribersReadyN.Load())
	return nil
}

// connectAgents opens the agents' connections and makes their Hello exchanges; the
// first refusal of registrations ends the run.
func (r *regRun) connectAgents(ctx context.Context) error {
	var refusal atomic.Pointer[error]
	connected := r.dialAll(ctx, r.cfg.Agents, func(id int, nc net.Conn) {
		a := &regAgent{run: r, id: id, nc: nc, sr: codec.NewStreamReader(nc, agentReadBuffer), cmds: make(chan regCmd, 16)}
		if err := a.helloExchange(r.cfg.SetupTimeout); err != nil {
			nc.Close()
			if errors.Is(err, errNoRegister) {
				refusal.CompareAndSwap(nil, &err)
			} else {
				r.dialErrors.Add(1)
			}
			return
		}
		r.agents[id] = a
		r.readers.Add(1)
		r.agentLoops.Add(1)
		go a.readLoop()
		go a.loop(r.stopLoops)
	})
	if p := refusal.Load(); p != nil {
		return fmt.Errorf("the route service at %s %w", r.cfg.Target, *p)
	}
	if connected == 0 {
		return fmt.Errorf("no agent could connect to %s (%d connection errors)", r.cfg.Target, r.dialErrors.Load())
	}
	return nil
}

// dialAll opens n connections, DialConcurrency at a time, and calls start for each
// opened (from several goroutines); it returns how many opened.
func (r *regRun) dialAll(ctx context.Context, n int, start func(id int, nc net.Conn)) int {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SetupTimeout)
	defer cancel()
	ids := make(chan int)
	var connected atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.DialConcurrency, n) {
		wg.Go(func() {
			dial := (&Fleet{dial: r.cfg.dial}).dialer(r.cfg.DialTimeout)
			for id := range ids {
				nc, err := dial(ctx, "tcp", r.cfg.Target)
				if err != nil {
					r.dialErrors.Add(1)
					continue
				}
				connected.Add(1)
				start(id, nc)
			}
		})
	}
feed:
	for id := range n {
		select {
		case ids <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(ids)
	wg.Wait()
	return int(connected.Load())
}

// runStorm has every agent register its instances at once and waits until every
// registration is answered and every accepted one has reached every subscriber, or
// the setup timeout.
func (r *regRun) runStorm(ctx context.Context, rep *RegisterReport) {
	start := r.now()
	want := uint64(0)
	for id, a := range r.agents {
		if a == nil {
			continue
		}
		if d := r.cfg.StormSpread; d > 0 {
			sleepCtx(ctx, time.Duration(start+int64(d)*int64(id)/int64(r.cfg.Agents)-r.now()))
		}
		a.cmds <- regCmd{kind: cmdStorm}
		want += uint64(r.cfg.Instances)
	}
	r.waitFor(ctx, r.cfg.SetupTimeout, func() bool {
		if r.stormAnswered.Load() < want {
			return false
		}
		return r.pushesDone(r.now(), phaseStorm, r.cfg.SetupTimeout)
	})
	st := &rep.Storm
	st.Instances = want
	st.Answered, st.Accepted = r.stormAnswered.Load(), r.stormAccepted.Load()
	if at := r.stormAnsweredAt.Load(); at > 0 {
		st.AllAnsweredS = float64(at-start) / 1e9
	}
	if at := r.stormAcceptedAt.Load(); at > 0 {
		st.AcceptedS = float64(at-start) / 1e9
		if st.AcceptedS > 0 {
			st.AcceptRate = float64(st.Accepted) / st.AcceptedS
		}
	}
	var last int64
	complete := st.Accepted == want
	for g := range r.inst {
		in := &r.inst[g]
		if in.phase != phaseStorm || in.newAt.Load() == 0 || in.status.Load() != int32(larspb.LeaseStatus_LEASE_OK)+1 {
			continue
		}
		if int(in.up.Load()) < r.subscribersReady {
			complete = false
		}
		last = max(last, in.upLast.Load())
	}
	if last > 0 {
		st.AllPushedS = float64(last-start) / 1e9
	}
	st.Complete = complete
}

// pushesDone reports whether nothing more is expected of the instances of phase (both
// phases when phase is above phaseSteady): each accepted registration reached every
// subscriber, and each ended one left them, or its wait passed.
func (r *regRun) pushesDone(now int64, phase uint8, wait time.Duration) bool {
	want := int32(r.subscribersReady)
	for g := range r.inst {
		in := &r.inst[g]
		newAt := in.newAt.Load()
		if newAt == 0 || (phase <= phaseSteady && in.phase != phase) {
			continue
		}
		st := in.status.Load()
		if st == 0 && now-newAt < int64(wait) {
			return false
		}
		if st == int32(larspb.LeaseStatus_LEASE_OK)+1 && in.up.Load() < want && now-newAt < int64(wait) {
			return false
		}
		switch in.end.Load() {
		case endDropped, endExpired:
			if in.down.Load() < want && now-in.endAt.Load() < int64(wait) {
				return false
			}
		}
	}
	return true
}

// drain waits, renewals going on, until every registration, drop and expiry of the
// steady phase has reached every subscriber or timed out.
func (r *regRun) drain(ctx context.Context) {
	for ctx.Err() == nil {
		if r.pushesDone(r.now(), phaseSteady+1, r.cfg.PushTimeout) {
			return
		}
		sleepCtx(ctx, drainPoll)
	}
}

// cleanup drops every instance still registered and waits for the answers (at most
// the setup timeout: as long as a storm's).
func (r *regRun) cleanup(ctx context.Context) {
	for _, a := range r.agents {
		if a != nil {
			a.cmds <- regCmd{kind: cmdCleanup}
		}
	}
	r.waitFor(context.WithoutCancel(ctx), r.cfg.SetupTimeout, func() bool {
		for _, a := range r.agents {
			if a != nil && !a.closed.Load() && (!a.cleaned.Load() || a.unanswered() > 0) {
				return false
			}
		}
		return true
	})
}

// waitFor polls done until it holds, ctx ends or timeout passes.
func (r *regRun) waitFor(ctx context.Context, timeout time.Duration, done func() bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if done() {
			return
		}
		sleepCtx(ctx, drainPoll)
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
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

package ctlplane

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// settlePoll is how often the end of a report service run looks whether the store
// and the service have caught up.
const settlePoll = 200 * time.Millisecond

// repRun is one report service run's shared state.
type repRun struct {
	cfg       ReporterConfig
	subs      *subscriptions
	epoch     time.Time
	epochUnix int64
	base      uint32 // the first round's succ count
	maxRounds int64  // -1: no bound

	rounds                                     atomic.Int64
	framesSent, resultsSent, bytesSent         atomic.Uint64
	dialErrors, closedByService, skippedRounds atomic.Uint64
}

func (r *repRun) now() int64 { return int64(time.Since(r.epoch)) }

// unixAt returns the Unix time, in seconds, of now (ns since the epoch): the ts of a
// report.
func (r *repRun) unixAt(now int64) uint32 { return uint32(r.epochUnix + now/int64(time.Second)) }

// claimRound takes one round of the budget; false when it is spent.
func (r *repRun) claimRound() bool {
	return r.maxRounds < 0 || r.rounds.Add(1) <= r.maxRounds
}

// RunReporter runs simulated agents sending status reports to a report service at the
// configured rate, then waits (Settle at most) until the store holds every result
// sent and the service has counted every frame and emptied its queue, and reports
// what was sent, accepted, written and dropped. An error means the run could not be
// made: bad configuration, the store unreadable, or no agent could connect.
func RunReporter(ctx context.Context, cfg ReporterConfig) (*ctlreport.ReporterReport, error) {
	r, counter, err := newRepRun(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cfg = r.cfg
	agents := r.connect(ctx)
	defer func() {
		for _, a := range agents {
			a.nc.Close()
		}
	}()
	if len(agents) == 0 && ctx.Err() == nil {
		return nil, fmt.Errorf("no agent could connect to %s (%d connection errors)", cfg.Target, r.dialErrors.Load())
	}
	var sc *scraper
	if cfg.AdminURL != "" {
		sc = newScraper(ctx, cfg.AdminURL, cfg.adminClient)
	}
	r.epoch = time.Now()
	r.epochUnix = r.epoch.Unix()
	rep := &ctlreport.ReporterReport{Schema: ctlreport.ReporterSchemaVersion, Target: cfg.Target, Start: r.epoch, Agents: cfg.Agents,
		KeysPerAgent: cfg.Keys, HostsPerKey: cfg.Hosts, Rows: cfg.Agents * cfg.Keys * cfg.Hosts, TargetRate: cfg.Rate,
		Seconds: []ctlreport.ReporterSecond{}}
	rep.Connections.Connected = len(agents)

	cpuStart, _ := stats.ProcessCPU()
	mon := newRepMonitor(r, sc, counter)
	mon.run()
	senders := r.newSenders(agents)
	r.send(ctx, senders, len(agents))
	sendEnd := r.now()
	rep.Interrupted = ctx.Err() != nil
	caughtUp := r.settle(ctx, counter, sc, sendEnd, rep)
	mon.stop()
	cpuEnd, _ := stats.ProcessCPU()
	rep.LoadgenCPUS = (cpuEnd - cpuStart).Seconds()

	rep.ScheduleS = cfg.Duration.Seconds()
	rep.DurationS = max(float64(sendEnd)/1e9, rep.ScheduleS, 1e-9)
	r.tallySent(rep, senders)
	if counter != nil {
		rep.Store = storeSummary(ctx, counter, caughtUp, rep)
	}
	if sc != nil {
		rep.Service = serviceSummary(sc, ctx, rep.DurationS)
	}
	rep.Seconds = mon.seconds
	rep.Verdict = ctlreport.CheckReporter(rep)
	return rep, nil
}

// newRepRun checks cfg and makes the run's state, and its store's result counter
// when cfg has a store.
func newRepRun(ctx context.Context, cfg ReporterConfig) (*repRun, *resultCounter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	subs, err := cfg.subscriptions()
	if err != nil {
		return nil, nil, err
	}
	r := &repRun{cfg: cfg, subs: subs, base: 1, maxRounds: -1}
	if cfg.Reports > 0 {
		r.maxRounds = int64((cfg.Reports + uint64(cfg.Keys) - 1) / uint64(cfg.Keys))
	}
	var counter *resultCounter
	if cfg.Store != nil {
		if counter, err = newResultCounter(ctx, cfg.Store, cfg.CallerBase, cfg.CallerBase+int32(cfg.Agents)-1); err != nil {
			return nil, nil, err
		}
		r.base = uint32(counter.base)
	}
	return r, counter, nil
}

// newSenders deals the agents to at most cfg.Senders senders, in turn.
func (r *repRun) newSenders(agents []*repAgent) []*repSender {
	n := r.cfg.Senders
	senders := make([]*repSender, 0, n)
	for i := range min(n, max(len(agents), 1)) {
		var share []*repAgent
		for j := i; j < len(agents); j += n {
			share = append(share, agents[j])
		}
		if len(share) > 0 {
			senders = append(senders, newRepSender(r, share))
		}
	}
	return senders
}

// send runs the senders until the run's end: each sends its share of the rounds,
// rate/keys rounds a second in all, spread over the senders in proportion to their
// agents.
func (r *repRun) send(ctx context.Context, senders []*repSender, agents int) {
	end := int64(-1)
	if r.cfg.Duration > 0 {
		end = int64(r.cfg.Duration)
	}
	var wg sync.WaitGroup
	for _, s := range senders {
		share := float64(len(s.agents)) / float64(agents)
		interval := float64(time.Second) * float64(r.cfg.Keys) / (r.cfg.Rate * share)
		wg.Go(func() { s.run(ctx, 0, end, interval) })
	}
	wg.Wait()
}

// storeSummary counts what the store holds once the run has settled.
func storeSummary(ctx context.Context, counter *resultCounter, caughtUp bool, rep *ctlreport.ReporterReport) *ctlreport.ReporterStore {
	rows, results, err := counter.count(context.WithoutCancel(ctx))
	st := &ctlreport.ReporterStore{Rows: rows, Results: results, CaughtUp: caughtUp, CatchUpS: rep.SettleS}
	if err != nil {
		st.Error = err.Error()
	}
	st.ResultRate = float64(results) / (rep.DurationS + rep.SettleS)
	return st
}

// connect opens one connection per agent, in parallel, and returns those that opened.
func (r *repRun) connect(ctx context.Context) []*repAgent {
	agents := make([]*repAgent, r.cfg.Agents)
	ids := make(chan int)
	var wg sync.WaitGroup
	for range min(DefaultDialConcurrency, r.cfg.Agents) {
		wg.Go(func() {
			dial := r.cfg.dialer(r.cfg.DialTimeout)
			for id := range ids {
				nc, err := dial(ctx, "tcp", r.cfg.Target)
				if err != nil {
					r.dialErrors.Add(1)
					continue
				}
				agents[id] = &repAgent{nc: nc, caller: r.cfg.CallerBase + int32(id), slots: r.subs.agents[id]}
			}
		})
	}
feed:
	for id := range r.cfg.Agents {
		select {
		case ids <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(ids)
	wg.Wait()
	open := agents[:0]
	for _, a := range agents {
		if a != nil {
			open = append(open, a)
		}
	}
	return open
}

// settle waits, Settle at most, until the store holds every result sent (with a
// store) and the service has counted every frame sent and emptied its queue (with an
// admin URL); it sets rep.SettleS and reports whether both happened.
func (r *repRun) settle(ctx context.Context, counter *resultCounter, sc *scraper, sendEnd int64, rep *ctlreport.ReporterReport) bool {
	ctx = context.WithoutCancel(ctx) // an interrupted run still reports what reached the store
	deadline := sendEnd + int64(r.cfg.Settle)
	for {
		ok := true
		if counter != nil {
			_, results, err := counter.count(ctx)
			ok = err == nil && results >= r.resultsSent.Load()
		}
		if ok && sc != nil {
			ok = serviceCaughtUp(sc.read(ctx), sc.first, r.framesSent.Load())
		}
		now := r.now()
		rep.SettleS = float64(now-sendEnd) / 1e9
		if ok || now >= deadline {
			return ok
		}
		time.Sleep(settlePoll)
	}
}

// serviceCaughtUp reports whether the service's metrics now show its queue empty and,
// since before (nil: unknown), at least frames frames read: the service counts a frame
// once its results are queued, so an empty queue alone may come just before the count.
func serviceCaughtUp(now, before Metrics, frames uint64) bool {
	if now == nil || now.Sum("lars_reporter_queue_rows") != 0 {
		return false
	}
	return before == nil || counterDelta(before, now, "lars_reporter_frames_total") >= float64(frames)
}

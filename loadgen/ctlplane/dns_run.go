package ctlplane

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/route"
)

// pushShards is how many histograms the agents spread their push latencies over, so
// that thousands of readers do not all add to one set of counters.
const pushShards = 8

// drainPoll is how often the end of a run looks whether every push has come.
const drainPoll = 10 * time.Millisecond

// dnsRun is one route service run's shared state.
type dnsRun struct {
	cfg   DNSConfig
	subs  *subscriptions
	epoch time.Time
	tag   int32
	keys  []keyState // by slot
	// changes[n] is change n; [0] stands for the setup and is never used.
	changes []changeRec
	agents  []*dnsAgent // nil for an agent that could not connect
	readers sync.WaitGroup
	// pushes reads the agents' sockets (epoll, on Linux); nil: a goroutine each.
	pushes *pushReaders

	pushLatency [pushShards]stats.AtomicHistogram
	pullLatency stats.AtomicHistogram

	dialErrors, refused, closedByService atomic.Uint64 // refused: closed before any frame
	pullsAnswered, readyAgents           atomic.Uint64
	duplicates, stale, unexpected        atomic.Uint64
	malformed, early                     atomic.Uint64
	committed                            atomic.Uint64
	stopping                             atomic.Bool
}

// now returns the time since the run's epoch in nanoseconds (monotonic).
func (r *dnsRun) now() int64 { return int64(time.Since(r.epoch)) }

// RunDNS runs simulated agents against a route service: they connect, pull and hold
// their keys; then routes change through cfg.Writer at the configured rate while every
// push is matched to its change and timed from the change's commit. It returns when
// every push has come or timed out, or ctx ends (the report says interrupted). An
// error means the run could not be made: bad configuration, the setup write failed,
// or no agent could connect.
func RunDNS(ctx context.Context, cfg DNSConfig) (*ctlreport.DNSReport, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	subs, err := cfg.subscriptions()
	if err != nil {
		return nil, err
	}
	r := &dnsRun{cfg: cfg, subs: subs, epoch: time.Now(), tag: newTag(),
		keys: make([]keyState, len(subs.keys)), changes: make([]changeRec, cfg.changeCount()+1),
		agents: make([]*dnsAgent, cfg.Agents)}
	rep := &ctlreport.DNSReport{Schema: ctlreport.DNSSchemaVersion, Target: cfg.Target, Start: r.epoch, Agents: cfg.Agents,
		KeysPerAgent: cfg.Keys, KeySpace: int(subs.space), Spread: spreadName(cfg.Spread), HostsPerKey: cfg.HostsPerKey,
		DistinctKeys: len(subs.keys), TargetChangeRate: cfg.ChangesPerSec, Seconds: []ctlreport.DNSSecond{}}

	// The setup: every held key gets change 0's routes, then the agents connect and pull.
	routes := make(map[route.Key][]route.Host, len(subs.keys))
	for _, k := range subs.keys {
		routes[k] = appendChangeHosts(nil, 0, r.tag, cfg.HostsPerKey)
	}
	if _, err := cfg.Writer.ReplaceKeys(ctx, routes); err != nil {
		return nil, fmt.Errorf("cannot write the routes of the run's keys: %w", err)
	}
	r.pushes = newPushReaders(r)
	defer r.stop()
	connected := r.connect(ctx)
	if connected == 0 && ctx.Err() == nil {
		return nil, fmt.Errorf("no agent could connect to %s (%d connection errors)", cfg.Target, r.dialErrors.Load())
	}
	r.waitReady(ctx, connected)
	rep.SetupS = float64(r.now()) / 1e9
	rep.Connections.NotReady = max(connected-int(r.gone()+r.readyAgents.Load()), 0)
	rep.Subscriptions, rep.MaxSubscribers = r.held()

	var scraper *scraper
	if cfg.AdminURL != "" {
		scraper = newScraper(ctx, cfg.AdminURL, cfg.adminClient)
	}
	cpuStart, _ := stats.ProcessCPU()
	measureStart := r.now()
	mon := newDNSMonitor(r, measureStart, scraper)
	mon.run()
	maker := newChangeMaker(r)
	made := maker.run(ctx, measureStart)
	changeEnd := r.now()
	r.drain(ctx, made)
	mon.stop()
	rep.DrainS = float64(r.now()-changeEnd) / 1e9
	cpuEnd, _ := stats.ProcessCPU()
	rep.LoadgenCPUS = (cpuEnd - cpuStart).Seconds()
	rep.Interrupted = ctx.Err() != nil
	if scraper != nil {
		rep.Service = scraper.figures(ctx, "lars_dns_", "process_cpu_seconds_total", "process_resident_memory_bytes")
	}
	r.stop()
	r.tally(rep, maker, made, connected, measureStart, changeEnd)
	rep.Seconds = mon.seconds
	return rep, nil
}

// connect opens the agents' connections, DialConcurrency at a time, and writes their
// pulls; it returns how many connected.
func (r *dnsRun) connect(ctx context.Context) int {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.SetupTimeout)
	defer cancel()
	ids := make(chan int)
	var connected atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.DialConcurrency, r.cfg.Agents) {
		wg.Go(func() {
			dial := r.cfg.dialer(r.cfg.DialTimeout)
			var buf []byte
			for id := range ids {
				nc, err := dial(ctx, "tcp", r.cfg.Target)
				if err != nil {
					r.dialErrors.Add(1)
					continue
				}
				connected.Add(1)
				buf = r.startAgent(id, nc, buf[:0])
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
	return int(connected.Load())
}

// startAgent subscribes agent id (connected on nc) to its keys, writes its pulls and
// starts its reader.
func (r *dnsRun) startAgent(id int, nc net.Conn, buf []byte) []byte {
	a := newDNSAgent(r, r.subs.agents[id], &r.pushLatency[id%pushShards])
	a.nc = nc
	a.sr = codec.NewStreamReader(nc, agentReadBuffer)
	for _, slot := range a.slots {
		ks := &r.keys[slot]
		ks.mu.Lock()
		ks.open++
		ks.mu.Unlock()
	}
	r.agents[id] = a
	buf = a.appendPulls(buf)
	a.pullAt = r.now()
	r.readers.Add(1)
	// A failed write leaves the connection broken: the reader then sees it end, and
	// counts and unsubscribes the agent.
	nc.Write(buf)
	if !r.pushes.add(id, a) {
		go a.readLoop()
	}
	return buf
}

// waitReady waits until every connected agent still open has this run's routes for
// all its keys, or the setup timeout.
func (r *dnsRun) waitReady(ctx context.Context, connected int) {
	deadline := time.Now().Add(r.cfg.SetupTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if r.readyAgents.Load()+r.gone() >= uint64(connected) {
			return
		}
		time.Sleep(drainPoll)
	}
}

// gone returns how many connected agents the service refused or closed.
func (r *dnsRun) gone() uint64 {
	return r.refused.Load() + r.closedByService.Load()
}

// held returns the (connection, key) pairs held now and the most held of one key.
func (r *dnsRun) held() (pairs, most int) {
	for i := range r.keys {
		ks := &r.keys[i]
		ks.mu.Lock()
		n := int(ks.open)
		ks.mu.Unlock()
		pairs += n
		most = max(most, n)
	}
	return pairs, most
}

// drain waits until each of the made changes is done (see changeRec.done).
func (r *dnsRun) drain(ctx context.Context, made int) {
	for ctx.Err() == nil {
		now := r.now()
		done := true
		for n := 1; n <= made && done; n++ {
			done = r.changes[n].done(now, r.cfg.PushTimeout)
		}
		if done {
			return
		}
		time.Sleep(drainPoll)
	}
}

// stop closes every connection and waits for the readers; once only.
func (r *dnsRun) stop() {
	if r.stopping.Swap(true) {
		return
	}
	r.pushes.close()
	for _, a := range r.agents {
		if a != nil {
			a.nc.Close()
		}
	}
	r.readers.Wait()
}

package loadgen

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
)

// runner is one run's shared state.
type runner struct {
	cfg         Config
	start       time.Time
	measureFrom int64 // ns since start: end of the warm-up
	lanes       []*lane
	byPort      [][]*lane

	sc       counters        // the sender's
	sendLag  stats.Histogram // the sender's: actual minus intended send time of each batch
	inflight atomic.Int64
	doorbell chan struct{} // an answer or a timeout freed a place (closed loop)

	hosts     []atomic.Uint64 // last host seen per key index, for reports in the mix
	keys      *keySpace       // for key indexes only (no draws)
	mix       mixTable        // request types by weight, for whoever sends
	failHosts []uint64

	endSend atomic.Int64 // intended send time of the last request

	// When the lanes drive the closed loop (see lanedrive.go):
	driven       bool
	drivers      sync.WaitGroup // lanes still sending
	ctxDone      atomic.Bool    // the run was interrupted: lanes stop sending
	measuredReqs atomic.Uint64  // requests of the measured phase sent, for Config.Requests

	clk     clock // Config.clock: nil but in tests
	clkBase int64 // clk's time at the run's start
}

// Run sends the configured load, waits for the outstanding answers, and returns the
// report. Cancelling ctx (for example on SIGINT) ends the run early: the report then
// covers what was sent so far and says Interrupted. Errors are about the
// configuration or the sockets.
func Run(ctx context.Context, cfg Config) (*report.Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, doorbell: make(chan struct{}, 1), failHosts: hostSet(cfg.FailHosts)}
	r.keys = newKeySpace(&r.cfg, rand.New(rand.NewPCG(1, 1)))
	r.mix = newMixTable(cfg.Mix)
	if cfg.Mix[KindReport] > 0 {
		r.hosts = make([]atomic.Uint64, r.keys.n)
	}
	ringSize := ringSizeFor(&r.cfg)
	r.byPort = make([][]*lane, len(cfg.Ports))
	for i := range cfg.Sockets {
		l, err := newLane(r, i, i%len(cfg.Ports), ringSize)
		if err != nil {
			r.closeLanes()
			return nil, err
		}
		r.lanes = append(r.lanes, l)
		r.byPort[l.port] = append(r.byPort[l.port], l)
	}
	r.measureFrom = int64(cfg.Warmup)
	s, err := newSender(r)
	if err != nil {
		r.closeLanes()
		return nil, err
	}

	if shares := driveShares(r); shares != nil {
		r.driven = true
		for i, l := range r.lanes {
			l.startDrive(shares[i], s.endAt)
			if l.drive.sending {
				r.drivers.Add(1)
			}
		}
	}

	var wg sync.WaitGroup
	r.start = time.Now()
	if r.clk = cfg.clock; r.clk != nil {
		r.clk.begin(r)
		r.clkBase = r.clk.now()
	}
	for _, l := range r.lanes {
		wg.Go(l.receive)
	}
	mon := newMonitor(r)
	monDone := make(chan struct{})
	go func() {
		defer close(monDone)
		mon.run()
	}()
	s.run(ctx)
	r.endSend.Store(s.lastSent)
	end := r.now()
	r.closeLanes()
	wg.Wait()
	mon.stop()
	<-monDone
	return r.report(end, ctx.Err() != nil, mon), nil
}

// ringSizeFor sizes each socket's rings for twice the requests that may be
// outstanding: the closed loop's concurrency, or an open loop's rate times the timeout.
func ringSizeFor(c *Config) int {
	n := 2 * c.Concurrency
	if c.openLoop() {
		n = int(c.Rate*c.Timeout.Seconds()*2) + c.Batch
	}
	n = max(n, 1024)
	return min(1<<bits.Len(uint(n-1)), maxRingSlots)
}

func (r *runner) closeLanes() {
	for _, l := range r.lanes {
		l.close()
	}
}

// now returns the nanoseconds since the run's start, on the monotonic clock (or the
// injected clock of a test).
func (r *runner) now() int64 {
	if r.clk != nil {
		return r.clk.now() - r.clkBase
	}
	return int64(time.Since(r.start))
}

// phase returns the phase of an event at time t.
func (r *runner) phase(t int64) int {
	if t >= r.measureFrom {
		return phaseMeasured
	}
	return phaseWarmup
}

// completed records that n requests finished (answered or timed out), for the
// sender's closed loop.
func (r *runner) completed(n int) {
	if r.cfg.openLoop() || r.driven {
		return
	}
	r.inflight.Add(-int64(n))
	select {
	case r.doorbell <- struct{}{}:
	default:
	}
}

// takeRequest counts a request a lane is about to send at time now toward
// Config.Requests, and reports false, counting nothing, when the count is reached.
func (r *runner) takeRequest(now int64) bool {
	if r.cfg.Requests == 0 || r.phase(now) != phaseMeasured {
		return true
	}
	if r.measuredReqs.Add(1) > r.cfg.Requests {
		r.measuredReqs.Add(^uint64(0))
		return false
	}
	return true
}

// giveBackRequest undoes takeRequest for a request that was not sent after all.
func (r *runner) giveBackRequest(now int64) {
	if r.cfg.Requests > 0 && r.phase(now) == phaseMeasured {
		r.measuredReqs.Add(^uint64(0))
	}
}

// requestsDone reports whether the lanes have sent Config.Requests measured requests.
func (r *runner) requestsDone() bool {
	return r.cfg.Requests > 0 && r.measuredReqs.Load() >= r.cfg.Requests
}

func (r *runner) pendingTotal() int64 {
	var n int64
	for _, l := range r.lanes {
		for _, rg := range l.rings {
			n += rg.pending.Load()
		}
	}
	return n
}

// noteHost remembers the host a get_host answer chose for a key, for the reports of
// the mix.
func (r *runner) noteHost(modid, cmdid, ip, port int32) {
	if r.hosts == nil {
		return
	}
	if i, ok := r.keys.index(modid, cmdid); ok {
		r.hosts[i].Store(packHost(ip, port))
	}
}

// lastHost returns the last host chosen for key index i, or 0.0.0.0:0 if none yet
// (the agent ignores a report for a host it does not know).
func (r *runner) lastHost(i uint64) (ip, port int32) {
	if r.hosts == nil {
		return 0, 0
	}
	h := r.hosts[i].Load()
	return int32(h >> 32), int32(uint32(h))
}

// callResult decides how the call to host ip:port a report is about went: its
// retcode and, under a host model, its modelled latency in microseconds.
func (r *runner) callResult(ip, port int32, rng *rand.Rand) (retcode int32, latencyUs uint32) {
	if r.cfg.Hosts.Empty() {
		if r.failing(ip, port, rng) {
			return 1, 0
		}
		return 0, 0
	}
	lat, failed := r.cfg.Hosts.Call(ip, port, time.Duration(r.now()), rng)
	latencyUs = uint32(min(max(lat.Microseconds(), 0), math.MaxUint32))
	if failed {
		return 1, latencyUs
	}
	return 0, latencyUs
}

// failing decides whether a report on host ip:port says the call failed.
func (r *runner) failing(ip, port int32, rng *rand.Rand) bool {
	if len(r.failHosts) > 0 {
		h := packHost(ip, port)
		for _, f := range r.failHosts {
			if f == h {
				return true
			}
		}
		return false
	}
	return r.cfg.ReportFail > 0 && rng.Float64() < r.cfg.ReportFail
}

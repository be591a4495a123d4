package loadgen

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/larsgo/lars/route"
)

// sender is the one goroutine that sends requests: it draws each request's type and
// key, queues it on a socket of the key's port and flushes the sockets' queues with
// sendmmsg. It also times out requests that got no answer.
type sender struct {
	r     *runner
	keys  *keySpace
	rng   *rand.Rand
	enc   *encoder
	rr    []int // next socket of each port, round robin
	pacer *pacer

	endAt        int64  // ns: no request is sent at or after this time
	measuredSent uint64 // requests of the measured phase sent, for Config.Requests
	lastSent     int64  // intended time of the last request sent
	lastKind     Kind   // type of the last request sent
}

// maxPerRound bounds the requests queued between two sweeps and flushes.
const maxPerRound = 1024

func newSender(r *runner) (*sender, error) {
	p, err := newPacer()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(r.cfg.Seed, 0))
	s := &sender{r: r, rng: rng, keys: newKeySpace(&r.cfg, rng), enc: newEncoder(),
		rr: make([]int, len(r.cfg.Ports)), pacer: p, endAt: math.MaxInt64}
	if r.cfg.Duration > 0 {
		s.endAt = r.measureFrom + int64(r.cfg.Duration)
	}
	return s, nil
}

func (s *sender) done(at int64) bool {
	cfg := &s.r.cfg
	return at >= s.endAt || (cfg.Requests > 0 && s.measuredSent >= cfg.Requests)
}

// run sends until the run ends or ctx is done, then waits for the outstanding
// requests to be answered or to time out.
func (s *sender) run(ctx context.Context) {
	defer s.pacer.close()
	switch {
	case s.r.cfg.openLoop():
		s.openLoop(ctx)
	case s.r.driven:
		s.awaitDrivers(ctx)
	default:
		s.closedLoop(ctx)
	}
	s.flushAll()
	s.drain(ctx)
}

// openLoop sends request i at its intended time start + i/Rate, whatever the
// answers; a request sent late keeps its intended time, so the lateness counts in its
// latency.
func (s *sender) openLoop(ctx context.Context) {
	interval := 1e9 / s.r.cfg.Rate
	var i uint64
	intended := func(i uint64) int64 { return int64(float64(i) * interval) }
	for ctx.Err() == nil {
		now := s.r.now()
		s.sweep(now)
		at := intended(i)
		if s.done(at) {
			return
		}
		if at > now {
			s.flushAll()
			s.sleep(time.Duration(min(at-now, int64(5*time.Millisecond))))
			continue
		}
		for k := 0; k < maxPerRound && at <= now && !s.done(at); k++ {
			if !s.emit(at) {
				s.flushAll()
				s.sleep(100 * time.Microsecond) // a ring is full: wait for timeouts
				break
			}
			i++
			at = intended(i)
		}
		s.flushAll()
	}
}

// closedLoop keeps Concurrency requests in flight: it sends one whenever an answer
// or a timeout frees a place.
func (s *sender) closedLoop(ctx context.Context) {
	r := s.r
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	sweepEvery := min(r.cfg.Timeout/10, 10*time.Millisecond)
	for ctx.Err() == nil {
		now := r.now()
		s.sweep(now)
		if s.done(now) {
			return
		}
		free := int64(r.cfg.Concurrency) - r.inflight.Load()
		full := false // a ring is full: only timeouts free it
		for k := 0; free > 0 && k < maxPerRound && !s.done(now); k++ {
			if !s.emit(now) {
				full = true
				break
			}
			if s.lastKind != KindReport {
				free--
			}
		}
		s.flushAll()
		if r.clk != nil && (full || r.inflight.Load() >= int64(r.cfg.Concurrency)) {
			r.clk.sleep(sweepEvery) // ends at the clock's next event, or after sweepEvery
			continue
		}
		if r.inflight.Load() >= int64(r.cfg.Concurrency) {
			wait.Reset(sweepEvery)
			select {
			case <-r.doorbell:
			case <-wait.C:
			case <-ctx.Done():
			}
		}
	}
}

// awaitDrivers waits for the lanes that drive the closed loop to stop sending, at the
// run's end or when ctx is done.
func (s *sender) awaitDrivers(ctx context.Context) {
	r := s.r
	done := make(chan struct{})
	go func() {
		r.drivers.Wait()
		close(done)
	}()
	if r.clk != nil {
		s.clockDrivers(ctx, done)
	} else {
		select {
		case <-done:
		case <-ctx.Done():
			r.ctxDone.Store(true)
			<-done
		}
	}
	for _, l := range r.lanes {
		s.lastSent = max(s.lastSent, l.drive.lastSent)
	}
}

// clockDrivers is awaitDrivers on an injected clock: the lanes need time to pass to
// get their answers and timeouts, and only the sender's sleep moves it.
func (s *sender) clockDrivers(ctx context.Context, done <-chan struct{}) {
	r := s.r
	sweepEvery := min(r.cfg.Timeout/10, 10*time.Millisecond)
	for {
		select {
		case <-done:
			return
		default:
		}
		if ctx.Err() != nil {
			r.ctxDone.Store(true)
		}
		r.clk.sleep(sweepEvery)
	}
}

// drain waits until no request is outstanding, or until every one is past its
// timeout and has been counted so. Interrupted runs (ctx done) drain too, so that
// the report's figures add up.
func (s *sender) drain(ctx context.Context) {
	r := s.r
	limit := s.lastSent + int64(r.cfg.Timeout) + int64(time.Millisecond)
	for {
		now := r.now()
		s.sweep(now)
		if r.pendingTotal() == 0 {
			return
		}
		if now > limit {
			s.sweep(math.MaxInt64 / 2) // everything left is past its timeout
			return
		}
		s.sleep(time.Millisecond)
	}
}

// sweep times out the requests sent more than Timeout before now.
func (s *sender) sweep(now int64) {
	r := s.r
	deadline := now - int64(r.cfg.Timeout)
	for _, l := range r.lanes {
		for k, rg := range l.rings {
			n := rg.expire(deadline)
			for ph, c := range n {
				if c > 0 {
					r.sc.add(ph, fTimeouts+k, uint64(c))
					r.completed(c)
				}
			}
		}
	}
}

func (s *sender) flushAll() {
	for _, l := range s.r.lanes {
		l.flush()
	}
}

// emit queues one request intended for time at. It returns false, sending nothing,
// when the chosen socket has no free slot for it.
func (s *sender) emit(at int64) bool {
	r := s.r
	kind := r.mix.draw(s.rng)
	ki := s.keys.draw()
	modid, cmdid := s.keys.key(ki)
	port := s.keys.port(modid, cmdid)
	lanes := r.byPort[port]
	l := lanes[s.rr[port]]
	s.rr[port] = (s.rr[port] + 1) % len(lanes)
	if !l.queue(kind, ki, at, s.enc, s.rng, &r.sc) {
		return false
	}
	if kind != KindReport && !r.cfg.openLoop() {
		r.inflight.Add(1)
	}
	s.lastKind = kind
	s.lastSent = at
	if r.phase(at) == phaseMeasured {
		s.measuredSent++
	}
	return true
}

// queue encodes a request of the given kind for key index ki, intended for time at,
// into the lane's send batch, flushing it when full, and counts it in c. It returns
// false, queueing nothing, when the request's ring has no free slot. Whoever sends on
// the lane calls it: the sender, or the lane itself when it drives a closed loop.
func (l *lane) queue(kind Kind, ki uint64, at int64, enc *encoder, rng *rand.Rand, c *counters) bool {
	r := l.r
	modid, cmdid := r.keys.key(ki)
	phase := r.phase(at)
	m := &l.out.Msgs[l.nout]
	switch kind {
	case KindGetHost:
		seq, ok := l.rings[KindGetHost].issue(route.PackKey(modid, cmdid), at, phase)
		if !ok {
			c.inc(phase, fRingFull)
			return false
		}
		m.N = len(enc.getHost(m.Buf[:0], seq, modid, cmdid))
	case KindGetRoute:
		if _, ok := l.rings[KindGetRoute].issue(route.PackKey(modid, cmdid), at, phase); !ok {
			c.inc(phase, fRingFull)
			return false
		}
		m.N = len(enc.getRoute(m.Buf[:0], modid, cmdid))
	default:
		ip, port := r.lastHost(ki)
		rc, us := r.callResult(ip, port, rng)
		m.N = len(enc.reportReq(m.Buf[:0], modid, cmdid, ip, port, rc, us))
	}
	c.inc(phase, fSent+int(kind))
	if l.nout == 0 {
		l.outFirst = at
	}
	l.nout++
	if l.nout == l.out.Len() {
		l.flush()
	}
	return true
}

// mixTable holds the mix's cumulative weights, for drawing request types.
type mixTable struct {
	cum   [numKinds]int
	total int
}

func newMixTable(m Mix) mixTable {
	var t mixTable
	for k, w := range m {
		t.total += w
		t.cum[k] = t.total
	}
	return t
}

// draw draws a request type by the mix's weights.
func (t *mixTable) draw(rng *rand.Rand) Kind {
	if t.total == t.cum[KindGetHost] {
		return KindGetHost
	}
	x := rng.IntN(t.total)
	for k, c := range t.cum {
		if x < c {
			return Kind(k)
		}
	}
	return KindGetHost
}

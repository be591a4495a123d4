package ctlplane

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/route"
)

// changeRec is one route change: written by the change maker, counted by the agents
// that receive it. Index n of dnsRun.changes is change n.
type changeRec struct {
	slotPlus1  atomic.Int32 // the changed key's slot + 1; 0 until the change is made
	expected   atomic.Int32 // open connections subscribed to the key when it was made
	received   atomic.Int32 // agents that got it
	lostClosed atomic.Int32 // agents counted in expected whose connection the service closed before it came
	commitAt   atomic.Int64 // ns since the epoch when its write returned; 0 before
	firstAt    atomic.Int64 // arrival at the first agent, ns; 0 none
	lastAt     atomic.Int64 // arrival at the latest agent so far, ns
	failed     atomic.Bool  // the write failed: the change is left out of every count
	writeNs    int64        // how long the write took; owned by the change maker
}

// done reports whether nothing more is expected of the change at now: every expected
// agent got it or lost its connection, its write failed, or its push timeout passed.
func (c *changeRec) done(now int64, timeout time.Duration) bool {
	if c.failed.Load() {
		return true
	}
	if c.received.Load()+c.lostClosed.Load() >= c.expected.Load() {
		return true
	}
	commit := c.commitAt.Load()
	return commit != 0 && now-commit > int64(timeout)
}

// keyState is one held key's subscribers and newest change.
type keyState struct {
	mu      sync.Mutex // guards open and current, so an agent leaving and a change being made are ordered
	open    int32      // open connections subscribed to the key
	current int32      // the newest change made to the key, 0 none
}

// unsubscribe takes a closed agent off its keys; a change it was counted for and had
// not received is lost with the connection.
func (r *dnsRun) unsubscribe(a *dnsAgent) {
	for pos, slot := range a.slots {
		ks := &r.keys[slot]
		ks.mu.Lock()
		ks.open--
		if c := ks.current; c > 0 && a.seen[pos] < c {
			r.changes[c].lostClosed.Add(1)
		}
		ks.mu.Unlock()
	}
}

// changeMaker writes the run's changes at the configured rate, one at a time, from
// one goroutine: change n goes to the next held key in a shuffled round robin whose
// previous change is done (a key changed twice before its first push went out would
// have its first change superseded, not measured).
type changeMaker struct {
	r        *dnsRun
	rng      *rand.Rand // draws each change's moment within its slot
	order    []int32    // the held keys' slots, shuffled
	next     int        // position in order of the next key to try
	hosts    []route.Host
	deferred int   // waits for a key whose previous change was not done
	firstErr error // the first failed write
}

func newChangeMaker(r *dnsRun) *changeMaker {
	m := &changeMaker{r: r, order: make([]int32, len(r.keys)), rng: rand.New(rand.NewPCG(r.cfg.Seed, 0x6368616e6765))}
	for i := range m.order {
		m.order[i] = int32(i)
	}
	m.rng.Shuffle(len(m.order), func(i, j int) { m.order[i], m.order[j] = m.order[j], m.order[i] })
	return m
}

// run makes changes 1.. from start (ns since the epoch), change n at a moment drawn
// uniformly within its slot [start + (n-1)/rate, start + n/rate), until the configured
// count or duration; it returns how many it made. The draw keeps the rate exact while
// the changes fall at every phase of the service's poll period (at fixed intervals,
// 1 change a second against a 1 s poll would measure one phase only). A change late on
// its schedule (a slow write, a busy key) is made at once.
func (m *changeMaker) run(ctx context.Context, start int64) int {
	r := m.r
	interval := float64(time.Second) / r.cfg.ChangesPerSec
	end := int64(-1)
	if r.cfg.Duration > 0 {
		end = start + int64(r.cfg.Duration)
	}
	made := 0
	for n := 1; n < len(r.changes); n++ {
		at := start + int64((float64(n-1)+m.rng.Float64())*interval)
		if end >= 0 && at >= end {
			break
		}
		if !sleepUntil(ctx, r, at) {
			break
		}
		slot, ok := m.pickKey(ctx, end)
		if !ok {
			break
		}
		m.change(ctx, int32(n), slot)
		made = n
	}
	return made
}

// pickKey returns the next key whose previous change is done, waiting for one while
// none is (counted as deferred); false when ctx or the run's end comes first.
func (m *changeMaker) pickKey(ctx context.Context, end int64) (int32, bool) {
	r := m.r
	waited := false
	for {
		now := r.now()
		for range m.order {
			slot := m.order[m.next]
			m.next = (m.next + 1) % len(m.order)
			c := r.keys[slot].current // written only by this goroutine
			if c == 0 || r.changes[c].done(now, r.cfg.PushTimeout) {
				return slot, true
			}
		}
		if !waited {
			m.deferred++
			waited = true
		}
		if end >= 0 && now >= end {
			return 0, false
		}
		if !sleepUntil(ctx, r, now+int64(time.Millisecond)) {
			return 0, false
		}
	}
}

// change makes change n to the key of slot: it is registered with the key's open
// subscribers as expected, then written; its commit time is when the write returned.
func (m *changeMaker) change(ctx context.Context, n int32, slot int32) {
	r := m.r
	rec := &r.changes[n]
	rec.slotPlus1.Store(slot + 1)
	ks := &r.keys[slot]
	ks.mu.Lock()
	prev := ks.current
	ks.current = n
	rec.expected.Store(ks.open)
	ks.mu.Unlock()

	m.hosts = appendChangeHosts(m.hosts[:0], n, r.tag, r.cfg.HostsPerKey)
	t0 := r.now()
	_, err := r.cfg.Writer.SetHosts(ctx, r.subs.keys[slot], m.hosts)
	t1 := r.now()
	rec.writeNs = t1 - t0
	if err != nil {
		if m.firstErr == nil {
			m.firstErr = err
		}
		rec.failed.Store(true)
		ks.mu.Lock()
		if ks.current == n {
			ks.current = prev
		}
		ks.mu.Unlock()
		return
	}
	rec.commitAt.Store(max(t1, 1))
	r.committed.Add(1)
}

// sleepUntil waits until at (ns since the run's epoch); false if ctx ended first.
func sleepUntil(ctx context.Context, r *dnsRun, at int64) bool {
	d := time.Duration(at - r.now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// storeMin lowers v to x when v is 0 (unset) or above x.
func storeMin(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if cur != 0 && cur <= x {
			return
		}
		if v.CompareAndSwap(cur, x) {
			return
		}
	}
}

// storeMax raises v to x when below.
func storeMax(v *atomic.Int64, x int64) {
	for {
		cur := v.Load()
		if cur >= x {
			return
		}
		if v.CompareAndSwap(cur, x) {
			return
		}
	}
}

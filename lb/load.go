package lb

import (
	"math"
	"sync/atomic"
)

// hostLoad is what the p2c and ewma picks know of a host: its calls in flight and its
// peak-EWMA latency. Pickers read and move it without a lock; the EWMA is written only
// by reports, under the key's mu.
//
// Calls in flight are counted in two epochs of Policies.InflightTimeout each (table
// time / InflightTimeout): a get_host adds to the current epoch, a report takes one
// back from the current epoch, else from the previous one. When the epoch moves on,
// the previous epoch's calls are forgotten: a call never reported stops counting after
// at least one and less than two InflightTimeouts, so callers that never report
// cannot pin a host.
type hostLoad struct {
	inflight atomic.Uint64 // epoch<<32 | previous epoch's calls<<16 | current epoch's calls
	ewma     atomic.Uint64 // math.Float64bits of the peak-EWMA latency in ns; 0: none yet
	ewmaAt   atomic.Int64  // table time of the last EWMA update
}

// inflightMax saturates each epoch's count of calls in flight.
const inflightMax = 1<<16 - 1

// rollInflight returns the in-flight word w seen from epoch: its counts moved on by
// the epochs passed since w's.
func rollInflight(w uint64, epoch uint32) uint64 {
	switch epoch - uint32(w>>32) {
	case 0:
		return w
	case 1: // the current epoch becomes the previous one
		return uint64(epoch)<<32 | (w&inflightMax)<<16
	}
	return uint64(epoch) << 32
}

// outstanding returns the host's calls in flight at epoch.
func (l *hostLoad) outstanding(epoch uint32) uint32 {
	w := rollInflight(l.inflight.Load(), epoch)
	return uint32(w&inflightMax) + uint32(w>>16&inflightMax)
}

// begin counts one more call in flight at epoch. Lock-free.
func (l *hostLoad) begin(epoch uint32) {
	for {
		old := l.inflight.Load()
		w := rollInflight(old, epoch)
		if w&inflightMax < inflightMax {
			w++
		}
		if l.inflight.CompareAndSwap(old, w) {
			return
		}
	}
}

// end counts one call in flight less at epoch, if any is counted. Lock-free.
func (l *hostLoad) end(epoch uint32) {
	for {
		old := l.inflight.Load()
		w := rollInflight(old, epoch)
		switch {
		case w&inflightMax > 0:
			w--
		case w>>16&inflightMax > 0:
			w -= 1 << 16
		default:
			if w == old {
				return
			}
		}
		if l.inflight.CompareAndSwap(old, w) {
			return
		}
	}
}

// latency returns the host's peak-EWMA latency in ns, decayed to table time now with
// time constant tau (ns).
func (l *hostLoad) latency(now int64, tau float64) float64 {
	e := math.Float64frombits(l.ewma.Load())
	if e == 0 {
		return 0
	}
	if dt := now - l.ewmaAt.Load(); dt > 0 {
		e *= math.Exp(-float64(dt) / tau)
	}
	return e
}

// observe folds a call latency (ns, > 0) measured at now into the peak EWMA: a
// latency above the current value replaces it at once (peak), a lower one is averaged
// in with weight 1 - exp(-elapsed/tau). The caller holds the key's mu.
func (l *hostLoad) observe(rtt float64, now int64, tau float64) {
	e := math.Float64frombits(l.ewma.Load())
	if e != 0 && rtt < e {
		w := 1.0
		if dt := now - l.ewmaAt.Load(); dt > 0 {
			w = math.Exp(-float64(dt) / tau)
		}
		rtt = e*w + rtt*(1-w)
	}
	l.ewma.Store(math.Float64bits(rtt))
	l.ewmaAt.Store(now)
}

// cost returns the host's cost under pick at table time now: calls in flight for p2c;
// decayed latency x (in flight + 1) for ewma, where a host without a latency yet costs
// nothing while idle and more than any measured host once it has calls in flight (so
// that a new host is tried, not flooded).
func (l *hostLoad) cost(p *policyParams, epoch uint32, now int64) float64 {
	n := float64(l.outstanding(epoch))
	if p.pick != PolicyEWMA {
		return n
	}
	e := l.latency(now, p.ewmaTau)
	if e == 0 {
		if n == 0 {
			return 0
		}
		return math.MaxFloat64 / 2 * (n / inflightMax)
	}
	return e * (n + 1)
}

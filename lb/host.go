package lb

import (
	"math"
	"math/rand/v2"
)

// noRamp is the rampFrom of a host that is not in slow start: far enough in the past
// that any window has passed.
const noRamp = math.MinInt64 / 4

// hostState is one host of one key with its balancing counters. Host never changes
// after the hostState is published; load is moved by pickers without a lock; every
// other field is guarded by the owning keyState's mu.
type hostState struct {
	vsucc, verr           uint32
	rsucc, rerr           uint32
	continSucc, continErr uint32
	overloaded            bool
	since                 int64 // table time (ns) the host entered its state
	rampFrom              int64 // table time its slow start began (joined, or recovered); noRamp: none

	// x is the host's state under the policies that keep one (p2c, ewma, growing
	// ejection), nil under none of them: Lars's hosts stay small.
	x *hostExtra
}

// hostExtra is a host's state under the policies, kept across state changes.
type hostExtra struct {
	load hostLoad // calls in flight and latency, for the p2c and ewma picks; lock-free

	// Growing ejection (Policies.OverloadBackoff); guarded by the key's mu.
	ejections   uint32 // n: the next overload lasts overload_timeout x factor^n
	overloadFor int64  // length of the current overload in ns; 0: overload_timeout
	recovered   int64  // table time the host last went from overloaded to idle
}

// overloadTimeout returns how long h's current overload lasts.
func (h *hostState) overloadTimeout(s *params) int64 {
	if h.x != nil && h.x.overloadFor > 0 {
		return h.x.overloadFor
	}
	return s.overloadTimeout
}

// resetCounts zeroes the virtual, real and consecutive counters.
func (h *hostState) resetCounts() {
	h.vsucc, h.verr, h.rsucc, h.rerr, h.continSucc, h.continErr = 0, 0, 0, 0, 0, 0
}

// setIdle makes h idle with fresh counters, its window starting at now.
func (h *hostState) setIdle(s *params, now int64) {
	if h.overloaded {
		if h.x != nil {
			h.x.recovered = now
		}
		h.rampFrom = now
	}
	h.resetCounts()
	h.vsucc = s.initSucc
	h.overloaded = false
	h.since = now
}

// setOverloaded makes h overloaded with init_err_cnt virtual failures, since now, for
// overload_timeout (longer under Policies.OverloadBackoff).
func (h *hostState) setOverloaded(s *params, now int64) {
	if x := h.x; x != nil && s.pol.backoff != 0 {
		x.overloadFor, x.ejections = s.overloadFor(x.ejections, x.recovered, now, rand.Float64())
	}
	h.resetCounts()
	h.verr = s.initErr
	h.overloaded = true
	h.since = now
}

// report applies one call result to h following the report rules of LB-SEMANTICS.md
// and reports whether h changed state (the caller then publishes new host sets).
func (h *hostState) report(s *params, succ bool, now int64) bool {
	// Rule 1: count.
	if succ {
		h.vsucc++
		h.rsucc++
		h.continSucc++
		h.continErr = 0
	} else {
		h.verr++
		h.rerr++
		h.continErr++
		h.continSucc = 0
	}
	// Rule 2: an idle host after a failure.
	if !h.overloaded && !succ {
		if float64(h.verr)/(float64(h.vsucc)+float64(h.verr)) > s.errRate || h.continErr >= s.continErrLimit {
			h.setOverloaded(s, now)
			return true
		}
	}
	// Rule 3: an overloaded host after a success.
	if h.overloaded && succ {
		if float64(h.vsucc)/(float64(h.vsucc)+float64(h.verr)) > s.succRate || h.continSucc >= s.continSuccLimit {
			h.setIdle(s, now)
			return true
		}
	}
	// Rule 4: windows and overload timeout.
	return h.timeouts(s, now)
}

// timeouts applies rule 4 alone (the end of an idle window, the overload timeout) and
// reports whether h changed state. A window ending without enough failures resets
// the counters but is not a state change.
func (h *hostState) timeouts(s *params, now int64) bool {
	if h.overloaded {
		if now-h.since >= h.overloadTimeout(s) {
			h.setIdle(s, now)
			return true
		}
		return false
	}
	if now-h.since >= s.idleTimeout {
		if total := float64(h.rsucc) + float64(h.rerr); total > 0 && float64(h.rerr)/total >= s.windowErrRate {
			h.setOverloaded(s, now)
			return true
		}
		h.setIdle(s, now)
	}
	return false
}

// params is Settings converted once for the hot path.
type params struct {
	probe           uint64 // probe_num + 1: the access_cnt cycle length
	initSucc        uint32
	initErr         uint32
	errRate         float64
	succRate        float64
	continErrLimit  uint32
	continSuccLimit uint32
	windowErrRate   float64
	idleTimeout     int64
	overloadTimeout int64
	updateTimeout   int64
	pullTimeout     int64
	reportInterval  int64
	pol             policyParams
}

func newParams(s Settings, pol Policies) params {
	return params{
		probe:           uint64(s.ProbeNum) + 1,
		initSucc:        uint32(s.InitSuccCnt),
		initErr:         uint32(s.InitErrCnt),
		errRate:         s.ErrRate,
		succRate:        s.SuccRate,
		continErrLimit:  uint32(s.ContinErrLimit),
		continSuccLimit: uint32(s.ContinSuccLimit),
		windowErrRate:   s.WindowErrRate,
		idleTimeout:     int64(s.IdleTimeout),
		overloadTimeout: int64(s.OverloadTimeout),
		updateTimeout:   int64(s.UpdateTimeout),
		pullTimeout:     int64(s.PullTimeout),
		reportInterval:  int64(s.ReportInterval),
		pol:             newPolicyParams(pol),
	}
}

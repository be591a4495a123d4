package lb

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Policy names how get_host chooses among a key's idle hosts.
type Policy uint8

// Policies of Policies.Pick.
const (
	// PolicyRoundRobin is Lars's choice: the idle hosts in a fixed cyclic order.
	PolicyRoundRobin Policy = iota
	// PolicyP2C picks two idle hosts at random and returns the one with fewer calls
	// in flight (power of two choices, least outstanding).
	PolicyP2C
	// PolicyEWMA picks two idle hosts at random and returns the one with the lower
	// peak-EWMA cost: decayed latency x (calls in flight + 1).
	PolicyEWMA
)

// String returns the policy's INI name: rr, p2c or ewma.
func (p Policy) String() string {
	switch p {
	case PolicyRoundRobin:
		return "rr"
	case PolicyP2C:
		return "p2c"
	case PolicyEWMA:
		return "ewma"
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// ParsePolicy reads a policy name: rr (or round_robin, or empty), p2c or ewma.
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "rr", "round_robin":
		return PolicyRoundRobin, nil
	case "p2c":
		return PolicyP2C, nil
	case "ewma":
		return PolicyEWMA, nil
	}
	return 0, fmt.Errorf("%w: policy is %q, want rr, p2c or ewma", ErrInvalidSettings, s)
}

// ParseFactor reads an overload_backoff factor: a number, optionally followed by
// "x" ("2x", "1.5"). It does not check the range (Policies.Validate does).
func ParseFactor(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "x"), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: overload_backoff %q: want a factor such as 2x", ErrInvalidSettings, s)
	}
	return f, nil
}

// Policies are the opt-in balancing policies beyond Lars, keys of the [loadbalance]
// section too. The zero value turns every one off: the table then follows
// LB-SEMANTICS.md exactly.
type Policies struct {
	// Pick (policy, default rr): how get_host chooses among idle hosts. Probes of
	// overloaded hosts are the same under every policy.
	Pick Policy
	// PanicThreshold (panic_threshold, percent, default 0 = off; Envoy uses 50): when
	// fewer than this share of a key's hosts are idle, get_host spreads the calls
	// round robin over all the key's hosts, idle and overloaded, instead of refusing
	// them with RetOverload. In [0, 100].
	PanicThreshold int
	// OverloadBackoff (overload_backoff, a factor such as 2 or "2x", default 0 =
	// off): a host overloaded again soon after it recovered stays overloaded
	// overload_timeout x factor^n (n: its overloads in a row), capped at
	// OverloadTimeoutMax, with a jitter of +-10%. n drops by one for every
	// overload_timeout the host spends idle. 0, or in [1, 100].
	OverloadBackoff float64
	// OverloadTimeoutMax (overload_timeout_max, default 300s, or overload_timeout if
	// that is longer): the longest an overload lasts under OverloadBackoff (before
	// jitter). 0 means the default; if set, at least overload_timeout.
	OverloadTimeoutMax time.Duration
	// InflightTimeout (inflight_timeout, default 1s): under p2c and ewma a call is in
	// flight from its get_host until its report, or for at least this long and less
	// than twice it when no report comes. 0 means the default.
	InflightTimeout time.Duration
	// EWMADecay (ewma_decay, default 10s): the time constant of the peak-EWMA latency
	// under ewma: a host's cost decays by 1/e each EWMADecay without reports. 0 means
	// the default.
	EWMADecay time.Duration
	// SlowStart (slow_start, default 0 = off; e.g. 30s): a host new to a key that
	// already had hosts, or one that just left the overloaded state, gets a weight
	// that grows linearly from a tenth of its own to all of it over this window
	// (rebuilt every tenth of it), so that a cold host is not sent its full share at
	// once. 0, or in [1s, 1h].
	SlowStart time.Duration
	// ZoneMinUsable (zone_min_usable, percent, default 50): with a zone for the agent
	// (Config.Zone), get_host picks among the key's hosts of that zone while at least
	// one of them, and at least this share of them, is idle; otherwise among all the
	// key's hosts. 0 means the default; in [1, 100].
	ZoneMinUsable int
}

// Defaults of Policies.
const (
	DefaultOverloadTimeoutMax = 300 * time.Second
	DefaultInflightTimeout    = time.Second
	DefaultEWMADecay          = 10 * time.Second
	DefaultZoneMinUsable      = 50
)

// slowStartFloor is the share of its weight a host in slow start begins with, in
// tenths: a tenth, as Envoy's default min_weight_percent.
const slowStartFloor = 0.1

// Validate reports the first policy setting out of range, naming its INI key, checked
// against the settings s they go with. The error wraps ErrInvalidSettings.
func (p Policies) Validate(s Settings) error {
	switch {
	case p.Pick > PolicyEWMA:
		return fmt.Errorf("%w: policy is %v", ErrInvalidSettings, p.Pick)
	case p.PanicThreshold < 0 || p.PanicThreshold > 100:
		return fmt.Errorf("%w: panic_threshold is %d, want a percentage in [0, 100]", ErrInvalidSettings, p.PanicThreshold)
	case p.OverloadBackoff != 0 && !(p.OverloadBackoff >= 1 && p.OverloadBackoff <= 100):
		return fmt.Errorf("%w: overload_backoff is %v, want 0 (off) or a factor in [1, 100]", ErrInvalidSettings, p.OverloadBackoff)
	case p.OverloadTimeoutMax < 0 || (p.OverloadTimeoutMax > 0 && p.OverloadTimeoutMax < s.OverloadTimeout):
		return fmt.Errorf("%w: overload_timeout_max is %v, want 0 (default) or at least overload_timeout %v", ErrInvalidSettings, p.OverloadTimeoutMax, s.OverloadTimeout)
	case p.InflightTimeout < 0:
		return fmt.Errorf("%w: inflight_timeout is %v, want a positive duration", ErrInvalidSettings, p.InflightTimeout)
	case p.EWMADecay < 0:
		return fmt.Errorf("%w: ewma_decay is %v, want a positive duration", ErrInvalidSettings, p.EWMADecay)
	case p.SlowStart != 0 && (p.SlowStart < time.Second || p.SlowStart > time.Hour):
		return fmt.Errorf("%w: slow_start is %v, want 0 (off) or a duration in [1s, 1h]", ErrInvalidSettings, p.SlowStart)
	case p.ZoneMinUsable < 0 || p.ZoneMinUsable > 100:
		return fmt.Errorf("%w: zone_min_usable is %d, want a percentage in [1, 100] (0: the default %d)", ErrInvalidSettings, p.ZoneMinUsable, DefaultZoneMinUsable)
	}
	return nil
}

// withDefaults returns p with its zero durations replaced by their defaults.
func (p Policies) withDefaults() Policies {
	if p.OverloadTimeoutMax == 0 {
		p.OverloadTimeoutMax = DefaultOverloadTimeoutMax
	}
	if p.InflightTimeout == 0 {
		p.InflightTimeout = DefaultInflightTimeout
	}
	if p.EWMADecay == 0 {
		p.EWMADecay = DefaultEWMADecay
	}
	if p.ZoneMinUsable == 0 {
		p.ZoneMinUsable = DefaultZoneMinUsable
	}
	return p
}

// policyParams is Policies converted once for the hot path.
type policyParams struct {
	pick        Policy
	panicPct    uint64  // PanicThreshold; 0: off
	backoff     float64 // OverloadBackoff; 0: off
	overloadMax int64   // OverloadTimeoutMax in ns
	inflightLen int64   // InflightTimeout in ns: the length of an in-flight epoch
	ewmaTau     float64 // EWMADecay in ns

	slowStart     int64  // SlowStart in ns; 0: off
	zoneMinUsable uint64 // ZoneMinUsable
}

func newPolicyParams(p Policies) policyParams {
	p = p.withDefaults()
	return policyParams{
		pick:        p.Pick,
		panicPct:    uint64(p.PanicThreshold),
		backoff:     p.OverloadBackoff,
		overloadMax: int64(p.OverloadTimeoutMax),
		inflightLen: int64(p.InflightTimeout),
		ewmaTau:     float64(p.EWMADecay),

		slowStart:     int64(p.SlowStart),
		zoneMinUsable: uint64(p.ZoneMinUsable),
	}
}

// policies returns the Policies in use, defaults filled in.
func (p *policyParams) policies() Policies {
	return Policies{
		Pick:               p.pick,
		PanicThreshold:     int(p.panicPct),
		OverloadBackoff:    p.backoff,
		OverloadTimeoutMax: time.Duration(p.overloadMax),
		InflightTimeout:    time.Duration(p.inflightLen),
		EWMADecay:          time.Duration(p.ewmaTau),
		SlowStart:          time.Duration(p.slowStart),
		ZoneMinUsable:      int(p.zoneMinUsable),
	}
}

// keepsHostState reports whether a policy keeps state per host (hostExtra).
func (p *policyParams) keepsHostState() bool {
	return p.pick != PolicyRoundRobin || p.backoff != 0
}

// epoch returns the in-flight epoch of table time now.
func (p *policyParams) epoch(now int64) uint32 { return uint32(now / p.inflightLen) }

// panics reports whether a key with idle idle hosts and over overloaded ones is in
// panic: fewer than panic_threshold percent of its hosts idle.
func (p *policyParams) panics(idle, over int) bool {
	return p.panicPct != 0 && uint64(idle)*100 < p.panicPct*uint64(idle+over)
}

// weightAt returns the weight host st, of weight w, picks by at table time now, and the time its
// slow start next changes it (0: it does not). An overloaded host keeps its weight;
// its ramp starts when it recovers.
func (p *policyParams) weightAt(st *hostState, w uint32, now int64) (uint32, int64) {
	if p.slowStart == 0 || st.overloaded {
		return w, 0
	}
	elapsed := now - st.rampFrom
	if elapsed >= p.slowStart || elapsed < 0 {
		return w, 0
	}
	frac := max(slowStartFloor, float64(elapsed)/float64(p.slowStart))
	step := max(p.slowStart/10, 1)
	next := min(now+step, st.rampFrom+p.slowStart)
	return max(1, uint32(float64(w)*frac)), next
}

// maxEjections bounds the ejection count (a factor of 1 never reaches the cap).
const maxEjections = 1000

// overloadFor returns how long a host becoming overloaded at now stays so, and the
// ejection count n it carries to the next overload. ejections is its count so far and
// recovered when it last became idle from overloaded. jitter is in [0, 1).
func (p *params) overloadFor(ejections uint32, recovered, now int64, jitter float64) (int64, uint32) {
	base := p.overloadTimeout
	if p.pol.backoff == 0 {
		return base, 0
	}
	n := ejections
	if n > 0 && now > recovered {
		// One step back for every overload_timeout spent idle.
		if steps := (now - recovered) / base; steps >= int64(n) {
			n = 0
		} else {
			n -= uint32(steps)
		}
	}
	d := float64(base) * math.Pow(p.pol.backoff, float64(n))
	limit := float64(max(p.pol.overloadMax, base)) // the default cap may be below a long overload_timeout
	capped := d >= limit
	if capped {
		d = limit
	}
	d *= 0.9 + 0.2*jitter
	if !capped && n < maxEjections {
		n++
	}
	return int64(d), n
}

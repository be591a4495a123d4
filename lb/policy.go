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
}

// Defaults of Policies.
const (
	DefaultOverloadTimeoutMax = 300 * time.Second
	DefaultInflightTimeout    = time.Second
	DefaultEWMADecay          = 10 * time.Second
)

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

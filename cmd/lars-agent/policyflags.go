package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/larsgo/lars/lb"
)

// policyFlags are the flags of the opt-in balancing policies (lb.Policies); set ones
// override the [loadbalance] keys of -config.
type policyFlags struct {
	policy, backoff                         string
	panicThreshold, zoneMinUsable           int
	overloadMax, inflightTimeout, ewmaDecay time.Duration
	slowStart                               time.Duration
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.policy, "policy", "rr", "choice among idle hosts: rr (Lars's round robin), p2c (two random choices, fewer calls in flight) or ewma (two random choices, lower peak-EWMA latency x calls in flight); [loadbalance] policy")
	fs.IntVar(&p.panicThreshold, "panic-threshold", 0, "percent: below this share of idle hosts a key spreads calls over all its hosts instead of refusing them (0 = off, Envoy uses 50); [loadbalance] panic_threshold")
	fs.StringVar(&p.backoff, "overload-backoff", "", "factor such as 2x: a host overloaded again soon after recovering stays overloaded overload_timeout x factor^n, capped, +-10% jitter (default off); [loadbalance] overload_backoff")
	fs.DurationVar(&p.overloadMax, "overload-timeout-max", lb.DefaultOverloadTimeoutMax, "cap of an overload under -overload-backoff; [loadbalance] overload_timeout_max")
	fs.DurationVar(&p.inflightTimeout, "inflight-timeout", lb.DefaultInflightTimeout, "under p2c and ewma, a call never reported stops counting as in flight after this (up to twice it); [loadbalance] inflight_timeout")
	fs.DurationVar(&p.ewmaDecay, "ewma-decay", lb.DefaultEWMADecay, "time constant of the peak-EWMA latency under ewma; [loadbalance] ewma_decay")
	fs.DurationVar(&p.slowStart, "slow-start", 0, "a host new to a key, or back from overloaded, gets a weight growing from a tenth of its own to all of it over this window (0 = off, else 1s to 1h); [loadbalance] slow_start")
	fs.IntVar(&p.zoneMinUsable, "zone-min-usable", lb.DefaultZoneMinUsable, "percent: with -zone, get_host picks among the key's hosts of that zone while at least this share of them (and at least one) is idle, else among all its hosts (1 to 100); [loadbalance] zone_min_usable")
}

// apply writes the set flags into pol.
func (p *policyFlags) apply(set map[string]bool, pol *lb.Policies) error {
	var err error
	if set["policy"] {
		if pol.Pick, err = lb.ParsePolicy(p.policy); err != nil {
			return fmt.Errorf("invalid -policy: %w", err)
		}
	}
	if set["panic-threshold"] {
		pol.PanicThreshold = p.panicThreshold
	}
	if set["overload-backoff"] {
		if pol.OverloadBackoff, err = lb.ParseFactor(p.backoff); err != nil {
			return fmt.Errorf("invalid -overload-backoff: %w", err)
		}
	}
	if set["overload-timeout-max"] {
		pol.OverloadTimeoutMax = p.overloadMax
	}
	if set["inflight-timeout"] {
		pol.InflightTimeout = p.inflightTimeout
	}
	if set["ewma-decay"] {
		pol.EWMADecay = p.ewmaDecay
	}
	if set["slow-start"] {
		pol.SlowStart = p.slowStart
	}
	if set["zone-min-usable"] {
		if p.zoneMinUsable < 1 || p.zoneMinUsable > 100 {
			return fmt.Errorf("invalid -zone-min-usable %d: want a percentage in [1, 100]", p.zoneMinUsable)
		}
		pol.ZoneMinUsable = p.zoneMinUsable
	}
	return nil
}

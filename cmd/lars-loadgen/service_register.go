package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/larsgo/lars/loadgen/ctlplane"
)

// Modes of the dns subcommand.
const (
	modeChanges  = "changes"  // routes change in the store; pushes timed from the commit
	modeRegister = "register" // agents register instances; pushes timed from the Lease frames
)

// registerFlags holds the values of the flags of dns -mode register alone.
type registerFlags struct {
	instances, subscribers int
	ttl, spread, warmup    time.Duration
	churn, expire          float64
	leave                  bool
}

// declare declares the flags of dns -mode register alone.
func (g *registerFlags) declare(fs *flag.FlagSet) {
	fs.IntVar(&g.instances, "instances", ctlplane.DefaultRegInstances, "-mode register: instances each agent registers, spread evenly over -modids x -cmdids")
	fs.IntVar(&g.subscribers, "subscribers", ctlplane.DefaultRegSubscribers, "-mode register: connections that pull every key and time the pushes")
	fs.DurationVar(&g.ttl, "ttl", ctlplane.DefaultRegTTL, "-mode register: each registration's lease (1s..1h); agents renew at a third of it")
	fs.Float64Var(&g.churn, "churn", 0, "-mode register: instances replaced a second after the storm (one LEASE_DROP, one LEASE_NEW)")
	fs.Float64Var(&g.expire, "expire", 0, "-mode register: instances a second left to expire (their agent stops renewing them), each replaced by a new one")
	fs.DurationVar(&g.spread, "storm-spread", 0, "-mode register: spread the agents' first registrations over this span (0: all at once)")
	fs.DurationVar(&g.warmup, "warmup", 0, "-mode register: renewals alone after the storm, before the measured steady phase (-duration)")
	fs.BoolVar(&g.leave, "leave", false, "-mode register: leave the instances registered at the end (they expire) instead of dropping them")
}

// registerOnly are the flags of dns -mode register alone; changesOnly those it does
// not take.
var (
	registerOnly = []string{"instances", "subscribers", "ttl", "churn", "expire", "leave", "storm-spread", "warmup"}
	changesOnly  = []string{"db", "keys", "hosts", "spread", "zipf-s", "changes-per-sec", "changes", "slo", "max-loss",
		"sweep", "sweep-over", "sweep-start", "sweep-factor", "sweep-max", "sweep-refine", "sweep-retries", "step-duration"}
)

// options checks the flags of -mode register and sets o's registration run.
func (g *registerFlags) options(o *serviceOptions, f *serviceFlags, d *dnsFlags) error {
	for _, name := range changesOnly {
		if f.set[name] {
			return fmt.Errorf("-%s is not taken by -mode register (the route service writes the leases; see lars-loadgen dns -h)", name)
		}
	}
	switch {
	case g.instances < 1:
		return fmt.Errorf("invalid -instances %d: want at least 1", g.instances)
	case g.subscribers < 1:
		return fmt.Errorf("invalid -subscribers %d: want at least 1", g.subscribers)
	case g.ttl < ctlplane.MinRegTTL || g.ttl > ctlplane.MaxRegTTL:
		return fmt.Errorf("invalid -ttl %v: want %v to %v", g.ttl, ctlplane.MinRegTTL, ctlplane.MaxRegTTL)
	case !rateOK(g.churn) || !rateOK(g.expire):
		return errors.New("-churn and -expire must be 0 or a positive rate")
	case d.pushTimeout <= 0 || d.setupTimeout <= 0:
		return errors.New("-push-timeout and -setup-timeout must be positive")
	case g.spread < 0 || g.warmup < 0:
		return errors.New("-storm-spread and -warmup must not be negative")
	}
	fleet, err := f.fleet()
	if err != nil {
		return err
	}
	o.reg = &ctlplane.RegisterConfig{Target: f.target, Agents: f.agents, Instances: g.instances, Modids: fleet.Modids,
		Cmdids: fleet.Cmdids, Subscribers: g.subscribers, TTL: g.ttl, StormSpread: g.spread, Warmup: g.warmup, Churn: g.churn, Expire: g.expire, Duration: f.duration,
		PushTimeout: d.pushTimeout, SetupTimeout: d.setupTimeout, Seed: f.seed, Leave: g.leave, AdminURL: f.adminURL}
	return nil
}

// rateOK reports whether r is 0 or a positive finite rate.
func rateOK(r float64) bool { return r >= 0 && !math.IsInf(r, 0) && !math.IsNaN(r) }

// runRegisterService runs dns -mode register; exit 1 when the run shows a problem
// (RegisterReport.Problems).
func runRegisterService(ctx context.Context, o *serviceOptions, stdout, textOut, stderr io.Writer) int {
	cfg := *o.reg
	if !o.quiet {
		cfg.Live = stderr
	}
	rep, err := ctlplane.RunRegister(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "lars-loadgen: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		return exitMissed
	}
	code := exitOK
	if len(rep.Problems()) > 0 {
		code = exitMissed
	}
	return finishService(o, rep, code, stdout, textOut, stderr)
}

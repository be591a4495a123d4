package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/larsgo/lars/loadgen/ctlplane"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// dnsFlags holds the values of the flags of the dns subcommand alone.
type dnsFlags struct {
	changeRate                float64
	changes                   int
	pushTimeout, setupTimeout time.Duration
	slo, over                 string
	maxLoss                   float64
	mode                      string
	reg                       registerFlags
}

// declare declares the flags of the dns subcommand alone.
func (d *dnsFlags) declare(fs *flag.FlagSet) {
	fs.Float64Var(&d.changeRate, "changes-per-sec", ctlplane.DefaultChangesPerSec, "route changes written to the store per second")
	fs.IntVar(&d.changes, "changes", 0, "stop after this many changes (and at -duration if given too)")
	fs.DurationVar(&d.pushTimeout, "push-timeout", ctlplane.DefaultPushTimeout, "how long a change's pushes are waited for before they count as missing")
	fs.DurationVar(&d.setupTimeout, "setup-timeout", ctlplane.DefaultSetupTimeout, "bound on the connections and first pulls")
	fs.StringVar(&d.slo, "slo", "", "objective, e.g. push-p99=2s or push-p50=500ms,last-p99=3s (push, first, last, pull; p50 p90 p99 p999); exit 1 when missed (-sweep default push-p99=2s)")
	fs.Float64Var(&d.maxLoss, "max-loss", 0, "share of expected pushes the objective allows to be missing, 0..1")
	fs.StringVar(&d.over, "sweep-over", ctlreport.SweepAgents, "what -sweep varies: agents or changes (the change rate)")
	fs.StringVar(&d.mode, "mode", modeChanges, "changes (routes change in the store) or register (agents register instances with leases)")
	d.reg.declare(fs)
}

// options checks the dns flags and sets o's run, objective and search.
func (d *dnsFlags) options(o *serviceOptions, f *serviceFlags, fleet ctlplane.Fleet) error {
	switch d.mode {
	case modeRegister:
		return d.reg.options(o, f, d)
	case modeChanges:
		for _, name := range registerOnly {
			if f.set[name] {
				return fmt.Errorf("-%s is taken by -mode register only", name)
			}
		}
	default:
		return fmt.Errorf("invalid -mode %q: want changes or register", d.mode)
	}
	switch {
	case o.dsn == "":
		return errors.New("-service dns needs -db: the store the route service reads, where the run writes its changes")
	case d.changeRate <= 0 || math.IsInf(d.changeRate, 0) || math.IsNaN(d.changeRate):
		return fmt.Errorf("invalid -changes-per-sec %v: want a positive rate", d.changeRate)
	case d.changes < 0:
		return fmt.Errorf("invalid -changes %d", d.changes)
	case f.hosts > ctlplane.MaxHostsPerKey:
		return fmt.Errorf("invalid -hosts %d: at most %d", f.hosts, ctlplane.MaxHostsPerKey)
	case d.pushTimeout <= 0 || d.setupTimeout <= 0:
		return errors.New("-push-timeout and -setup-timeout must be positive")
	case d.maxLoss < 0 || d.maxLoss > 1:
		return fmt.Errorf("invalid -max-loss %v: want 0..1", d.maxLoss)
	case d.over != ctlreport.SweepAgents && d.over != ctlreport.SweepChanges:
		return fmt.Errorf("invalid -sweep-over %q: want agents or changes", d.over)
	}
	if d.slo != "" {
		obj, err := ctlreport.ParseObjective(d.slo)
		if err != nil {
			return err
		}
		o.slo = &obj
	}
	o.dns = ctlplane.DNSConfig{Fleet: fleet, HostsPerKey: f.hosts, ChangesPerSec: d.changeRate, Duration: f.runDuration(),
		Changes: d.changes, PushTimeout: d.pushTimeout, SetupTimeout: d.setupTimeout, AdminURL: f.adminURL}
	o.sweepOver = d.over
	if o.doSweep {
		if o.slo == nil {
			o.slo = &stats.Objective{Limits: []stats.Limit{{Of: "push", Percentile: "p99", Max: 2 * time.Second}}}
		}
		swept := map[string]string{ctlreport.SweepAgents: "agents", ctlreport.SweepChanges: "changes-per-sec"}[d.over]
		if f.set[swept] || f.set["duration"] || f.set["changes"] {
			return fmt.Errorf("-sweep sets -%s and the duration of each step: use -sweep-start, -sweep-factor, -sweep-max and -step-duration", swept)
		}
		if o.search.Start == 0 {
			o.search.Start = map[string]float64{ctlreport.SweepAgents: 100, ctlreport.SweepChanges: 1}[d.over]
		}
	}
	if o.slo != nil {
		o.slo.MaxLoss = d.maxLoss
	}
	return nil
}

// reporterFlags holds the values of the flags of the reporter subcommand alone.
type reporterFlags struct {
	rate       float64
	reports    uint64
	settle     time.Duration
	senders    int
	callerBase string
}

// declare declares the flags of the reporter subcommand alone.
func (r *reporterFlags) declare(fs *flag.FlagSet) {
	fs.Float64Var(&r.rate, "rate", ctlplane.DefaultReportRate, "ReportStatusRequest frames per second, all agents together (each carries -hosts results)")
	fs.Uint64Var(&r.reports, "reports", 0, "stop after this many frames (and at -duration if given too)")
	fs.DurationVar(&r.settle, "settle", ctlplane.DefaultSettle, "after the sending, how long to wait for the store (-db) and the service's queue (-admin-url) to catch up")
	fs.IntVar(&r.senders, "senders", 0, "goroutines writing the reports (default one per CPU)")
	fs.StringVar(&r.callerBase, "caller-base", "10.254.0.0", "caller address of the first agent; agent i reports as this address + i")
}

// options checks the reporter flags and sets o's run and search.
func (r *reporterFlags) options(o *serviceOptions, f *serviceFlags, fleet ctlplane.Fleet) error {
	switch {
	case r.rate <= 0 || math.IsInf(r.rate, 0) || math.IsNaN(r.rate):
		return fmt.Errorf("invalid -rate %v: want a positive rate", r.rate)
	case f.hosts > 1024:
		return fmt.Errorf("invalid -hosts %d: at most 1024 results a report", f.hosts)
	case r.settle <= 0:
		return fmt.Errorf("invalid -settle %v: must be positive", r.settle)
	case r.senders < 0:
		return fmt.Errorf("invalid -senders %d", r.senders)
	}
	caller, err := parseCallerBase(r.callerBase, f.agents)
	if err != nil {
		return err
	}
	o.rep = ctlplane.ReporterConfig{Fleet: fleet, Hosts: f.hosts, Rate: r.rate, Duration: f.runDuration(), Reports: r.reports,
		Senders: r.senders, CallerBase: caller, AdminURL: f.adminURL, Settle: r.settle}
	if o.doSweep {
		if f.set["rate"] || f.set["duration"] || f.set["reports"] {
			return errors.New("-sweep sets -rate and the duration of each step: use -sweep-start, -sweep-factor, -sweep-max and -step-duration")
		}
		if f.adminURL == "" && o.dsn == "" {
			return errors.New("-sweep needs -admin-url or -db: a drop cannot be seen without the service's figures or its store")
		}
		if o.search.Start == 0 {
			o.search.Start = ctlplane.DefaultReportRate
		}
	}
	return nil
}

package main

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/hostmodel"
	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
)

// traffic checks what is sent and where: target, ports, sockets, mix, reports,
// modelled hosts and keys.
func (f *agentFlags) traffic(o *options) error {
	c := &o.cfg
	var err error
	c.Target = f.target
	if c.Ports, err = loadgen.ParsePorts(f.ports); err != nil {
		return err
	}
	c.Sockets = f.sockets
	if f.sockets < 0 {
		return fmt.Errorf("invalid -sockets %d", f.sockets)
	}
	if c.Mix, err = loadgen.ParseMix(f.mix); err != nil {
		return err
	}
	c.ReportAfter, c.ReportFail = f.reportAfter, f.reportFail
	if f.reportFail < 0 || f.reportFail > 1 {
		return fmt.Errorf("invalid -report-fail %v: want 0..1", f.reportFail)
	}
	if f.failHosts != "" {
		if c.FailHosts, err = loadgen.ParseHosts(f.failHosts); err != nil {
			return err
		}
	}
	if err := hostmodel.Parse(&c.Hosts, f.hostLatency, f.hostFail, f.hostFlap); err != nil {
		return err
	}
	if c.Modids, err = loadgen.ParseRange(f.modids); err != nil {
		return fmt.Errorf("-modids: %w", err)
	}
	if c.Cmdids, err = loadgen.ParseRange(f.cmdids); err != nil {
		return fmt.Errorf("-cmdids: %w", err)
	}
	if c.Spread, err = loadgen.ParseSpread(f.spread); err != nil {
		return err
	}
	if f.zipfS <= 1 {
		return fmt.Errorf("invalid -zipf-s %v: must be above 1", f.zipfS)
	}
	c.ZipfS = f.zipfS
	return nil
}

// loop checks the loop and its span: closed (-concurrency) or open (-rate),
// duration or count, warm-up, timeout, batch, echo and seed.
func (f *agentFlags) loop(o *options) error {
	c := &o.cfg
	if f.set["rate"] && f.set["concurrency"] {
		return errors.New("-rate (open loop) and -concurrency (closed loop) exclude each other")
	}
	if f.concurrency < 1 {
		return fmt.Errorf("invalid -concurrency %d: want at least 1", f.concurrency)
	}
	if f.rate < 0 || math.IsInf(f.rate, 0) || math.IsNaN(f.rate) {
		return fmt.Errorf("invalid -rate %v", f.rate)
	}
	c.Concurrency, c.Rate, c.SharedWindow = f.concurrency, f.rate, f.sharedWindow
	if f.duration <= 0 && !f.set["requests"] {
		return fmt.Errorf("invalid -duration %v: want a positive duration", f.duration)
	}
	c.Duration, c.Requests = f.duration, f.requests
	if f.set["requests"] && !f.set["duration"] {
		c.Duration = 0 // run until the count
	}
	if f.warmup < 0 {
		return fmt.Errorf("invalid -warmup %v", f.warmup)
	}
	c.Warmup = f.warmup
	if f.timeout <= 0 || f.timeout > loadgen.MaxTimeout {
		return fmt.Errorf("invalid -timeout %v: want (0, %v]", f.timeout, loadgen.MaxTimeout)
	}
	c.Timeout = f.timeout
	if f.batch < 1 || f.batch > 1024 {
		return fmt.Errorf("invalid -batch %d: want 1..1024", f.batch)
	}
	c.Batch, c.Echo, c.Seed = f.batch, f.echo, f.seed
	return nil
}

// objective checks -slo and -max-loss.
func (f *agentFlags) objective(o *options) error {
	if f.maxLoss < 0 || f.maxLoss > 1 {
		return fmt.Errorf("invalid -max-loss %v: want 0..1", f.maxLoss)
	}
	if f.slo != "" {
		s, err := report.ParseSLO(f.slo)
		if err != nil {
			return err
		}
		s.MaxLoss = f.maxLoss
		o.slo = &s
	}
	return nil
}

// goroutines checks -procs: by default one core in a closed loop, every core in an
// open loop or a sweep.
func (f *agentFlags) goroutines(o *options) error {
	switch {
	case f.procs == 0 || f.procs < -1:
		return fmt.Errorf("invalid -procs %d: want at least 1", f.procs)
	case f.procs > 0:
		o.procs = f.procs
	case f.rate == 0 && !f.sweep:
		o.procs = 1
	}
	return nil
}

// search checks the flags of a capacity search (-sweep) and sets its configuration.
func (f *agentFlags) search(o *options) error {
	o.doSweep = f.sweep
	if !o.doSweep {
		return nil
	}
	switch {
	case f.set["rate"] || f.set["concurrency"] || f.set["duration"] || f.set["requests"]:
		return errors.New("-sweep sets the rate and duration of each step: use -sweep-start, -sweep-factor, -sweep-max and -step-duration")
	case f.stepDur <= 0:
		return fmt.Errorf("invalid -step-duration %v", f.stepDur)
	case f.sweepStart <= 0:
		return fmt.Errorf("invalid -sweep-start %v: want a positive rate", f.sweepStart)
	case f.sweepFactor <= 1:
		return fmt.Errorf("invalid -sweep-factor %v: must be above 1", f.sweepFactor)
	case f.sweepRetries < 0:
		return fmt.Errorf("invalid -sweep-retries %d", f.sweepRetries)
	case f.sweepRefine < 0:
		return fmt.Errorf("invalid -sweep-refine %d", f.sweepRefine)
	case o.profile != "":
		return errors.New("-profile captures one run: it cannot be used with -sweep")
	}
	if o.slo == nil {
		o.slo = &stats.Objective{Limits: []stats.Limit{{Percentile: "p99", Max: time.Millisecond}}, MaxLoss: f.maxLoss}
	}
	if !f.set["warmup"] {
		o.cfg.Warmup = f.stepDur / 5
	}
	o.sweep = loadgen.SweepConfig{SLO: *o.slo, Start: f.sweepStart, Factor: f.sweepFactor, Refine: f.sweepRefine,
		Retries: f.sweepRetries, Max: f.sweepMax, StepDuration: f.stepDur}
	if f.sweepRetries == 0 {
		o.sweep.Retries = -1 // none
	}
	if f.sweepRefine == 0 {
		o.sweep.Refine = -1 // none
	}
	return nil
}

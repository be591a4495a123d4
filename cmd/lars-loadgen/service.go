package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/larsgo/lars/loadgen/ctlplane"
	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/store"
)

// fileMargin is the descriptors a run needs beside its agents' connections: the
// store, the admin reads, stdio, the runtime.
const fileMargin = 64

// runService is the dns or the reporter subcommand: it drives a control-plane
// service.
func runService(ctx context.Context, service string, args []string, oldSpelling bool, stdout, stderr io.Writer) int {
	o, fs, err := parseServiceFlags(service, args, oldSpelling)
	if errors.Is(err, flag.ErrHelp) {
		serviceUsage(stderr, service, fs)
		return exitOK
	}
	if err == nil {
		err = o.fitFileLimit()
	}
	if err != nil {
		fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
		serviceUsage(stderr, service, fs)
		return exitUsage
	}
	// With -json -, the JSON is the only thing on stdout: the text goes to stderr.
	textOut := stdout
	if o.jsonPath == "-" {
		textOut = stderr
	}
	var db *store.DB
	if o.dsn != "" {
		if db, err = store.Open(ctx, o.dsn); err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: %s\n", strings.Join(strings.Fields(err.Error()), " "))
			return exitMissed
		}
		defer db.Close()
	}
	if service == "dns" && o.reg != nil {
		return runRegisterService(ctx, o, stdout, textOut, stderr)
	}
	if service == "dns" {
		return runDNSService(ctx, o, db, stdout, textOut, stderr)
	}
	return runReporterService(ctx, o, db, stdout, textOut, stderr)
}

func runDNSService(ctx context.Context, o *serviceOptions, db *store.DB, stdout, textOut, stderr io.Writer) int {
	cfg := o.dns
	cfg.Writer = db
	if !o.quiet {
		cfg.Live = stderr
	}
	var out report.Document
	code := exitOK
	if o.doSweep {
		sc := ctlplane.DNSSweepConfig{Run: cfg, Over: o.sweepOver, Search: o.search, Objective: *o.slo, StepDuration: o.stepDur}
		sc.Run.Live = nil
		if !o.quiet {
			sc.OnStep = func(st ctlreport.DNSSweepStep) {
				r, verdict := st.Report, stats.StepVerdict(st.Met, st.Reason)
				fmt.Fprintf(stderr, "step %6g %s  %d subscriptions  %.1f changes/s  %.0f pushes/s  push p50 %.1fms p99 %.1fms  %s\n",
					st.Value, o.sweepOver, r.Subscriptions, r.Changes.Rate, r.Pushes.Rate, r.Pushes.LatencyMS.P50, r.Pushes.LatencyMS.P99, verdict)
			}
		}
		sw, err := ctlplane.SweepDNS(ctx, sc)
		if err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
			return exitMissed
		}
		if !sw.Found {
			code = exitMissed
		}
		out = sw
	} else {
		rep, err := ctlplane.RunDNS(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
			return exitMissed
		}
		if o.slo != nil {
			rep.SLO = ctlreport.CheckDNS(*o.slo, rep)
			if !rep.SLO.Met {
				code = exitMissed
			}
		}
		out = rep
	}
	return finishService(o, out, code, stdout, textOut, stderr)
}

func runReporterService(ctx context.Context, o *serviceOptions, db *store.DB, stdout, textOut, stderr io.Writer) int {
	cfg := o.rep
	cfg.Store = db
	if !o.quiet {
		cfg.Live = stderr
	}
	var out report.Document
	code := exitOK
	if o.doSweep {
		sc := ctlplane.ReporterSweepConfig{Run: cfg, Search: o.search, StepDuration: o.stepDur}
		sc.Run.Live = nil
		if !o.quiet {
			sc.OnStep = func(st ctlreport.ReporterSweepStep) {
				verdict := stats.StepVerdict(st.Met, st.Reason)
				fmt.Fprintf(stderr, "step %8.0f frames/s  sent %8.0f results/s  %s\n", st.Rate, st.Report.Sent.ResultRate, verdict)
			}
		}
		sw, err := ctlplane.SweepReporter(ctx, sc)
		if err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
			return exitMissed
		}
		if !sw.Found {
			code = exitMissed
		}
		out = sw
	} else {
		rep, err := ctlplane.RunReporter(ctx, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
			return exitMissed
		}
		if !rep.Verdict.Met {
			code = exitMissed
		}
		out = rep
	}
	return finishService(o, out, code, stdout, textOut, stderr)
}

// finishService writes the text report and the -json, -csv and -html files, and
// returns code, or exitMissed when a write failed.
func finishService(o *serviceOptions, out report.Document, code int, stdout, textOut, stderr io.Writer) int {
	if err := out.WriteText(textOut); err != nil {
		code = exitMissed
	}
	outputs := []struct {
		flag, path string
		write      func(io.Writer) error
	}{
		{"-json", o.jsonPath, out.WriteJSON},
		{"-csv", o.csvPath, out.WriteCSV},
		{"-html", o.htmlPath, out.WriteHTML},
	}
	for _, f := range outputs {
		if f.path == "" {
			continue
		}
		if err := writeTo(f.path, stdout, f.write); err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: cannot write %s: %v\n", f.flag, err)
			code = exitMissed
		}
	}
	return code
}

// fitFileLimit makes sure the process may open a descriptor per agent: it raises the
// soft RLIMIT_NOFILE up to the hard limit when needed, and fails when even that is too
// low. A sweep over agents without -sweep-max is bounded to what the limit allows.
func (o *serviceOptions) fitFileLimit() error {
	agents := o.dns.Agents
	if o.service == "reporter" {
		agents = o.rep.Agents
	}
	if o.reg != nil {
		agents = o.reg.Agents + o.reg.Subscribers
	}
	sweepAgents := o.doSweep && o.service == "dns" && o.sweepOver == ctlreport.SweepAgents
	if sweepAgents {
		agents = int(o.search.Max)
	}
	soft, hard, ok := fileLimit()
	if !ok {
		return nil // no limit to read: let the run find out
	}
	if sweepAgents && agents == 0 {
		if soft < hard && setFileLimit(hard) == nil {
			soft, _, _ = fileLimit()
		}
		o.search.Max = float64(max(int64(soft)-fileMargin, 1))
		return nil
	}
	need := uint64(agents) + fileMargin
	if need <= soft {
		return nil
	}
	if need <= hard && setFileLimit(need) == nil {
		return nil
	}
	return fmt.Errorf("%d agents need %d open files; the limit is %d (hard %d): raise it (ulimit -n) or run fewer agents", agents, need, soft, hard)
}

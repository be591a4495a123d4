package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/hostmodel"
	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
)

// options are the command-line flags, parsed into a load configuration.
type options struct {
	cfg                                           loadgen.Config
	sweep                                         loadgen.SweepConfig
	slo                                           *stats.Objective
	doSweep, quiet                                bool
	jsonPath, csvPath, htmlPath, profile, profOut string
	cpuProfile                                    string
	procs                                         int // GOMAXPROCS for the run; 0 leaves the runtime's
}

func parseFlags(args []string) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-loadgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("service", "agent", "what to drive: agent (UDP get_host/get_route/report), dns (lars-dns over TCP) or reporter (lars-reporter over TCP)")
	target := fs.String("target", loadgen.DefaultTarget, "agent IP address")
	ports := fs.String("ports", "8888,8889,8890", "agent UDP ports; key (modid, cmdid) goes to port[(modid+cmdid) % len(ports)]")
	sockets := fs.Int("sockets", 0, "client sockets, spread over the ports (default one per port)")
	mix := fs.String("mix", "get_host=100", "request mix by weight: get_host=N,get_route=N,report=N")
	reportAfter := fs.Bool("report-after", false, "send a report after each successful get_host answer (implied by -report-fail and -fail-hosts)")
	reportFail := fs.Float64("report-fail", 0, "share of those reports that say the call failed, 0..1")
	failHosts := fs.String("fail-hosts", "", "comma-separated ip:port hosts whose calls fail (every report on them fails, no other)")
	hostLatency := fs.String("host-latency", "", "modelled median call latency per host, IP:PORT=50ms,... (* for every other host); reports then carry the modelled result and latency")
	hostFail := fs.String("host-fail", "", "modelled failure rate per host, IP:PORT=0.5,... (* for every other host)")
	hostFlap := fs.String("host-flap", "", "modelled flapping hosts, IP:PORT=2s,...: fails every call in the second half of each period")
	modids := fs.String("modids", "1", "modid range LO-HI")
	cmdids := fs.String("cmdids", "1", "cmdid range LO-HI")
	spread := fs.String("spread", "uniform", "key spread: uniform or zipf")
	zipfS := fs.Float64("zipf-s", loadgen.DefaultZipfS, "zipf exponent, above 1")
	concurrency := fs.Int("concurrency", loadgen.DefaultConcurrency, "closed loop: requests in flight")
	sharedWindow := fs.Bool("shared-window", false, "closed loop: one window for every socket, refilled from the whole key space (exact key mix even when a port is slow or lossy; costs more CPU per request than a window per socket)")
	rate := fs.Float64("rate", 0, "open loop: requests per second (latency counted from each intended send time)")
	duration := fs.Duration("duration", loadgen.DefaultDuration, "measured span of the run")
	requests := fs.Uint64("requests", 0, "stop after this many measured requests (and at -duration if given too)")
	warmup := fs.Duration("warmup", time.Second, "unmeasured span at the start (default 1s; with -sweep, a fifth of -step-duration)")
	timeout := fs.Duration("timeout", loadgen.DefaultTimeout, "per-request timeout, at most 4s")
	batch := fs.Int("batch", loadgen.DefaultBatch, "datagrams per sendmmsg/recvmmsg call")
	echo := fs.Bool("echo", false, "accept echoed requests as answers (baseline against an echo server)")
	seed := fs.Uint64("seed", 1, "seed of the key, mix and failure draws")
	doSweep := fs.Bool("sweep", false, "capacity search: open-loop steps at rising rates until -slo or -max-loss is missed")
	slo := fs.String("slo", "", "objective, e.g. p99=1ms or p50=200us,p99=1ms (p50 p90 p99 p999 p9999); exit 1 when missed (-sweep default p99=1ms)")
	maxLoss := fs.Float64("max-loss", report.DefaultMaxLoss, "largest loss ratio the objective allows")
	stepDur := fs.Duration("step-duration", loadgen.DefaultStepDuration, "measured span of each sweep step")
	sweepStart := fs.Float64("sweep-start", loadgen.DefaultSweepStart, "first sweep rate per second")
	sweepFactor := fs.Float64("sweep-factor", loadgen.DefaultSweepFactor, "sweep rate growth per step until a miss, then bisection")
	sweepRefine := fs.Int("sweep-refine", loadgen.DefaultSweepRefine, "bisection steps after the first miss")
	sweepRetries := fs.Int("sweep-retries", 1, "runs again a step that missed, this many times, before it counts as missed")
	sweepMax := fs.Float64("sweep-max", 0, "highest sweep rate (default no limit)")
	fs.StringVar(&o.jsonPath, "json", "", "write the report as JSON to FILE (- for stdout, then nothing else goes there); schema in loadgen/SCHEMA.md")
	fs.StringVar(&o.csvPath, "csv", "", "write the per-second series (with -sweep: the steps) as CSV to FILE")
	fs.StringVar(&o.htmlPath, "html", "", "write a self-contained HTML page with plots to FILE")
	fs.StringVar(&o.profile, "profile", "", "agent admin base URL (e.g. http://127.0.0.1:6060): capture its CPU profile for the span of the run")
	fs.StringVar(&o.profOut, "profile-out", "cpu.pprof", "file for the -profile CPU profile")
	fs.BoolVar(&o.quiet, "quiet", false, "no live line per second on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to FILE")
	procs := fs.Int("procs", -1, "cores the load generator's Go code may run on at once (GOMAXPROCS); default 1 in a closed loop, which leaves the other cores to the server as a one-thread client does, and every core in an open loop or sweep, where send timing matters")
	fs.Usage = func() {} // run prints the usage after the error message
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	if fs.NArg() > 0 {
		return nil, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	c := &o.cfg
	var err error
	c.Target = *target
	if c.Ports, err = loadgen.ParsePorts(*ports); err != nil {
		return nil, fs, err
	}
	c.Sockets = *sockets
	if *sockets < 0 {
		return nil, fs, fmt.Errorf("invalid -sockets %d", *sockets)
	}
	if c.Mix, err = loadgen.ParseMix(*mix); err != nil {
		return nil, fs, err
	}
	c.ReportAfter, c.ReportFail = *reportAfter, *reportFail
	if *reportFail < 0 || *reportFail > 1 {
		return nil, fs, fmt.Errorf("invalid -report-fail %v: want 0..1", *reportFail)
	}
	if *failHosts != "" {
		if c.FailHosts, err = loadgen.ParseHosts(*failHosts); err != nil {
			return nil, fs, err
		}
	}
	if err := hostmodel.Parse(&c.Hosts, *hostLatency, *hostFail, *hostFlap); err != nil {
		return nil, fs, err
	}
	if c.Modids, err = loadgen.ParseRange(*modids); err != nil {
		return nil, fs, fmt.Errorf("-modids: %w", err)
	}
	if c.Cmdids, err = loadgen.ParseRange(*cmdids); err != nil {
		return nil, fs, fmt.Errorf("-cmdids: %w", err)
	}
	switch *spread {
	case "uniform":
		c.Spread = loadgen.Uniform
	case "zipf":
		c.Spread = loadgen.Zipf
	default:
		return nil, fs, fmt.Errorf("invalid -spread %q: want uniform or zipf", *spread)
	}
	if *zipfS <= 1 {
		return nil, fs, fmt.Errorf("invalid -zipf-s %v: must be above 1", *zipfS)
	}
	c.ZipfS = *zipfS
	if set["rate"] && set["concurrency"] {
		return nil, fs, errors.New("-rate (open loop) and -concurrency (closed loop) exclude each other")
	}
	if *concurrency < 1 {
		return nil, fs, fmt.Errorf("invalid -concurrency %d: want at least 1", *concurrency)
	}
	if *rate < 0 || math.IsInf(*rate, 0) || math.IsNaN(*rate) {
		return nil, fs, fmt.Errorf("invalid -rate %v", *rate)
	}
	c.Concurrency, c.Rate, c.SharedWindow = *concurrency, *rate, *sharedWindow
	if *duration <= 0 && !set["requests"] {
		return nil, fs, fmt.Errorf("invalid -duration %v: want a positive duration", *duration)
	}
	c.Duration, c.Requests = *duration, *requests
	if set["requests"] && !set["duration"] {
		c.Duration = 0 // run until the count
	}
	if *warmup < 0 {
		return nil, fs, fmt.Errorf("invalid -warmup %v", *warmup)
	}
	c.Warmup = *warmup
	if *timeout <= 0 || *timeout > loadgen.MaxTimeout {
		return nil, fs, fmt.Errorf("invalid -timeout %v: want (0, %v]", *timeout, loadgen.MaxTimeout)
	}
	c.Timeout = *timeout
	if *batch < 1 || *batch > 1024 {
		return nil, fs, fmt.Errorf("invalid -batch %d: want 1..1024", *batch)
	}
	c.Batch, c.Echo, c.Seed = *batch, *echo, *seed
	if *maxLoss < 0 || *maxLoss > 1 {
		return nil, fs, fmt.Errorf("invalid -max-loss %v: want 0..1", *maxLoss)
	}
	if *slo != "" {
		s, err := report.ParseSLO(*slo)
		if err != nil {
			return nil, fs, err
		}
		s.MaxLoss = *maxLoss
		o.slo = &s
	}

	switch {
	case *procs == 0 || *procs < -1:
		return nil, fs, fmt.Errorf("invalid -procs %d: want at least 1", *procs)
	case *procs > 0:
		o.procs = *procs
	case *rate == 0 && !*doSweep:
		o.procs = 1
	}
	o.doSweep = *doSweep
	if o.doSweep {
		switch {
		case set["rate"] || set["concurrency"] || set["duration"] || set["requests"]:
			return nil, fs, errors.New("-sweep sets the rate and duration of each step: use -sweep-start, -sweep-factor, -sweep-max and -step-duration")
		case *stepDur <= 0:
			return nil, fs, fmt.Errorf("invalid -step-duration %v", *stepDur)
		case *sweepStart <= 0:
			return nil, fs, fmt.Errorf("invalid -sweep-start %v: want a positive rate", *sweepStart)
		case *sweepFactor <= 1:
			return nil, fs, fmt.Errorf("invalid -sweep-factor %v: must be above 1", *sweepFactor)
		case *sweepRetries < 0:
			return nil, fs, fmt.Errorf("invalid -sweep-retries %d", *sweepRetries)
		case *sweepRefine < 0:
			return nil, fs, fmt.Errorf("invalid -sweep-refine %d", *sweepRefine)
		case o.profile != "":
			return nil, fs, errors.New("-profile captures one run: it cannot be used with -sweep")
		}
		if o.slo == nil {
			o.slo = &stats.Objective{Limits: []stats.Limit{{Percentile: "p99", Max: time.Millisecond}}, MaxLoss: *maxLoss}
		}
		if !set["warmup"] {
			c.Warmup = *stepDur / 5
		}
		o.sweep = loadgen.SweepConfig{SLO: *o.slo, Start: *sweepStart, Factor: *sweepFactor, Refine: *sweepRefine,
			Retries: *sweepRetries, Max: *sweepMax, StepDuration: *stepDur}
		if *sweepRetries == 0 {
			o.sweep.Retries = -1 // none
		}
		if *sweepRefine == 0 {
			o.sweep.Refine = -1 // none
		}
	}
	if o.profile != "" && !strings.HasPrefix(o.profile, "http://") && !strings.HasPrefix(o.profile, "https://") {
		return nil, fs, fmt.Errorf("invalid -profile %q: want the agent's admin base URL, e.g. http://127.0.0.1:6060", o.profile)
	}
	return o, fs, nil
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `Usage: lars-loadgen [flags]
       lars-loadgen -service dns|reporter [flags]   (lars-loadgen -service dns -h)
       lars-loadgen compare A.json B.json [-html FILE] [-threshold PCT]

Measures a Lars agent: closed loop (-concurrency), open loop (-rate) or capacity
search (-sweep -slo p99=1ms); with -service, a route service or a report service
over TCP; compare judges one report against another. Exit status: 0 done, 1
objective missed or run failed (compare: B worse than A), 2 bad arguments.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

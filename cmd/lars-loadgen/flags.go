package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/larsgo/lars/loadgen"
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

// agentFlags holds the values of the agent's flags while they are parsed.
type agentFlags struct {
	target, ports, mix, failHosts, modids, cmdids, spread string
	hostLatency, hostFail, hostFlap                       string
	sockets, concurrency, batch, procs                    int
	reportAfter, sharedWindow, echo, sweep                bool
	reportFail, zipfS, rate                               float64
	duration, warmup, timeout                             time.Duration
	requests, seed                                        uint64

	slo                               string
	maxLoss                           float64
	stepDur                           time.Duration
	sweepStart, sweepFactor, sweepMax float64
	sweepRefine, sweepRetries         int
	set                               map[string]bool // the flags given
	oldSpelling                       bool            // lars-loadgen [-service agent] [flags]
}

// parseFlags parses the flags of the agent subcommand; oldSpelling accepts the
// -service flag of lars-loadgen -service agent.
func parseFlags(args []string, oldSpelling bool) (*options, *flag.FlagSet, error) {
	o := &options{}
	f := &agentFlags{oldSpelling: oldSpelling}
	fs := f.flagSet(o)
	var err error
	if f.set, err = parseFlagSet(fs, args); err != nil {
		return nil, fs, err
	}
	for _, apply := range []func(*options) error{f.traffic, f.loop, f.objective, f.goroutines, f.search} {
		if err := apply(o); err != nil {
			return nil, fs, err
		}
	}
	if o.profile != "" && !strings.HasPrefix(o.profile, "http://") && !strings.HasPrefix(o.profile, "https://") {
		return nil, fs, fmt.Errorf("invalid -profile %q: want the agent's admin base URL, e.g. http://127.0.0.1:6060", o.profile)
	}
	return o, fs, nil
}

// flagSet declares the agent's flags; their values go to f and o.
func (f *agentFlags) flagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("lars-loadgen agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // run prints the usage after the error message
	if f.oldSpelling {
		fs.String("service", "agent", "what to drive: agent (UDP get_host/get_route/report), dns (lars-dns over TCP) or reporter (lars-reporter over TCP); the old spelling of the subcommands")
	}
	f.declareTraffic(fs)
	f.declareSearch(fs)
	fs.StringVar(&o.jsonPath, "json", "", "write the report as JSON to FILE (- for stdout, then nothing else goes there); schema in loadgen/SCHEMA.md")
	fs.StringVar(&o.csvPath, "csv", "", "write the per-second series (with -sweep: the steps) as CSV to FILE")
	fs.StringVar(&o.htmlPath, "html", "", "write a self-contained HTML page with plots to FILE")
	fs.StringVar(&o.profile, "profile", "", "agent admin base URL (e.g. http://127.0.0.1:6060): capture its CPU profile for the span of the run")
	fs.StringVar(&o.profOut, "profile-out", "cpu.pprof", "file for the -profile CPU profile")
	fs.BoolVar(&o.quiet, "quiet", false, "no live line per second on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to FILE")
	fs.IntVar(&f.procs, "procs", -1, "cores the load generator's Go code may run on at once (GOMAXPROCS); default 1 in a closed loop, which leaves the other cores to the server as a one-thread client does, and every core in an open loop or sweep, where send timing matters")
	return fs
}

// declareTraffic declares the flags of what is sent, to which ports, how fast.
func (f *agentFlags) declareTraffic(fs *flag.FlagSet) {
	fs.StringVar(&f.target, "target", loadgen.DefaultTarget, "agent IP address")
	fs.StringVar(&f.ports, "ports", "8888,8889,8890", "agent UDP ports; key (modid, cmdid) goes to port[(modid+cmdid) % len(ports)]")
	fs.IntVar(&f.sockets, "sockets", 0, "client sockets, spread over the ports (default one per port)")
	fs.StringVar(&f.mix, "mix", "get_host=100", "request mix by weight: get_host=N,get_route=N,report=N")
	fs.BoolVar(&f.reportAfter, "report-after", false, "send a report after each successful get_host answer (implied by -report-fail and -fail-hosts)")
	fs.Float64Var(&f.reportFail, "report-fail", 0, "share of those reports that say the call failed, 0..1")
	fs.StringVar(&f.failHosts, "fail-hosts", "", "comma-separated ip:port hosts whose calls fail (every report on them fails, no other)")
	fs.StringVar(&f.hostLatency, "host-latency", "", "modelled median call latency per host, IP:PORT=50ms,... (* for every other host); reports then carry the modelled result and latency")
	fs.StringVar(&f.hostFail, "host-fail", "", "modelled failure rate per host, IP:PORT=0.5,... (* for every other host)")
	fs.StringVar(&f.hostFlap, "host-flap", "", "modelled flapping hosts, IP:PORT=2s,...: fails every call in the second half of each period")
	fs.StringVar(&f.modids, "modids", "1", "modid range LO-HI")
	fs.StringVar(&f.cmdids, "cmdids", "1", "cmdid range LO-HI")
	fs.StringVar(&f.spread, "spread", "uniform", "key spread: uniform or zipf")
	fs.Float64Var(&f.zipfS, "zipf-s", loadgen.DefaultZipfS, "zipf exponent, above 1")
	fs.IntVar(&f.concurrency, "concurrency", loadgen.DefaultConcurrency, "closed loop: requests in flight")
	fs.BoolVar(&f.sharedWindow, "shared-window", false, "closed loop: one window for every socket, refilled from the whole key space (exact key mix even when a port is slow or lossy; costs more CPU per request than a window per socket)")
	fs.Float64Var(&f.rate, "rate", 0, "open loop: requests per second (latency counted from each intended send time)")
	fs.DurationVar(&f.duration, "duration", loadgen.DefaultDuration, "measured span of the run")
	fs.Uint64Var(&f.requests, "requests", 0, "stop after this many measured requests (and at -duration if given too)")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "unmeasured span at the start (default 1s; with -sweep, a fifth of -step-duration)")
	fs.DurationVar(&f.timeout, "timeout", loadgen.DefaultTimeout, "per-request timeout, at most 4s")
	fs.IntVar(&f.batch, "batch", loadgen.DefaultBatch, "datagrams per sendmmsg/recvmmsg call")
	fs.BoolVar(&f.echo, "echo", false, "accept echoed requests as answers (baseline against an echo server)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the key, mix and failure draws")
}

// declareSearch declares the flags of the objective and the capacity search.
func (f *agentFlags) declareSearch(fs *flag.FlagSet) {
	fs.BoolVar(&f.sweep, "sweep", false, "capacity search: open-loop steps at rising rates until -slo or -max-loss is missed")
	fs.StringVar(&f.slo, "slo", "", "objective, e.g. p99=1ms or p50=200us,p99=1ms (p50 p90 p99 p999 p9999); exit 1 when missed (-sweep default p99=1ms)")
	fs.Float64Var(&f.maxLoss, "max-loss", report.DefaultMaxLoss, "largest loss ratio the objective allows")
	fs.DurationVar(&f.stepDur, "step-duration", loadgen.DefaultStepDuration, "measured span of each sweep step")
	fs.Float64Var(&f.sweepStart, "sweep-start", loadgen.DefaultSweepStart, "first sweep rate per second")
	fs.Float64Var(&f.sweepFactor, "sweep-factor", loadgen.DefaultSweepFactor, "sweep rate growth per step until a miss, then bisection")
	fs.IntVar(&f.sweepRefine, "sweep-refine", loadgen.DefaultSweepRefine, "bisection steps after the first miss")
	fs.IntVar(&f.sweepRetries, "sweep-retries", 1, "runs again a step that missed, this many times, before it counts as missed")
	fs.Float64Var(&f.sweepMax, "sweep-max", 0, "highest sweep rate (default no limit)")
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/ctlplane"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// serviceOptions are the flags of the dns and reporter subcommands.
type serviceOptions struct {
	service string
	dns     ctlplane.DNSConfig
	rep     ctlplane.ReporterConfig
	reg     *ctlplane.RegisterConfig // dns -mode register; nil otherwise
	dsn     string

	doSweep   bool
	slo       *stats.Objective // dns: the objective, nil when none
	sweepOver string
	search    ctlplane.Search
	stepDur   time.Duration

	jsonPath, csvPath, htmlPath string
	quiet                       bool
}

// serviceFlags holds the values of the flags both services share while parsing.
type serviceFlags struct {
	target, modids, cmdids, spread, adminURL string
	agents, keys, hosts                      int
	zipfS                                    float64
	duration, stepDur                        time.Duration
	seed                                     uint64
	sweepStart, sweepFactor, sweepMax        float64
	sweepRefine, sweepRetries                int
	set                                      map[string]bool // the flags given
}

// newServiceFlagSet declares the flags both services share; the values go to o and
// f. oldSpelling accepts the -service flag of lars-loadgen -service dns|reporter.
func newServiceFlagSet(service string, oldSpelling bool, o *serviceOptions, f *serviceFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("lars-loadgen "+service, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if oldSpelling {
		fs.String("service", service, "what to drive: agent, dns (lars-dns over TCP) or reporter (lars-reporter over TCP); the old spelling of the subcommands")
	}
	defTarget, defAgents, defHosts := ctlplane.DefaultDNSTarget, 100, 1
	hostsHelp := "hosts of every route written"
	if service == "reporter" {
		defTarget, defAgents, defHosts = ctlplane.DefaultReporterTarget, 10, 10
		hostsHelp = "hosts (results) in every report"
	}
	fs.StringVar(&f.target, "target", defTarget, "the service's TCP `HOST:PORT` (loopback)")
	fs.IntVar(&f.agents, "agents", defAgents, "simulated agents, one TCP connection each")
	fs.IntVar(&f.keys, "keys", 10, "distinct keys each agent holds, drawn from -modids x -cmdids")
	fs.IntVar(&f.hosts, "hosts", defHosts, hostsHelp)
	fs.StringVar(&f.modids, "modids", "1", "modid range LO-HI of the keys")
	fs.StringVar(&f.cmdids, "cmdids", "1-1000", "cmdid range LO-HI of the keys")
	fs.StringVar(&f.spread, "spread", "uniform", "how each agent's keys are drawn: uniform or zipf")
	fs.Float64Var(&f.zipfS, "zipf-s", loadgen.DefaultZipfS, "zipf exponent, above 1")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the key draws")
	fs.DurationVar(&f.duration, "duration", ctlplane.DefaultDuration, "how long the run makes its changes (dns) or sends (reporter)")
	fs.StringVar(&o.dsn, "db", "", "the service's store: sqlite:PATH or a MySQL DSN (dns: required, the changes are written there; reporter: the results it holds are counted)")
	fs.StringVar(&f.adminURL, "admin-url", "", "the service's admin base URL, e.g. http://127.0.0.1:6062: its /metrics is read during the run")
	fs.BoolVar(&o.doSweep, "sweep", false, "capacity search: steps of -step-duration at rising values until the objective is missed, then bisection")
	fs.DurationVar(&f.stepDur, "step-duration", ctlplane.DefaultStepDuration, "span of each sweep step")
	fs.Float64Var(&f.sweepStart, "sweep-start", 0, "first sweep value (dns: 100 agents or 1 change/s; reporter: 1000 frames/s)")
	fs.Float64Var(&f.sweepFactor, "sweep-factor", ctlplane.DefaultSweepFactor, "sweep growth per step until a miss, then bisection")
	fs.IntVar(&f.sweepRefine, "sweep-refine", ctlplane.DefaultSweepRefine, "bisection steps after the first miss")
	fs.IntVar(&f.sweepRetries, "sweep-retries", ctlplane.DefaultSweepRetries, "runs again a step that missed, this many times, before it counts as missed")
	fs.Float64Var(&f.sweepMax, "sweep-max", 0, "highest sweep value (default no limit; dns agents: what the open-file limit allows)")
	fs.StringVar(&o.jsonPath, "json", "", "write the report as JSON to FILE (- for stdout); schema in loadgen/SCHEMA.md")
	fs.StringVar(&o.csvPath, "csv", "", "write the per-second series (with -sweep: the steps) as CSV to FILE")
	fs.StringVar(&o.htmlPath, "html", "", "write a self-contained HTML page with plots to FILE")
	fs.BoolVar(&o.quiet, "quiet", false, "no live line per second on stderr")
	return fs
}

// parseServiceFlags parses the flags of the dns or reporter subcommand.
func parseServiceFlags(service string, args []string, oldSpelling bool) (*serviceOptions, *flag.FlagSet, error) {
	o := &serviceOptions{service: service}
	f := &serviceFlags{}
	fs := newServiceFlagSet(service, oldSpelling, o, f)
	var dns dnsFlags
	var rep reporterFlags
	if service == "dns" {
		dns.declare(fs)
	} else {
		rep.declare(fs)
	}
	var err error
	if f.set, err = parseFlagSet(fs, args); err != nil {
		return nil, fs, err
	}
	if err := f.check(); err != nil {
		return nil, fs, err
	}
	fleet, err := f.fleet()
	if err != nil {
		return nil, fs, err
	}
	if o.dsn != "" {
		if err := store.CheckDSN(o.dsn); err != nil {
			return nil, fs, fmt.Errorf("-db: %w", err)
		}
	}
	o.stepDur = f.stepDur
	o.search = ctlplane.Search{Start: f.sweepStart, Factor: f.sweepFactor, Refine: f.sweepRefine, Retries: f.sweepRetries, Max: f.sweepMax}
	if f.sweepRefine == 0 {
		o.search.Refine = -1
	}
	if f.sweepRetries == 0 {
		o.search.Retries = -1
	}
	if service == "dns" {
		err = dns.options(o, f, fleet)
	} else {
		err = rep.options(o, f, fleet)
	}
	if err != nil {
		return nil, fs, err
	}
	return o, fs, nil
}

// runDuration is -duration, or 0 (run until the count) when only -changes or
// -reports bounds the run.
func (f *serviceFlags) runDuration() time.Duration {
	if (f.set["changes"] || f.set["reports"]) && !f.set["duration"] {
		return 0
	}
	return f.duration
}

// check checks the shared flags.
func (f *serviceFlags) check() error {
	host, _, err := net.SplitHostPort(f.target)
	if err != nil {
		return fmt.Errorf("invalid -target %q: want HOST:PORT", f.target)
	}
	if ip, err := netip.ParseAddr(host); err == nil && !ip.IsLoopback() {
		return fmt.Errorf("invalid -target %q: the load generator drives services on loopback only", f.target)
	} else if err != nil && host != "localhost" {
		return fmt.Errorf("invalid -target %q: want a loopback address", f.target)
	}
	switch {
	case f.agents < 1:
		return fmt.Errorf("invalid -agents %d: want at least 1", f.agents)
	case f.keys < 1:
		return fmt.Errorf("invalid -keys %d: want at least 1", f.keys)
	case f.hosts < 1:
		return fmt.Errorf("invalid -hosts %d: want at least 1", f.hosts)
	case f.zipfS <= 1:
		return fmt.Errorf("invalid -zipf-s %v: must be above 1", f.zipfS)
	case f.duration <= 0 && !f.set["changes"] && !f.set["reports"]:
		return fmt.Errorf("invalid -duration %v: want a positive duration", f.duration)
	case f.stepDur <= 0:
		return fmt.Errorf("invalid -step-duration %v", f.stepDur)
	case f.sweepStart < 0 || f.set["sweep-start"] && f.sweepStart == 0:
		return fmt.Errorf("invalid -sweep-start %v: want a positive value", f.sweepStart)
	case f.sweepFactor <= 1:
		return fmt.Errorf("invalid -sweep-factor %v: must be above 1", f.sweepFactor)
	case f.sweepRefine < 0 || f.sweepRetries < 0 || f.sweepMax < 0:
		return errors.New("-sweep-refine, -sweep-retries and -sweep-max must not be negative")
	}
	if f.adminURL != "" && !strings.HasPrefix(f.adminURL, "http://") && !strings.HasPrefix(f.adminURL, "https://") {
		return fmt.Errorf("invalid -admin-url %q: want the service's admin base URL, e.g. http://127.0.0.1:6062", f.adminURL)
	}
	return nil
}

// fleet parses -target, -agents, -keys, -modids, -cmdids, -spread, -zipf-s and -seed.
func (f *serviceFlags) fleet() (ctlplane.Fleet, error) {
	fl := ctlplane.Fleet{Target: f.target, Agents: f.agents, Keys: f.keys, ZipfS: f.zipfS, Seed: f.seed}
	var err error
	if fl.Modids, err = loadgen.ParseRange(f.modids); err != nil {
		return fl, fmt.Errorf("-modids: %w", err)
	}
	if fl.Cmdids, err = loadgen.ParseRange(f.cmdids); err != nil {
		return fl, fmt.Errorf("-cmdids: %w", err)
	}
	mods, cmds := fl.Modids, fl.Cmdids
	if n := (int64(mods.Hi) - int64(mods.Lo) + 1) * (int64(cmds.Hi) - int64(cmds.Lo) + 1); n < int64(f.keys) {
		return fl, fmt.Errorf("invalid -keys %d: -modids x -cmdids holds only %d keys", f.keys, n)
	}
	fl.Spread, err = loadgen.ParseSpread(f.spread)
	return fl, err
}

// parseCallerBase parses -caller-base, an IPv4 address that leaves room for agents.
func parseCallerBase(s string, agents int) (int32, error) {
	ip, err := route.ParseWireIP(s)
	if err != nil || ip <= 0 || int64(ip)+int64(agents) > math.MaxInt32 {
		return 0, fmt.Errorf("invalid -caller-base %q: want an IPv4 address from 0.0.0.1 to 127.255.255.255 that leaves room for -agents", s)
	}
	return ip, nil
}

// serviceUsage writes the usage of the dns or reporter subcommand.
func serviceUsage(w io.Writer, service string, fs *flag.FlagSet) {
	fmt.Fprintf(w, `Usage: lars-loadgen %s [flags]
       lars-loadgen -service %s [flags]   (the old spelling)

`, service, service)
	if service == "dns" {
		fmt.Fprint(w, `Measures a route service (lars-dns): -agents simulated agents each pull and hold
-keys keys while routes change in the store (-db) at -changes-per-sec; every push is
timed from its change's commit. -sweep searches the most agents (or changes/s) that
meet -slo.

With -mode register, -agents simulated agents instead register -instances instances
each (Lease frames, msgid 105) over -modids x -cmdids, all at once, renew them every
-ttl/3, and replace -churn a second (LEASE_DROP and LEASE_NEW) and -expire a second
(left to expire) for -duration, while -subscribers connections pull every key and
time each instance's arrival and departure in the pushes. No -db: the route service
writes the leases; with -admin-url its lease writes are read from /metrics.`)
	} else {
		fmt.Fprint(w, `Measures a report service (lars-reporter): -agents simulated agents send -rate
status reports a second, -keys keys of -hosts hosts each; with -db the results the
store holds are counted, with -admin-url the service's reads, writes and drops.
-sweep searches the highest rate without a drop.`)
	}
	fmt.Fprint(w, `

Exit status: 0 done, 1 objective missed or run failed, 2 bad arguments.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/larsgo/lars/agent"
	"github.com/larsgo/lars/internal/admin"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/cli"
	"github.com/larsgo/lars/internal/httpguard"
	"github.com/larsgo/lars/internal/secretsrc"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// Exit codes: bad flags, configuration or routes file are exitUsage.
const (
	exitOK    = cli.ExitOK
	exitError = cli.ExitError
	exitUsage = cli.ExitUsage
)

// defaultShutdownLimit is how long a stop signal leaves the agent to flush and close,
// unless -shutdown-limit says otherwise.
const defaultShutdownLimit = 2 * time.Second

// options are the command-line flags.
type options struct {
	config, routes, listen, ports, dns, cache, reporter, admin, wait string
	zone                                                             string
	allowedHosts, adminTokenFile                                     string
	sockets, batch, maxKeys, maxRegistrations                        int
	cacheGroupReadable, allowRemoteRegister                          bool
	shutdownLimit                                                    time.Duration
	log                                                              cli.LogFlags
	policies                                                         policyFlags
	unknownKeys                                                      unknownKeyFlags
	// adminOpts guard the admin endpoint: -allowed-hosts, -admin-token-file.
	adminOpts admin.Options
	// tls names the agent's TLS files: -tls-cert, -tls-key, -tls-ca.
	tls tlsconf.Files
}

func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{}
	fs := flag.NewFlagSet("lars-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "Lars agent INI file: [reporter], [dnsserver], [loadbalance], [tls] (cert, key, ca) and [register] (instances the agent registers, re-read on SIGHUP) sections; flags override it")
	fs.StringVar(&o.routes, "routes", "", "routes file, one \"modid cmdid ip port [weight=N] [zone=NAME]\" per line, ip IPv4 or IPv6; serves these routes only (no route service), reloaded on SIGHUP")
	fs.StringVar(&o.listen, "listen", agent.DefaultListen, "address the UDP ports bind")
	fs.StringVar(&o.ports, "ports", "8888,8889,8890", "comma-separated UDP ports; every port answers every key")
	fs.IntVar(&o.sockets, "sockets", 0, "SO_REUSEPORT sockets (and serving goroutines) per port (default GOMAXPROCS)")
	fs.IntVar(&o.batch, "batch", 0, "datagrams per recvmmsg/sendmmsg call (default 64)")
	fs.StringVar(&o.wait, "wait", batchio.WaitBlocking.String(), "how serving goroutines wait for datagrams: block (each blocks its own thread in recvmmsg, woken by the kernel: lowest tail latency; GOMAXPROCS is raised to the sockets served + 1 unless the GOMAXPROCS variable is set) or poll (Go's netpoller: no thread held while idle)")
	fs.StringVar(&o.cache, "cache", "", "route cache FILE: the routes from the route service, written atomically when they change (at most every 5s) and at shutdown, served at start until fresh ones arrive (default [dnsserver] cache of -config, else none)")
	fs.BoolVar(&o.cacheGroupReadable, "group-readable", false, "write the route cache readable by its group (mode 0640) instead of its owner only (0600)")
	fs.StringVar(&o.dns, "dns", "", "route service HOST:PORT, or a comma-separated list tried in order, failing over to the next (default [dnsserver] of -config, else "+agent.DefaultRouteService+"); unused with -routes")
	fs.StringVar(&o.reporter, "reporter", "", "report service HOST:PORT (default [reporter] of -config, else none)")
	fs.StringVar(&o.admin, "admin", "", "admin HTTP address for /metrics, /routes, /healthz, /debug/pprof/ (default off; :PORT binds loopback; keep it there or give -admin-token-file)")
	fs.StringVar(&o.allowedHosts, "allowed-hosts", "", "comma-separated host `names` the admin endpoint answers besides loopback names and its -admin address (any other Host header: 421, which defeats DNS rebinding)")
	fs.StringVar(&o.adminTokenFile, "admin-token-file", "", "`FILE` whose first line (at least 16 characters) is a bearer token every admin request needs (Authorization: Bearer TOKEN)")
	fs.IntVar(&o.maxKeys, "max-keys", 0, fmt.Sprintf("most keys the agent creates on demand for get_host and get_route of keys it does not know; beyond it such requests are answered RET_NOEXIST and counted (default [loadbalance] max_keys of -config, else %d)", lb.DefaultMaxKeys))
	fs.IntVar(&o.maxRegistrations, "max-registrations", 0, fmt.Sprintf("most instances registered through the agent (its [register] lines and the processes'); beyond it a new one is refused and counted (default [register] max_registrations of -config, else %d)", agent.DefaultMaxRegistrations))
	fs.BoolVar(&o.allowRemoteRegister, "allow-remote-register", false, "take registrations (msgid 103) from sources off loopback, each for its own address only (possible only with -listen off loopback); without it they are dropped and counted ([register] allow_remote)")
	fs.DurationVar(&o.shutdownLimit, "shutdown-limit", defaultShutdownLimit, "how long a stop signal (SIGTERM, SIGINT) leaves the agent to flush the report service's queue, write the route cache and stop; past it the agent exits 1")
	fs.StringVar(&o.zone, "zone", "", "`NAME` of the zone this agent runs in: get_host prefers the hosts of that zone while enough of them are usable (-zone-min-usable), and counts the picks that leave it (default [loadbalance] zone of -config, else none)")
	tlsconf.RegisterFlags(fs, &o.tls, false)
	o.policies.register(fs)
	o.unknownKeys.register(fs)
	o.log.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: lars-agent [flags]\n\nThe Lars load-balancing agent.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.shutdownLimit <= 0 {
		return nil, nil, fmt.Errorf("invalid -shutdown-limit %v: want a positive duration", o.shutdownLimit)
	}
	return o, fs, nil
}

// buildConfig turns the flags (over the INI file, when given) into an agent.Config.
func buildConfig(o *options, fs *flag.FlagSet, stderr io.Writer) (agent.Config, *slog.Logger, error) {
	var cfg agent.Config
	logger, err := o.log.Logger(stderr)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Logger = logger
	if o.config != "" {
		if err := agent.LoadINI(o.config, &cfg); err != nil {
			return cfg, nil, err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	cfg.Listen = o.listen
	if cfg.Ports, err = parsePorts(o.ports); err != nil {
		return cfg, nil, err
	}
	if set["max-keys"] {
		if o.maxKeys <= 0 {
			return cfg, nil, fmt.Errorf("invalid -max-keys %d: want at least 1", o.maxKeys)
		}
		cfg.Table.MaxKeys = o.maxKeys
	}
	if set["max-registrations"] {
		if o.maxRegistrations <= 0 {
			return cfg, nil, fmt.Errorf("invalid -max-registrations %d: want at least 1", o.maxRegistrations)
		}
		cfg.MaxRegistrations = o.maxRegistrations
	}
	if set["allow-remote-register"] {
		cfg.AllowRemoteRegister = o.allowRemoteRegister
	}
	if o.sockets < 0 {
		return cfg, nil, fmt.Errorf("invalid -sockets %d: want at least 1", o.sockets)
	}
	cfg.SocketsPerPort, cfg.BatchSize = o.sockets, o.batch
	if cfg.Wait, err = batchio.ParseWait(o.wait); err != nil {
		return cfg, nil, fmt.Errorf("invalid -wait: %w", err)
	}
	cfg.RoutesFile = o.routes
	if set["zone"] {
		if o.zone != "" {
			if err := route.CheckZone(o.zone); err != nil {
				return cfg, nil, fmt.Errorf("invalid -zone: %w", err)
			}
		}
		cfg.Table.Zone = o.zone
	}
	if err := o.policies.apply(set, &cfg.Table.Policies); err != nil {
		return cfg, nil, err
	}
	if err := o.unknownKeys.apply(set, &cfg); err != nil {
		return cfg, nil, err
	}
	if set["dns"] {
		addrs, err := agent.SplitAddrs(o.dns)
		if err != nil {
			return cfg, nil, fmt.Errorf("invalid -dns %q: want HOST:PORT[,HOST:PORT...]: %w", o.dns, err)
		}
		cfg.RouteService = addrs
	}
	if set["cache"] {
		cfg.CacheFile = o.cache
	}
	cfg.CacheGroupReadable = o.cacheGroupReadable
	for _, k := range []struct {
		flag, v string
		to      *string
	}{{"tls-cert", o.tls.Cert, &cfg.TLS.Cert}, {"tls-key", o.tls.Key, &cfg.TLS.Key}, {"tls-ca", o.tls.CA, &cfg.TLS.CA}} {
		if set[k.flag] {
			*k.to = k.v
		}
	}
	if cfg.CacheFile != "" && cfg.RoutesFile != "" {
		return cfg, nil, fmt.Errorf("-cache %q: a route cache is for routes from the route service, not with -routes", cfg.CacheFile)
	}
	if set["reporter"] {
		if o.reporter != "" {
			if err := cli.CheckHostPort("-reporter", o.reporter, false); err != nil {
				return cfg, nil, err
			}
		}
		cfg.ReportService = o.reporter
	}
	if o.admin != "" {
		if err := cli.CheckHostPort("-admin", o.admin, true); err != nil {
			return cfg, nil, err
		}
	}
	if o.adminOpts.AllowedHosts, err = httpguard.ParseHosts(o.allowedHosts); err != nil {
		return cfg, nil, fmt.Errorf("-allowed-hosts: %w", err)
	}
	if o.adminTokenFile != "" {
		if o.adminOpts.Token, err = secretsrc.Token("-admin-token-file", o.adminTokenFile, minAdminToken); err != nil {
			return cfg, nil, err
		}
	}
	return cfg, logger, nil
}

// minAdminToken is the shortest token -admin-token-file takes.
const minAdminToken = 16

func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("invalid -ports %q: want comma-separated ports in 1..65535", s)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// run is the whole command: it returns the exit code once a stop signal arrives or the
// agent fails. SIGHUP reloads the routes file and the TLS files.
func run(args []string, stderr io.Writer, signals <-chan os.Signal) int {
	o, fs, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "lars-agent: %v\n", err)
		return exitUsage
	}
	cfg, log, err := buildConfig(o, fs, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lars-agent: %v\n", err)
		return exitUsage
	}
	a, err := agent.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "lars-agent: %v\n", err)
		return exitUsage
	}
	if cfg.Wait == batchio.WaitBlocking && os.Getenv("GOMAXPROCS") == "" {
		if prev := batchio.ReserveProcs(a.ServingSockets()); prev != runtime.GOMAXPROCS(0) {
			log.Info("GOMAXPROCS raised: a P for each blocked serving thread, and one more",
				"from", prev, "gomaxprocs", runtime.GOMAXPROCS(0))
		}
	}
	var adm *admin.Server
	if o.admin != "" {
		if adm, err = admin.Start(o.admin, a.AdminHandler(), log, o.adminOpts); err != nil {
			a.Close()
			fmt.Fprintf(stderr, "lars-agent: %v\n", err)
			return exitUsage
		}
	}
	a.Start()
	for s := range signals {
		if s == syscall.SIGHUP {
			reload(a, cfg, o.config, log)
			continue
		}
		log.Info("stopping", "signal", s.String())
		break
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.shutdownLimit)
	defer cancel()
	code := exitOK
	if adm != nil {
		_ = adm.Shutdown(ctx)
	}
	if err := a.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
		code = exitError
	}
	log.Info("stopped")
	return code
}

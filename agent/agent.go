// Package agent is the Lars load-balancing agent as a library: batched UDP serving of
// get_host, report and get_route, route sources (a routes file or the Lars route
// service), the report service client, the admin endpoint and the lifecycle.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/agent/upstream"
	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// maxTooLargeLogged bounds the keys remembered for "route too large" logging.
const maxTooLargeLogged = 10000

// Agent is a running Lars agent. Create it with New, start it with Start, stop it with
// Shutdown. Its methods are safe for concurrent use.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	table   *lb.Table
	workers []*worker
	stats   []workerStats
	addrs   []netip.AddrPort

	routes *upstream.RouteClient  // nil when routes are static
	report *upstream.ReportClient // nil without a report service

	cancel   context.CancelFunc
	serveWG  sync.WaitGroup // serving goroutines
	bgWG     sync.WaitGroup // sweeper and upstream clients
	started  atomic.Bool
	stopOnce sync.Once
	tls      *tlsconf.Client // nil: the links are plaintext
	// tlsReloads and tlsReloadErr count ReloadTLS's successes and failures.
	tlsReloads, tlsReloadErr atomic.Uint64
	reloads                  atomic.Uint64
	reloadErr                atomic.Uint64

	// Route cache (CacheFile): keys loaded at start, writes, failed loads and writes,
	// and the route client's applied answers at the last write (cacheLoop only).
	cacheLoaded  atomic.Uint64
	cacheWritten atomic.Uint64
	cacheErrors  atomic.Uint64
	cacheApplied uint64

	tooLargeMu     sync.Mutex
	tooLargeLogged map[route.Key]bool

	limiter *sourceLimiter // unknown keys per source; nil with static routes or no limit
	reg     *registry      // instances registered through the agent (issue 31)
}

// New binds the agent's sockets and loads its routes; nothing is served until Start.
// A bad configuration or routes file is reported as an error, and nothing is left open.
func New(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, tooLargeLogged: map[route.Key]bool{}}
	a.table = lb.NewTable(cfg.Table)
	a.reg = newRegistry(cfg.MaxRegistrations, cfg.Table.Clock, nil, a.log.With("part", "registrations"))
	if !cfg.static() && cfg.UnknownKeyRate > 0 {
		a.limiter = newSourceLimiter(cfg.UnknownKeyRate, cfg.UnknownKeySources, nil)
	}
	switch {
	case cfg.Routes != nil:
		a.table.ReplaceRoutes(cfg.Routes)
	case cfg.RoutesFile != "":
		routes, err := LoadRoutesFile(cfg.RoutesFile)
		if err != nil {
			return nil, err
		}
		a.table.ReplaceRoutes(routes)
	}
	if cfg.TLS.Enabled() && (!cfg.static() || cfg.ReportService != "") {
		if a.tls, err = tlsconf.NewClient(cfg.TLS); err != nil {
			return nil, fmt.Errorf("TLS files: %w", err)
		}
	}
	if err := a.bind(); err != nil {
		a.closeSockets()
		return nil, err
	}
	if !cfg.static() && cfg.CacheFile != "" {
		a.loadCache()
	}
	if !cfg.static() {
		a.routes = upstream.NewRouteClient(upstream.RouteClientConfig{
			Addrs: cfg.RouteService, Table: a.table, Link: upstream.Link{Logger: a.log.With("link", "route_service"), TLS: a.tls},
			Registrations: a.reg,
		})
		a.reg.routes = a.routes
	}
	// The INI's registrations join once the route client is known: before, they would
	// be refused as if the agent served static routes.
	if err := a.reg.setINI(cfg.Registrations); err != nil {
		a.closeSockets()
		return nil, err
	}
	if cfg.ReportService != "" {
		caller, _ := route.WireIP(cfg.Caller) // IPv4: validated by withDefaults
		a.report = upstream.NewReportClient(upstream.ReportClientConfig{
			Addr: cfg.ReportService, Statuses: a.table.Statuses(), Caller: caller,
			Link: upstream.Link{Logger: a.log.With("link", "report_service"), TLS: a.tls},
		})
	}
	return a, nil
}

// bind opens SocketsPerPort sockets on every port. With port 0, the first socket picks
// an ephemeral port and the others join it.
func (a *Agent) bind() error {
	opts := batchio.ListenOptions{ReusePort: true}
	if a.cfg.SocketBuffer > 0 {
		opts.RecvBuf, opts.SendBuf = a.cfg.SocketBuffer, a.cfg.SocketBuffer
	}
	n := len(a.cfg.Ports) * a.cfg.SocketsPerPort
	a.stats = make([]workerStats, n)
	for _, port := range a.cfg.Ports {
		for range a.cfg.SocketsPerPort {
			addr := net.JoinHostPort(a.cfg.Listen, strconv.Itoa(port))
			conn, err := batchio.Listen("udp", addr, opts, a.cfg.Wait)
			if err != nil {
				return fmt.Errorf("cannot listen on udp %s: %w", addr, err)
			}
			ap := conn.LocalAddr().(*net.UDPAddr).AddrPort()
			port = int(ap.Port())
			s := &a.stats[len(a.workers)]
			h := newHandler(a.table, s, a.routeTooLarge)
			h.setLimiter(a.limiter)
			h.remoteRoute = a.cfg.AllowRemoteGetRoute
			h.reg, h.remoteRegister = a.reg, a.cfg.AllowRemoteRegister
			a.workers = append(a.workers, &worker{
				conn:  conn,
				recv:  batchio.NewBatch(a.cfg.BatchSize, batchio.DefaultSlotSize),
				send:  batchio.NewBatch(a.cfg.BatchSize, batchio.DefaultSlotSize),
				h:     h,
				stats: s,
			})
		}
		a.addrs = append(a.addrs, a.workers[len(a.workers)-1].conn.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	return nil
}

// Start starts serving, the periodic sweep and the links to the route and report
// services. It returns at once.
func (a *Agent) Start() {
	if !a.started.CompareAndSwap(false, true) {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	for _, w := range a.workers {
		a.serveWG.Add(1)
		go func() {
			defer a.serveWG.Done()
			if err := w.serve(); err != nil {
				a.log.Error("serving stopped", "addr", w.conn.LocalAddr(), "err", err)
			}
		}()
	}
	a.bgWG.Add(1)
	go func() {
		defer a.bgWG.Done()
		a.sweep(ctx)
	}()
	a.bgWG.Add(1)
	go func() {
		defer a.bgWG.Done()
		a.reg.run(ctx)
	}()
	if a.routes != nil {
		a.bgWG.Add(1)
		go func() {
			defer a.bgWG.Done()
			_ = a.routes.Run(ctx)
		}()
		if a.cfg.CacheFile != "" {
			a.bgWG.Add(1)
			go func() {
				defer a.bgWG.Done()
				a.cacheLoop(ctx)
			}()
		}
	}
	if a.report != nil {
		a.bgWG.Add(1)
		go func() {
			defer a.bgWG.Done()
			_ = a.report.Run(ctx)
		}()
	} else {
		a.bgWG.Add(1)
		go func() {
			defer a.bgWG.Done()
			a.discardStatuses(ctx)
		}()
	}
	a.log.Info("agent serving", "addrs", a.addrs, "sockets", len(a.workers), "static_routes", a.cfg.static(),
		"route_service", strings.Join(a.cfg.RouteService, ","), "report_service", a.cfg.ReportService)
}

// dropLogInterval is how often, at most, dropped datagrams are logged.
const dropLogInterval = 10 * time.Second

// sweep runs the table's periodic work until ctx is done, and logs dropped datagrams
// by reason at most once per dropLogInterval: the serving loops only count them.
func (a *Agent) sweep(ctx context.Context) {
	t := time.NewTicker(a.cfg.SweepInterval)
	defer t.Stop()
	var logged [numDropReasons]uint64
	lastLog := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			a.table.Sweep()
			if now.Sub(lastLog) >= dropLogInterval {
				lastLog = now
				a.logDrops(&logged)
			}
		}
	}
}

// logDrops logs the drops counted since the last call, if any, and remembers the totals.
func (a *Agent) logDrops(logged *[numDropReasons]uint64) {
	c := a.Counters()
	var attrs []any
	for r := DropReason(0); r < numDropReasons; r++ {
		if n := c.Drops[r] - logged[r]; n > 0 {
			attrs = append(attrs, r.String(), n)
		}
		logged[r] = c.Drops[r]
	}
	if len(attrs) > 0 {
		a.log.Warn("datagrams dropped in the last interval", append(attrs, "interval", dropLogInterval.String())...)
	}
}

// discardStatuses empties the status queue when there is no report service, so the
// table does not count every status as dropped.
func (a *Agent) discardStatuses(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.table.Statuses():
		}
	}
}

// Shutdown stops reading datagrams, lets the report service client flush what is
// queued, closes every connection and waits for every goroutine, or until ctx is done.
func (a *Agent) Shutdown(ctx context.Context) error {
	var err error
	a.stopOnce.Do(func() {
		a.closeSockets()
		if !a.started.Load() {
			return
		}
		done := make(chan struct{})
		go func() {
			a.serveWG.Wait()
			a.table.Sweep() // last statuses for the report service
			a.cancel()
			a.bgWG.Wait()
			if a.routes != nil && a.cfg.CacheFile != "" {
				a.writeCacheIfChanged() // the routes as they are at shutdown
			}
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			a.cancel()
			err = fmt.Errorf("agent shutdown: %w", ctx.Err())
		}
	})
	return err
}

// Close is Shutdown with a 2-second limit.
func (a *Agent) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return a.Shutdown(ctx)
}

func (a *Agent) closeSockets() {
	for _, w := range a.workers {
		w.conn.Close()
	}
}

// Reload re-reads the routes file and applies it: hosts kept keep their state, hosts
// and keys gone are removed. On error the routes in force stay and the error says why.
func (a *Agent) Reload() error {
	if a.cfg.RoutesFile == "" {
		return errors.New("no routes file to reload")
	}
	routes, err := LoadRoutesFile(a.cfg.RoutesFile)
	if err != nil {
		a.reloadErr.Add(1)
		return err
	}
	a.table.ReplaceRoutes(routes)
	a.reloads.Add(1)
	return nil
}

// Addrs returns the address of each served port, in the order of Config.Ports.
func (a *Agent) Addrs() []netip.AddrPort { return append([]netip.AddrPort(nil), a.addrs...) }

// Table returns the agent's route table.
func (a *Agent) Table() *lb.Table { return a.table }

// Counters sums the serving goroutines' counters.
func (a *Agent) Counters() Counters {
	var c Counters
	for i := range a.stats {
		c.add(&a.stats[i])
	}
	return c
}

// routeTooLarge logs, once per key, that a route did not fit in one datagram.
func (a *Agent) routeTooLarge(modid, cmdid int32, hosts int) {
	k := route.Key{Modid: modid, Cmdid: cmdid}
	a.tooLargeMu.Lock()
	first := !a.tooLargeLogged[k] && len(a.tooLargeLogged) < maxTooLargeLogged
	if first {
		a.tooLargeLogged[k] = true
	}
	a.tooLargeMu.Unlock()
	if first {
		a.log.Warn("route too large for one datagram, answered empty", "modid", modid, "cmdid", cmdid, "hosts", hosts)
	}
}

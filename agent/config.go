package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// Defaults of Config.
const (
	DefaultListen        = "127.0.0.1"
	DefaultRouteService  = "127.0.0.1:7778"
	DefaultSweepInterval = 100 * time.Millisecond
	DefaultSocketBuffer  = 4 << 20
	// DefaultNegativeTTL is how long a key the route service answered empty is kept
	// without pulls, so that callers asking for a service that does not exist do not
	// send the route service one pull per call.
	DefaultNegativeTTL = time.Second
	// DefaultUnknownKeyRate is how many keys a second one source may make the agent
	// create, in bursts of as many: a client asks for a handful of services; a flood
	// of made-up keys from one source is held to this.
	DefaultUnknownKeyRate = 1000
	// DefaultUnknownKeySources is how many sources the rate limit of unknown keys
	// remembers (about 40 bytes each).
	DefaultUnknownKeySources = 4096
	// maxUnknownKeySources caps UnknownKeySources: about 40 MB of buckets.
	maxUnknownKeySources = 1 << 20
)

// DefaultPorts are the UDP ports of a Lars agent; the Lars API sends key (modid, cmdid)
// to DefaultPorts[(modid+cmdid)%3].
var DefaultPorts = []int{8888, 8889, 8890}

// Config configures an Agent. Its zero value is an agent on 127.0.0.1:8888-8890 pulling
// routes from a route service on 127.0.0.1:7778 with the Lars balancing settings.
type Config struct {
	// Listen is the address the UDP sockets bind. Default 127.0.0.1: Lars binds every
	// interface, which lets any host mark a service's hosts overloaded with forged
	// reports, so another address must be asked for.
	Listen string
	// Ports are the UDP ports served; every port answers every key. Default 8888,
	// 8889, 8890. Port 0 binds an ephemeral port (tests).
	Ports []int
	// SocketsPerPort is the number of SO_REUSEPORT sockets, each with its own serving
	// goroutine, per port. Default GOMAXPROCS.
	SocketsPerPort int
	// BatchSize is the number of datagrams read (recvmmsg) and answered (sendmmsg) per
	// system call. Default 64.
	BatchSize int
	// Wait is how each serving goroutine waits for datagrams. Default
	// batchio.WaitBlocking: it blocks its own OS thread in recvmmsg on a socket
	// outside Go's netpoller, and the kernel wakes that thread when a datagram
	// arrives, which keeps the tail latency under load close to a C server's.
	// batchio.WaitPoll parks it in the netpoller instead, holding no thread while
	// idle, at the cost of an extra wake-up per batch.
	Wait batchio.Wait
	// SocketBuffer sets SO_RCVBUF and SO_SNDBUF of each socket (the kernel caps it).
	// Default 4 MiB; negative keeps the system default.
	SocketBuffer int

	// Routes, when not nil, makes the agent serve these routes and nothing else: no
	// route service is used. RoutesFile does the same from a file (see
	// LoadRoutesFile), re-read by Reload.
	Routes     map[route.Key][]route.Host
	RoutesFile string
	// RouteService are the Lars route service's TCP addresses, host:port each, used
	// when neither Routes nor RoutesFile is set; tried in order: the agent fails over
	// to the next when one cannot be reached or its connection is lost. Default
	// [127.0.0.1:7778]. SplitAddrs reads the comma-separated form of -dns and the INI.
	RouteService []string
	// CacheFile, when set, is the route cache: the agent writes the routes the route
	// service gave it there (atomically, at most every CacheInterval when they changed,
	// and at shutdown), and at start serves the cached routes at once while it pulls
	// fresh ones. A missing or damaged cache is logged and ignored. Unused with Routes or
	// RoutesFile.
	CacheFile string
	// CacheInterval is how often, at most, the route cache is written. Default 5s.
	CacheInterval time.Duration
	// CacheGroupReadable writes the route cache readable by its group (0640) instead
	// of its owner only (0600).
	CacheGroupReadable bool
	// TLS names the agent's TLS files. With any (Enabled), the links to the route and
	// report services are TLS: CA verifies the services (their certificates must name
	// the addresses dialed), Cert and Key are the agent's identity, which mutual TLS
	// services require. ReloadTLS reads them again. None: plain Lars framing, as the
	// C++ services speak. Unused with static routes and no report service.
	TLS tlsconf.Files
	// ReportService is the Lars report service's TCP address. Empty: no report
	// service; the statistics are on the admin endpoint only.
	ReportService string
	// Caller is this machine's IPv4 address as the report service sees it. Default:
	// the first non-loopback IPv4 address of the machine, else 127.0.0.1.
	Caller netip.Addr

	// Table configures the route table: balancing settings, shards, key limit, queue
	// sizes. Static is set by the agent from the route source. NegativeTTL defaults
	// to DefaultNegativeTTL here; a negative value gives Lars's behaviour (an empty
	// answer removes the key and the next get pulls it again).
	Table lb.Config
	// UnknownKeyRate is how many keys a second one source (address and port on
	// loopback, address elsewhere) may make the agent create and pull with get_host or
	// get_route of keys it does not hold, in bursts of as many; beyond it such requests
	// are answered as for an unknown key, without creating it, and counted. Default
	// DefaultUnknownKeyRate; negative: no limit. Unused with static routes.
	UnknownKeyRate int
	// UnknownKeySources bounds the sources whose rate is tracked; a source forgotten
	// to make room for another starts again with a full burst (counted). Default
	// DefaultUnknownKeySources.
	UnknownKeySources int
	// AllowRemoteGetRoute makes the agent answer get_route from sources off loopback
	// (possible only when Listen is not a loopback address); without it such requests
	// are dropped and counted. Even then an answer to such a source is at most 3 times
	// the size of its request (a larger route is answered empty, counted): a forged
	// source address must not turn the agent into a traffic amplifier toward it.
	// Loopback sources are not affected.
	AllowRemoteGetRoute bool

	// Registrations are instances the agent registers itself, for processes that
	// cannot (the INI's [register] lines): they never expire at the agent. Processes
	// register theirs with RegisterRequests (msgid 103; see docs/agent.md).
	Registrations []Registration
	// MaxRegistrations bounds the registrations the agent keeps, its own and the
	// processes'; beyond it a new one is refused and counted. Default
	// DefaultMaxRegistrations.
	MaxRegistrations int
	// AllowRemoteRegister takes RegisterRequests from sources off loopback (possible
	// only when Listen is not a loopback address), each for its own address only;
	// without it they are dropped and counted, as a host could otherwise put any
	// address into the route.
	AllowRemoteRegister bool

	// SweepInterval is how often timeouts, pull retries and status reports are checked;
	// it is the resolution of every timeout of the balancing settings. Default 100ms.
	SweepInterval time.Duration

	// Logger receives the agent's logs. Default slog.Default().
	Logger *slog.Logger
}

// static reports whether the routes come from a file or the caller, not a route service.
func (c *Config) static() bool { return c.Routes != nil || c.RoutesFile != "" }

// withDefaults returns the configuration with every zero field set to its default,
// or an error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if _, err := netip.ParseAddr(c.Listen); err != nil {
		return c, fmt.Errorf("invalid listen address %q: %w", c.Listen, err)
	}
	if len(c.Ports) == 0 {
		c.Ports = DefaultPorts
	}
	for _, p := range c.Ports {
		if p < 0 || p > 65535 {
			return c, fmt.Errorf("invalid port %d: want 0..65535", p)
		}
	}
	if c.SocketsPerPort == 0 {
		c.SocketsPerPort = runtime.GOMAXPROCS(0)
	}
	if c.SocketsPerPort < 0 || c.SocketsPerPort > 256 {
		return c, fmt.Errorf("invalid sockets per port %d: want 1..256", c.SocketsPerPort)
	}
	if c.BatchSize == 0 {
		c.BatchSize = batchio.DefaultBatchSize
	}
	if c.BatchSize < 0 || c.BatchSize > 1024 {
		return c, fmt.Errorf("invalid batch size %d: want 1..1024", c.BatchSize)
	}
	if !c.Wait.Valid() {
		return c, fmt.Errorf("invalid wait mode %v: want block or poll", c.Wait)
	}
	if c.SocketBuffer == 0 {
		c.SocketBuffer = DefaultSocketBuffer
	}
	if c.CacheInterval <= 0 {
		c.CacheInterval = DefaultCacheInterval
	}
	if c.Routes != nil && c.RoutesFile != "" {
		return c, errors.New("routes and a routes file are exclusive")
	}
	if !c.static() {
		if len(c.RouteService) == 0 {
			c.RouteService = []string{DefaultRouteService}
		}
		if err := checkAddrs(c.RouteService); err != nil {
			return c, fmt.Errorf("invalid route service: %w", err)
		}
	}
	if c.UnknownKeyRate == 0 {
		c.UnknownKeyRate = DefaultUnknownKeyRate
	}
	if c.UnknownKeySources == 0 {
		c.UnknownKeySources = DefaultUnknownKeySources
	}
	if c.UnknownKeySources < 0 || c.UnknownKeySources > maxUnknownKeySources {
		return c, fmt.Errorf("invalid unknown-key sources %d: want 1..%d", c.UnknownKeySources, maxUnknownKeySources)
	}
	if c.MaxRegistrations == 0 {
		c.MaxRegistrations = DefaultMaxRegistrations
	}
	if c.MaxRegistrations < 0 {
		return c, fmt.Errorf("invalid max registrations %d: want at least 1", c.MaxRegistrations)
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.SweepInterval < 0 {
		return c, fmt.Errorf("invalid sweep interval %v", c.SweepInterval)
	}
	if c.Table.Settings == (lb.Settings{}) {
		c.Table.Settings = lb.DefaultSettings()
	}
	if err := c.Table.Settings.Validate(); err != nil {
		return c, err
	}
	if err := c.Table.Policies.Validate(c.Table.Settings); err != nil {
		return c, err
	}
	if c.Table.Zone != "" {
		if err := route.CheckZone(c.Table.Zone); err != nil {
			return c, fmt.Errorf("invalid zone: %w", err)
		}
	}
	c.Table.Static = c.static()
	switch {
	case c.Table.NegativeTTL == 0:
		c.Table.NegativeTTL = DefaultNegativeTTL
	case c.Table.NegativeTTL < 0:
		c.Table.NegativeTTL = 0 // Lars: an empty answer removes the key, the next get pulls again
	}
	if !c.Caller.IsValid() {
		c.Caller = localIPv4()
	}
	if !c.Caller.Unmap().Is4() {
		return c, fmt.Errorf("invalid caller address %s: want IPv4", c.Caller)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// SplitAddrs splits a comma-separated list of host:port addresses (spaces around
// each allowed) into the list RouteService takes. Every element must be a host:port
// with a port; an empty element or a duplicate is an error.
func SplitAddrs(list string) ([]string, error) {
	addrs := strings.Split(list, ",")
	for i, a := range addrs {
		addrs[i] = strings.TrimSpace(a)
	}
	if err := checkAddrs(addrs); err != nil {
		return nil, fmt.Errorf("%w in %q", err, list)
	}
	return addrs, nil
}

// checkAddrs checks that every address is a host:port with a port, and none is
// listed twice.
func checkAddrs(addrs []string) error {
	for i, a := range addrs {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return fmt.Errorf("%q is not HOST:PORT", a)
		}
		if slices.Contains(addrs[:i], a) {
			return fmt.Errorf("%s listed twice", a)
		}
	}
	return nil
}

// cacheMode is the mode the route cache is written with.
func (c *Config) cacheMode() fs.FileMode {
	if c.CacheGroupReadable {
		return CacheGroupFileMode
	}
	return CacheFileMode
}

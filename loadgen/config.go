package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/larsgo/lars/loadgen/hostmodel"
)

// Kind is a request type.
type Kind uint8

// Request types. Only get_host and get_route are answered.
const (
	KindGetHost Kind = iota
	KindGetRoute
	KindReport
	numKinds
)

// answered is the number of kinds that get an answer (KindGetHost and KindGetRoute).
const answered = 2

var kindNames = [numKinds]string{"get_host", "get_route", "report"}

// String returns the request type's name as the -mix flag and the JSON report spell it.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "unknown"
}

// Mix is the share of each request type, by relative weight indexed by Kind.
type Mix [numKinds]int

// Range is an inclusive range of int32 values, such as modids 1-1000.
type Range struct{ Lo, Hi int32 }

// Spread says how keys are drawn from the key space.
type Spread uint8

// Spreads.
const (
	Uniform Spread = iota // every key equally often
	Zipf                  // key i (in modid-major order) with weight 1/(i+1)^ZipfS
)

// MaxTimeout is the largest Timeout: latencies are stored as uint32 nanoseconds.
const MaxTimeout = 4 * time.Second

// Defaults of Config.
const (
	DefaultTarget       = "127.0.0.1"
	DefaultDuration     = 10 * time.Second
	DefaultTimeout      = time.Second
	DefaultConcurrency  = 64
	DefaultZipfS        = 1.1
	DefaultBatch        = 64
	DefaultSocketBuffer = 4 << 20
)

// DefaultPorts are the agent's UDP ports.
var DefaultPorts = []int{8888, 8889, 8890}

// Config describes one load run. Its zero value is a 10-second closed loop of 64
// get_host requests in flight for key (1, 1) to 127.0.0.1:8888-8890.
type Config struct {
	// Target is the agent's IP address. Default 127.0.0.1.
	Target string
	// Ports are the agent's UDP ports; key (modid, cmdid) goes to
	// Ports[(modid+cmdid) % len(Ports)], as the Lars API does. Default 8888, 8889, 8890.
	Ports []int
	// Sockets is the number of client sockets, spread over the ports round robin
	// (socket i sends to Ports[i % len(Ports)]); raised to len(Ports) when smaller.
	// Default len(Ports).
	Sockets int

	// Mix weighs the request types. Default: get_host only.
	Mix Mix
	// ReportAfter sends a report for the chosen host after every successful get_host
	// answer, as business code does after its call. Implied by ReportFail and FailHosts.
	ReportAfter bool
	// ReportFail is the probability (0..1) that such a report says the call failed.
	ReportFail float64
	// FailHosts, when not empty, makes reports fail for these hosts and only these
	// (ReportFail is then ignored).
	FailHosts []netip.AddrPort
	// Hosts models the called hosts (latency, failures, flapping): every report then
	// says how the modelled call went, with its latency in latency_us, instead of
	// ReportFail and FailHosts. Implies ReportAfter. Default: no model.
	Hosts hostmodel.Model

	// Modids and Cmdids are the key ranges. Default 1-1 each.
	Modids, Cmdids Range
	// Spread is how keys are drawn. Default Uniform.
	Spread Spread
	// ZipfS is the Zipf exponent, above 1. Default 1.1.
	ZipfS float64

	// Rate, when positive, runs an open loop: requests are sent at this constant rate
	// per second whatever the answers, and latencies are measured from each request's
	// intended send time. Zero runs a closed loop of Concurrency requests in flight.
	Rate float64
	// Concurrency is the closed loop's number of requests in flight (reports excluded:
	// they count as done when sent). Default 64.
	Concurrency int
	// SharedWindow keeps the closed loop's requests in one window shared by every
	// socket, refilled by one sender goroutine with keys drawn from the whole key
	// space: the mix of keys sent stays exact even when one port answers slower or
	// loses requests. By default each socket keeps its own share of the window
	// (Concurrency times its port's share of the keys) and refills it itself as answers
	// come, which costs the load generator less CPU per request, but a port that loses
	// or delays answers is then sent fewer requests, as independent clients per port
	// would. Windows too small to give every port with keys 4 requests are shared.
	SharedWindow bool

	// Duration bounds the measured part of the run. Default 10s unless Requests is set.
	Duration time.Duration
	// Requests, when positive, ends the run after this many measured requests (all
	// types) have been sent, or at Duration if that is set and comes first.
	Requests uint64
	// Warmup is a span at the start whose requests are sent but not measured. Default
	// none.
	Warmup time.Duration
	// Timeout is how long a request waits for its answer; later answers count as late.
	// Default 1s, at most MaxTimeout.
	Timeout time.Duration

	// Batch is the number of datagrams per sendmmsg/recvmmsg call. Default 64.
	Batch int
	// SocketBuffer sets SO_RCVBUF and SO_SNDBUF. Default 4 MiB; negative keeps the
	// system default.
	SocketBuffer int
	// Echo accepts an echoed request as its own answer (get_host with retcode succ,
	// get_route with no host), to measure the load generator against the echo server.
	Echo bool
	// Seed seeds the key, mix and failure draws. Default 1, so runs repeat.
	Seed uint64

	// Live, when not nil, receives one line per second: rate, p99 of that second and
	// errors.
	Live io.Writer

	// clock, set by this package's tests only, replaces the monotonic clock and the
	// pacer (see clock). Nil in every real run.
	clock clock
}

// ErrConfig is wrapped by every error about a Config.
var ErrConfig = errors.New("bad load configuration")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// withDefaults returns a copy of c with every zero field set to its default, or an
// error for a field out of range.
func (c Config) withDefaults() (Config, error) {
	for _, fill := range []func() error{c.fillAddresses, c.fillTraffic, c.fillLoop} {
		if err := fill(); err != nil {
			return c, err
		}
	}
	return c, nil
}

// fillAddresses checks and fills in the target, its ports and the sockets.
func (c *Config) fillAddresses() error {
	if c.Target == "" {
		c.Target = DefaultTarget
	}
	if _, err := netip.ParseAddr(c.Target); err != nil {
		return configErr("target %q is not an IP address", c.Target)
	}
	if len(c.Ports) == 0 {
		c.Ports = DefaultPorts
	}
	for _, p := range c.Ports {
		if p < 1 || p > 65535 {
			return configErr("port %d out of 1..65535", p)
		}
	}
	c.Sockets = max(c.Sockets, len(c.Ports))
	if c.Sockets > 1024 {
		return configErr("%d sockets: at most 1024", c.Sockets)
	}
	return nil
}

// fillTraffic checks and fills in the mix, the reports, the keys and their spread.
func (c *Config) fillTraffic() error {
	var total int
	for _, w := range c.Mix {
		if w < 0 {
			return configErr("negative mix weight")
		}
		total += w
	}
	if total == 0 {
		c.Mix = Mix{KindGetHost: 1}
	}
	if c.ReportFail < 0 || c.ReportFail > 1 {
		return configErr("report failure ratio %v out of 0..1", c.ReportFail)
	}
	if c.ReportFail > 0 || len(c.FailHosts) > 0 || !c.Hosts.Empty() {
		c.ReportAfter = true
	}
	if c.Modids == (Range{}) {
		c.Modids = Range{1, 1}
	}
	if c.Cmdids == (Range{}) {
		c.Cmdids = Range{1, 1}
	}
	if c.Modids.Lo > c.Modids.Hi || c.Cmdids.Lo > c.Cmdids.Hi {
		return configErr("empty key range")
	}
	if n := keyCount(c.Modids, c.Cmdids); n > maxKeys {
		return configErr("%d keys: at most %d", n, maxKeys)
	}
	if c.Spread > Zipf {
		return configErr("unknown spread %d", c.Spread)
	}
	if c.ZipfS == 0 {
		c.ZipfS = DefaultZipfS
	}
	if c.ZipfS <= 1 {
		return configErr("zipf exponent %v: must be above 1", c.ZipfS)
	}
	return nil
}

// fillLoop checks and fills in the loop's rate or concurrency, its span, timeout,
// batches, socket buffers and seed.
func (c *Config) fillLoop() error {
	if c.Rate < 0 {
		return configErr("negative rate")
	}
	if c.Concurrency < 0 {
		return configErr("negative concurrency")
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Duration < 0 || c.Warmup < 0 {
		return configErr("negative duration or warm-up")
	}
	if c.Duration == 0 && c.Requests == 0 {
		c.Duration = DefaultDuration
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < 0 || c.Timeout > MaxTimeout {
		return configErr("timeout %v out of (0, %v]", c.Timeout, MaxTimeout)
	}
	if c.Batch <= 0 {
		c.Batch = DefaultBatch
	}
	if c.SocketBuffer == 0 {
		c.SocketBuffer = DefaultSocketBuffer
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return nil
}

// openLoop reports whether the configuration runs an open loop.
func (c *Config) openLoop() bool { return c.Rate > 0 }

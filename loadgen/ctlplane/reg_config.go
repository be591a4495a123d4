package ctlplane

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/larsgo/lars/loadgen"
)

// Defaults and bounds of RegisterConfig.
const (
	DefaultRegAgents      = 10
	DefaultRegInstances   = 10
	DefaultRegSubscribers = 10
	DefaultRegTTL         = 10 * time.Second
	// MinRegTTL and MaxRegTTL are the leases lars-dns takes (docs/PROTOCOL.md).
	MinRegTTL = time.Second
	MaxRegTTL = time.Hour
	// maxRegAgents bounds the agents of a run: agent a's instances have the address
	// regIPBase + a.
	maxRegAgents = 1 << 22
	// maxLeaseEntries is the most entries of one Lease frame.
	maxLeaseEntries = 1024
)

// RegisterConfig describes a registration run against a route service: Agents
// simulated agents each register Instances instances (LEASE_NEW, all at once: the
// storm) and renew them every TTL/3; then for Duration, instances are replaced at
// Churn a second (one dropped with LEASE_DROP, a new one registered) and at Expire a
// second (one left to expire, a new one registered), while Subscribers connections
// hold every key and time each instance's arrival and departure in the pushes.
type RegisterConfig struct {
	// Target is the route service's TCP address. Default 127.0.0.1:7778.
	Target string
	// Agents is the number of registering agents, one connection each. Default 10.
	Agents int
	// Instances is the instances each agent registers. Default 10.
	Instances int
	// Modids and Cmdids are the keys the instances are spread over, evenly: instance
	// j of agent a is of key (a*Instances + j) mod keys. Default 1 x 1-1.
	Modids, Cmdids loadgen.Range
	// Subscribers is the number of connections that pull every key and time the
	// pushes. Default 10; 0 is taken as the default.
	Subscribers int
	// TTL is each registration's lease; agents renew at a third of it. Default 10s.
	TTL time.Duration
	// Churn is the instances replaced a second after the storm: one dropped
	// (LEASE_DROP) and a new one registered (LEASE_NEW) on the same agent and key.
	Churn float64
	// Expire is the instances a second left to expire after the storm (their agent
	// stops renewing them), each replaced by a new one registered.
	Expire float64
	// StormSpread spreads the storm: agent i registers its instances at
	// i/Agents x StormSpread after its start (0: all at once).
	StormSpread time.Duration
	// Warmup is how long renewals alone run after the storm, before the steady phase
	// (and the service's figures) begin: the service settles after a storm.
	Warmup time.Duration
	// Duration is how long the steady phase (renewals, churn, expiries) lasts.
	// Default 10s.
	Duration time.Duration
	// PushTimeout is how long a registration's or a drop's pushes (an expiry's: after
	// its lease's end) are waited for. Default 10s.
	PushTimeout time.Duration
	// SetupTimeout bounds the connections, the pulls and the storm's answers.
	// Default 1m.
	SetupTimeout time.Duration
	// DialConcurrency is how many connections are being opened at once. Default 64.
	DialConcurrency int
	// DialTimeout bounds one connection attempt. Default 5s.
	DialTimeout time.Duration
	// Seed seeds the choice of the instances replaced. Default 1.
	Seed uint64
	// Leave, when true, leaves the run's instances registered at its end (they expire
	// after TTL); by default every one still registered is dropped.
	Leave bool
	// AdminURL, when set, is the service's admin base URL: its /metrics is read at the
	// start and the end of the steady phase and every second.
	AdminURL string
	// Live, when not nil, receives one line a second.
	Live io.Writer

	// dial and adminClient replace the network and the HTTP client in tests.
	dial        dialFunc
	adminClient *http.Client
}

func (c RegisterConfig) withDefaults() (RegisterConfig, error) {
	if c.Target == "" {
		c.Target = DefaultDNSTarget
	}
	if _, _, err := net.SplitHostPort(c.Target); err != nil {
		return c, fmt.Errorf("target %q: want HOST:PORT", c.Target)
	}
	if c.Agents <= 0 {
		c.Agents = DefaultRegAgents
	}
	if c.Agents > maxRegAgents {
		return c, fmt.Errorf("%d agents: at most %d", c.Agents, maxRegAgents)
	}
	if c.Instances <= 0 {
		c.Instances = DefaultRegInstances
	}
	if c.Subscribers <= 0 {
		c.Subscribers = DefaultRegSubscribers
	}
	if c.TTL == 0 {
		c.TTL = DefaultRegTTL
	}
	if c.TTL < MinRegTTL || c.TTL > MaxRegTTL {
		return c, fmt.Errorf("ttl %v: want %v to %v", c.TTL, MinRegTTL, MaxRegTTL)
	}
	for _, r := range []float64{c.Churn, c.Expire} {
		if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return c, fmt.Errorf("rate %v: want 0 or a positive rate", r)
		}
	}
	if c.Duration < 0 || c.StormSpread < 0 || c.Warmup < 0 {
		return c, errors.New("negative duration, storm spread or warmup")
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.PushTimeout <= 0 {
		c.PushTimeout = DefaultPushTimeout
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = DefaultSetupTimeout
	}
	if c.DialConcurrency <= 0 {
		c.DialConcurrency = DefaultDialConcurrency
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.slotsPerAgent() > maxTagSlots {
		return c, fmt.Errorf("%d instances an agent, replacements included: at most %d (more agents, or fewer instances or replacements)", c.slotsPerAgent(), maxTagSlots)
	}
	return c, nil
}

// replacements is the most instances the steady phase replaces.
func (c *RegisterConfig) replacements() int {
	return int(math.Ceil((c.Churn + c.Expire) * c.Duration.Seconds()))
}

// slotsPerAgent is the instance slots each agent has: its instances and the new ones
// of the replacements, spread evenly over the agents. A slot is used once.
func (c *RegisterConfig) slotsPerAgent() int {
	return c.Instances + (c.replacements()+c.Agents-1)/c.Agents + 1
}

package ctlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// RouteWriter changes routes in the route store, as larsctl route does: each call is
// one committed transaction by the time it returns. *store.DB implements it.
type RouteWriter interface {
	// ReplaceKeys sets the hosts of every key given, in one transaction.
	ReplaceKeys(ctx context.Context, routes map[route.Key][]route.Host) ([]route.Key, error)
	// SetHosts replaces the hosts of one key.
	SetHosts(ctx context.Context, k route.Key, hosts []route.Host) (bool, error)
}

var _ RouteWriter = (*store.DB)(nil)

// Defaults of DNSConfig.
const (
	DefaultDNSTarget       = "127.0.0.1:7778"
	DefaultChangesPerSec   = 10
	DefaultDuration        = 10 * time.Second
	DefaultPushTimeout     = 10 * time.Second
	DefaultSetupTimeout    = time.Minute
	DefaultDialConcurrency = 64
	DefaultDialTimeout     = 5 * time.Second
	// MaxHostsPerKey bounds the hosts of each route the run writes.
	MaxHostsPerKey = 1000
	// maxChanges is how many changes one run can tell apart: the change number is
	// carried in the low 24 bits of the hosts' address.
	maxChanges = 1<<24 - 1
)

// DNSConfig describes a route service run. Its zero value is one agent holding key
// (1, 1) on 127.0.0.1:7778 for 10 s of 10 changes a second, but for Writer.
type DNSConfig struct {
	// Fleet is the agents and their keys; Target defaults to 127.0.0.1:7778.
	Fleet
	// HostsPerKey is the number of hosts of every route written. Default 1, at most
	// MaxHostsPerKey.
	HostsPerKey int

	// Writer writes the routes: first every held key (the setup), then one change at
	// a time. Required.
	Writer RouteWriter
	// ChangesPerSec is the rate of route changes. Default 10.
	ChangesPerSec float64
	// Duration is how long changes are made. Default 10s unless Changes is set.
	Duration time.Duration
	// Changes, when positive, bounds the number of changes (and ends the run at
	// Duration if that comes first).
	Changes int
	// PushTimeout is how long a change's pushes are waited for after its commit:
	// those not there by then count as missing, and the key may change again.
	// Default 10s.
	PushTimeout time.Duration
	// SetupTimeout bounds the connections and first pulls. Default 1m.
	SetupTimeout time.Duration
	// DialConcurrency is how many connections are being opened at once. Default 64.
	DialConcurrency int
	// DialTimeout bounds one connection attempt. Default 5s.
	DialTimeout time.Duration

	// AdminURL, when set, is the service's admin base URL (http://127.0.0.1:PORT): its
	// /metrics is read before and after the changes and every second.
	AdminURL string
	// Live, when not nil, receives one line a second.
	Live io.Writer
}

func (c DNSConfig) withDefaults() (DNSConfig, error) {
	var err error
	if c.Fleet, err = c.Fleet.withDefaults(DefaultDNSTarget); err != nil {
		return c, err
	}
	if c.Writer == nil {
		return c, errors.New("no route writer: the run changes routes in the store")
	}
	c.HostsPerKey = max(c.HostsPerKey, 1)
	if c.HostsPerKey > MaxHostsPerKey {
		return c, fmt.Errorf("%d hosts a key: at most %d", c.HostsPerKey, MaxHostsPerKey)
	}
	if c.ChangesPerSec == 0 {
		c.ChangesPerSec = DefaultChangesPerSec
	}
	if c.ChangesPerSec < 0 || math.IsNaN(c.ChangesPerSec) || math.IsInf(c.ChangesPerSec, 0) {
		return c, fmt.Errorf("change rate %v: want a positive rate", c.ChangesPerSec)
	}
	if c.Duration < 0 || c.Changes < 0 {
		return c, errors.New("negative duration or change count")
	}
	if c.Duration == 0 && c.Changes == 0 {
		c.Duration = DefaultDuration
	}
	if n := c.changeCount(); n > maxChanges {
		return c, fmt.Errorf("%d changes in one run: at most %d", n, maxChanges)
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
	return c, nil
}

// changeCount is the number of changes the run makes at most.
func (c *DNSConfig) changeCount() int {
	n := math.MaxInt
	if c.Duration > 0 {
		n = int(math.Ceil(c.ChangesPerSec * c.Duration.Seconds()))
	}
	if c.Changes > 0 {
		n = min(n, c.Changes)
	}
	return max(n, 1)
}

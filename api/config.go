package api

import (
	"fmt"
	"math/bits"
	"net/netip"
	"time"
)

// Defaults of Config, the values of the C++ Lars API where it has one.
const (
	DefaultBasePort    = 8888                   // first agent port
	DefaultPortCount   = 3                      // agent ports 8888, 8889, 8890
	DefaultTimeout     = 100 * time.Millisecond // per call; the agent answers loopback calls in microseconds
	DefaultMaxInFlight = 1024                   // waiter slots
	maxMaxInFlight     = 1 << 16                // seq keeps 16 bits of generation above the slot index
)

// Config configures a Client. Its zero value talks to the default agent.
type Config struct {
	// Agent is the agent's IP address. Zero: 127.0.0.1.
	Agent netip.Addr
	// Ports are the agent's UDP ports; requests for a key go to
	// Ports[PortIndex(modid, cmdid, len(Ports))]. Empty: 8888, 8889, 8890.
	Ports []uint16
	// Timeout bounds each GetHost and GetRoute call unless the context's deadline
	// comes sooner. Zero: DefaultTimeout (100 ms).
	Timeout time.Duration
	// MaxInFlight is how many GetHost calls may wait for their answer at once; more
	// wait for a free slot. Zero: DefaultMaxInFlight (1024); rounded up to a power of
	// two, at most 65536.
	MaxInFlight int
}

// withDefaults returns cfg with every zero field replaced by its default, or an error
// for a value no default can fix.
func (cfg Config) withDefaults() (Config, error) {
	if !cfg.Agent.IsValid() {
		cfg.Agent = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if len(cfg.Ports) == 0 {
		cfg.Ports = DefaultPorts()
	} else {
		cfg.Ports = append([]uint16(nil), cfg.Ports...)
	}
	for _, p := range cfg.Ports {
		if p == 0 {
			return cfg, fmt.Errorf("lars api: agent port 0 in %v", cfg.Ports)
		}
	}
	if cfg.Timeout < 0 {
		return cfg, fmt.Errorf("lars api: negative timeout %v", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxInFlight < 0 || cfg.MaxInFlight > maxMaxInFlight:
		return cfg, fmt.Errorf("lars api: MaxInFlight %d outside 0..%d", cfg.MaxInFlight, maxMaxInFlight)
	case cfg.MaxInFlight == 0:
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	cfg.MaxInFlight = 1 << bits.Len(uint(cfg.MaxInFlight-1))
	return cfg, nil
}

// DefaultPorts returns the default agent ports, 8888, 8889 and 8890, in a new slice.
func DefaultPorts() []uint16 {
	p := make([]uint16, DefaultPortCount)
	for i := range p {
		p[i] = uint16(DefaultBasePort + i)
	}
	return p
}

// PortIndex returns which of n agent ports serves key (modid, cmdid): (modid + cmdid)
// mod n, as the Lars API computes it. The sum is taken in 64 bits so it cannot
// overflow, and the modulo is the non-negative one, so negative ids still pick a valid
// port (the C++ API would index out of range there). n must be positive.
func PortIndex(modid, cmdid int32, n int) int {
	i := (int64(modid) + int64(cmdid)) % int64(n)
	if i < 0 {
		i += int64(n)
	}
	return int(i)
}

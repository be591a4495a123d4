// Package hostmodel models the hosts behind a service: how long each takes to answer
// a call and whether the call fails, flapping or out for a while. The load generator
// reports calls with the modelled results, larsctl simulate does the same against a
// running agent, and the policy simulator (lb/policysim) runs the balancer against it.
package hostmodel

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Behaviour is how a modelled host answers calls: a latency distribution and a
// failure rate, optionally flapping.
type Behaviour struct {
	// Latency is the median latency of a call. Latencies are log-normal around it
	// with Spread as sigma. Default 0: calls take no time.
	Latency time.Duration
	// Spread is the sigma of the log-normal latency. Default 0: every call takes
	// exactly Latency.
	Spread float64
	// Fail is the probability (0..1) that a call fails.
	Fail float64
	// FlapPeriod, when positive, makes the host flap: it fails every call during the
	// second half of every period (from its start at time 0). Default 0: no flapping.
	FlapPeriod time.Duration
	// DownFrom and DownUntil, when DownUntil is positive, make the host fail every
	// call started in [DownFrom, DownUntil): an outage.
	DownFrom, DownUntil time.Duration
}

// Model gives each modelled host its behaviour; hosts not listed behave as
// Default. Its zero value models every host as answering at once, never failing.
type Model struct {
	// Default is the behaviour of hosts not in Hosts.
	Default Behaviour
	// Hosts are per-host behaviours, keyed by hostKey(ip, port) (see SetHost).
	Hosts map[uint64]Behaviour
}

// Empty reports whether the model is the zero value: nothing to model.
func (m *Model) Empty() bool {
	return m == nil || (m.Default == Behaviour{} && len(m.Hosts) == 0)
}

// SetHost sets the behaviour of host ip:port (wire int32 forms).
func (m *Model) SetHost(ip, port int32, b Behaviour) {
	if m.Hosts == nil {
		m.Hosts = make(map[uint64]Behaviour)
	}
	m.Hosts[hostKey(ip, port)] = b
}

// Behaviour returns the behaviour of host ip:port.
func (m *Model) Behaviour(ip, port int32) Behaviour {
	if b, ok := m.Hosts[hostKey(ip, port)]; ok {
		return b
	}
	return m.Default
}

// Call models one call to host ip:port started at time at (since the start of the
// run): its latency and whether it fails.
func (m *Model) Call(ip, port int32, at time.Duration, rng *rand.Rand) (latency time.Duration, failed bool) {
	b := m.Behaviour(ip, port)
	latency = b.Latency
	if b.Spread > 0 && latency > 0 {
		latency = time.Duration(float64(latency) * math.Exp(b.Spread*rng.NormFloat64()))
	}
	if b.FlapPeriod > 0 && at%b.FlapPeriod >= b.FlapPeriod/2 {
		return latency, true
	}
	if b.DownUntil > 0 && at >= b.DownFrom && at < b.DownUntil {
		return latency, true
	}
	return latency, b.Fail > 0 && rng.Float64() < b.Fail
}

// hostKey is the key of host ip:port in Model.Hosts.
func hostKey(ip, port int32) uint64 { return uint64(uint32(ip))<<32 | uint64(uint32(port)) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Parse reads the -host-latency, -host-fail and -host-flap flags into m:
// each a comma-separated list of IP:PORT=VALUE, with a duration ("50ms"), a
// probability ("0.5") and a flap period ("2s") respectively; "*" for IP:PORT sets the
// default of hosts not listed, before any listed host of the same flag is. Hosts
// listed in several flags get each flag's value. Empty strings leave m as it is.
func Parse(m *Model, latency, fail, flap string) error {
	set := func(spec, flag string, apply func(*Behaviour, string) error) error {
		if strings.TrimSpace(spec) == "" {
			return nil
		}
		parts := strings.Split(spec, ",")
		// Defaults first, so that every listed host starts from them.
		slices.SortStableFunc(parts, func(a, b string) int {
			return cmp.Compare(b2i(!strings.HasPrefix(strings.TrimSpace(a), "*=")), b2i(!strings.HasPrefix(strings.TrimSpace(b), "*=")))
		})
		for _, part := range parts {
			addr, val, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				return fmt.Errorf("%s %q: want IP:PORT=VALUE", flag, part)
			}
			if addr == "*" {
				if err := apply(&m.Default, val); err != nil {
					return fmt.Errorf("%s %q: %w", flag, part, err)
				}
				continue
			}
			ap, err := netip.ParseAddrPort(addr)
			if err != nil || !ap.Addr().Unmap().Is4() {
				return fmt.Errorf("%s %q: want an IPv4 IP:PORT", flag, part)
			}
			a := ap.Addr().Unmap().As4()
			ip := int32(uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]))
			b := m.Behaviour(ip, int32(ap.Port()))
			if err := apply(&b, val); err != nil {
				return fmt.Errorf("%s %q: %w", flag, part, err)
			}
			m.SetHost(ip, int32(ap.Port()), b)
		}
		return nil
	}
	if err := set(latency, "-host-latency", func(b *Behaviour, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("latency %q: want a duration such as 50ms", v)
		}
		b.Latency = d
		return nil
	}); err != nil {
		return err
	}
	if err := set(fail, "-host-fail", func(b *Behaviour, v string) error {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || !(p >= 0 && p <= 1) {
			return fmt.Errorf("failure rate %q: want a probability in [0, 1]", v)
		}
		b.Fail = p
		return nil
	}); err != nil {
		return err
	}
	return set(flap, "-host-flap", func(b *Behaviour, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("flap period %q: want a positive duration such as 2s", v)
		}
		b.FlapPeriod = d
		return nil
	})
}

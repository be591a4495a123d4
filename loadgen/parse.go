package loadgen

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// ParseMix parses request weights such as "get_host=90,get_route=5,report=5". Types
// left out weigh 0; at least one weight must be positive.
func ParseMix(s string) (Mix, error) {
	var m Mix
	total := 0
	for _, part := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return m, fmt.Errorf("invalid mix %q: want TYPE=WEIGHT,... with types get_host, get_route, report", s)
		}
		k := Kind(0)
		for k < numKinds && kindNames[k] != strings.TrimSpace(name) {
			k++
		}
		if k == numKinds {
			return m, fmt.Errorf("invalid mix %q: unknown type %q (want get_host, get_route or report)", s, name)
		}
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 || w > 1000000 {
			return m, fmt.Errorf("invalid mix %q: weight %q must be an integer in 0..1000000", s, val)
		}
		m[k] = w
		total += w
	}
	if total == 0 {
		return m, fmt.Errorf("invalid mix %q: every weight is 0", s)
	}
	return m, nil
}

// ParseRange parses "LO-HI" or a single value "N" of int32 values.
func ParseRange(s string) (Range, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		hi = lo
	}
	a, err1 := strconv.ParseInt(strings.TrimSpace(lo), 10, 32)
	b, err2 := strconv.ParseInt(strings.TrimSpace(hi), 10, 32)
	if err1 != nil || err2 != nil || a > b {
		return Range{}, fmt.Errorf("invalid range %q: want LO-HI or N, with LO <= HI", s)
	}
	return Range{int32(a), int32(b)}, nil
}

// ParseHosts parses a comma-separated list of IPv4 ip:port pairs.
func ParseHosts(s string) ([]netip.AddrPort, error) {
	var hosts []netip.AddrPort
	for _, part := range strings.Split(s, ",") {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(part))
		if err != nil || !ap.Addr().Unmap().Is4() {
			return nil, fmt.Errorf("invalid host %q: want IPv4 ip:port", part)
		}
		hosts = append(hosts, ap)
	}
	return hosts, nil
}

// ParsePorts parses a comma-separated list of UDP ports.
func ParsePorts(s string) ([]int, error) {
	var ports []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 || p > math.MaxUint16 {
			return nil, fmt.Errorf("invalid ports %q: want comma-separated ports in 1..65535", s)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// ParseSpread parses the name of a key spread, uniform or zipf, as the -spread flag
// gives it.
func ParseSpread(s string) (Spread, error) {
	switch s {
	case "uniform":
		return Uniform, nil
	case "zipf":
		return Zipf, nil
	}
	return 0, fmt.Errorf("invalid -spread %q: want uniform or zipf", s)
}

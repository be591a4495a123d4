package route

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrBadHost is wrapped by every error about the text of an address, port, weight or
// zone.
var ErrBadHost = errors.New("bad host")

// ParseAddr parses an IP address: dotted IPv4, or IPv6 bare or in brackets
// ("2001:db8::1", "[2001:db8::1]"). An IPv4-mapped IPv6 address becomes the IPv4
// address it maps; an IPv6 scope ("%eth0") is refused, as it means nothing on
// another machine.
func ParseAddr(s string) (netip.Addr, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && t[0] == '[' && t[len(t)-1] == ']' {
		t = t[1 : len(t)-1]
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: IP %q is not an IPv4 or IPv6 address", ErrBadHost, s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: IP %q has an IPv6 scope (%%%s), which routes cannot carry", ErrBadHost, s, a.Zone())
	}
	return a.Unmap(), nil
}

// ParsePort parses a port, 1..65535.
func ParsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("%w: port %q is not in 1..65535", ErrBadHost, s)
	}
	return uint16(p), nil
}

// ParseAddrPort parses "IP:PORT", with an IPv6 address in brackets ("[::1]:80").
func ParseAddrPort(s string) (netip.AddrPort, error) {
	t := strings.TrimSpace(s)
	i := strings.LastIndexByte(t, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: %q is not IP:PORT (such as 10.0.0.1:8080 or [2001:db8::1]:8080)", ErrBadHost, s)
	}
	ip := t[:i]
	if strings.IndexByte(ip, ':') >= 0 && (len(ip) < 2 || ip[0] != '[' || ip[len(ip)-1] != ']') {
		return netip.AddrPort{}, fmt.Errorf("%w: %q: an IPv6 address takes brackets before a port, as [2001:db8::1]:8080", ErrBadHost, s)
	}
	a, err := ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := ParsePort(t[i+1:])
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, p), nil
}

// ParseHost parses an IP and a port given apart (ParseAddr, ParsePort).
func ParseHost(ip, port string) (Host, error) {
	a, err := ParseAddr(ip)
	if err != nil {
		return Host{}, err
	}
	p, err := ParsePort(port)
	if err != nil {
		return Host{}, err
	}
	return Host{Addr: netip.AddrPortFrom(a, p)}, nil
}

// ParseWeight parses a weight, 1..MaxWeight.
func ParseWeight(s string) (uint32, error) {
	w, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil || w == 0 || w > MaxWeight {
		return 0, fmt.Errorf("%w: weight %q is not in 1..%d", ErrBadHost, s, MaxWeight)
	}
	return uint32(w), nil
}

// CheckZone returns an error unless zone is a valid zone name: 1 to MaxZoneLen
// letters, digits, '.', '-' or '_'.
func CheckZone(zone string) error {
	if zone == "" || len(zone) > MaxZoneLen {
		return fmt.Errorf("%w: zone %q is not 1 to %d characters", ErrBadHost, zone, MaxZoneLen)
	}
	for i := 0; i < len(zone); i++ {
		c := zone[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("%w: zone %q may hold only letters, digits, '.', '-' and '_'", ErrBadHost, zone)
		}
	}
	return nil
}

// Check returns an error unless h can be a route's host: a valid address and a
// port from 1, a weight of at most MaxWeight, a valid zone or none.
func (h Host) Check() error {
	a := h.Addr.Addr()
	if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
		return fmt.Errorf("%w: address %s cannot be a route's host", ErrBadHost, h.Addr)
	}
	if h.Addr.Port() == 0 {
		return fmt.Errorf("%w: %s: port 0", ErrBadHost, h.Addr)
	}
	if h.Weight > MaxWeight {
		return fmt.Errorf("%w: %s: weight %d is over %d", ErrBadHost, h.Addr, h.Weight, MaxWeight)
	}
	if h.Zone != "" {
		return CheckZone(h.Zone)
	}
	return nil
}

// setOption applies one "name=value" option (weight, zone) to h; seen tracks the
// options already given.
func (h *Host) setOption(opt string, seen *[2]bool) error {
	name, value, ok := strings.Cut(opt, "=")
	switch {
	case !ok:
	case name == "weight" && !seen[0]:
		seen[0] = true
		w, err := ParseWeight(value)
		h.Weight = w
		return err
	case name == "zone" && !seen[1]:
		seen[1] = true
		h.Zone = value
		return CheckZone(value)
	case name == "weight" || name == "zone":
		return fmt.Errorf("%w: %s given twice", ErrBadHost, name)
	}
	return fmt.Errorf("%w: %q is not weight=N or zone=NAME", ErrBadHost, opt)
}

// ParseHostText parses the text form of a host (Host.AppendText): "IP:PORT", then
// optionally ";weight=N" and ";zone=NAME" in either order.
func ParseHostText(s string) (Host, error) {
	parts := strings.Split(strings.TrimSpace(s), ";")
	ap, err := ParseAddrPort(parts[0])
	if err != nil {
		return Host{}, err
	}
	h := Host{Addr: ap}
	var seen [2]bool
	for _, opt := range parts[1:] {
		if err := h.setOption(opt, &seen); err != nil {
			return Host{}, fmt.Errorf("host %q: %w", s, err)
		}
	}
	return h, nil
}

// ParseHostList parses hosts in their text form separated by white space or commas,
// at most max of them (0: no limit). A host listed twice (same address) is an error
// unless both are the same.
func ParseHostList(s string, max int) ([]Host, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if max > 0 && len(fields) > max {
		return nil, fmt.Errorf("%w: %d hosts, more than %d", ErrBadHost, len(fields), max)
	}
	hosts := make([]Host, 0, len(fields))
	seen := make(map[netip.AddrPort]Host, len(fields))
	for _, f := range fields {
		h, err := ParseHostText(f)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[h.Addr]; dup {
			if prev != h {
				return nil, fmt.Errorf("%w: %s is listed twice, as %s and as %s", ErrBadHost, h.Addr, prev, h)
			}
			continue
		}
		seen[h.Addr] = h
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// appendHostList appends hosts in their text form separated by single spaces.
func appendHostList(dst []byte, hosts []Host) []byte {
	for i, h := range hosts {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = h.AppendText(dst)
	}
	return dst
}

// FormatHostList returns appendHostList(nil, hosts) as a string.
func FormatHostList(hosts []Host) string { return string(appendHostList(nil, hosts)) }

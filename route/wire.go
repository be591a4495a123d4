package route

import (
	"errors"
	"fmt"
	"net/netip"
)

// Lars's wire carries an IPv4 address as an int32: the 32-bit number of its dotted
// form, most significant octet first, so 127.0.0.1 is 2130706433 and addresses from
// 128.0.0.0 up are negative. Its database keeps the same number as an unsigned int.

// ErrNotIPv4 is returned for an address Lars's wire form cannot carry.
var ErrNotIPv4 = errors.New("not an IPv4 address")

// AddrFromWire converts the wire form of an IPv4 address to a netip.Addr.
func AddrFromWire(ip int32) netip.Addr {
	u := uint32(ip)
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
}

// WireIP returns the wire form of an IPv4 (or IPv4-mapped IPv6) address, and false for
// any other address.
func WireIP(a netip.Addr) (int32, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), true
}

// wireIPOf is WireIP with an error naming the address.
func wireIPOf(a netip.Addr) (int32, error) {
	ip, ok := WireIP(a)
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrNotIPv4, a)
	}
	return ip, nil
}

// ParseWireIP parses a dotted IPv4 address into its wire form.
func ParseWireIP(s string) (int32, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse address %q: %w", s, err)
	}
	return wireIPOf(a)
}

// AddrPortFromWire converts a wire (ip, port) pair to a netip.AddrPort. A port outside
// 0..65535 keeps its low 16 bits: the wire's int32 cannot be trusted.
func AddrPortFromWire(ip, port int32) netip.AddrPort {
	return netip.AddrPortFrom(AddrFromWire(ip), uint16(port))
}

// FromWire returns the host at a wire (ip, port) pair, with no weight or zone.
func FromWire(ip, port int32) Host { return Host{Addr: AddrPortFromWire(ip, port)} }

// Wire returns h's address in Lars's wire form, and false if it is not IPv4.
func (h Host) Wire() (ip, port int32, ok bool) {
	ip, ok = WireIP(h.Addr.Addr())
	return ip, int32(h.Addr.Port()), ok
}

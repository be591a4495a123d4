package codec

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrNotIPv4 is returned for an address the protocol cannot carry: the wire form is
// IPv4 only.
var ErrNotIPv4 = errors.New("not an IPv4 address")

// AddrFromIPv4 converts the wire form of an address (the 32-bit number of its dotted
// form, most significant octet first, stored in an int32) to a netip.Addr. Addresses
// from 128.0.0.0 up are negative on the wire and convert exactly.
func AddrFromIPv4(ip int32) netip.Addr {
	u := uint32(ip)
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)})
}

// IPv4FromAddr converts an IPv4 (or IPv4-mapped IPv6) address to its wire form.
func IPv4FromAddr(a netip.Addr) (int32, error) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, fmt.Errorf("%w: %s", ErrNotIPv4, a)
	}
	b := a.As4()
	return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), nil
}

// ParseIPv4 parses a dotted IPv4 address into its wire form.
func ParseIPv4(s string) (int32, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return 0, fmt.Errorf("cannot parse address %q: %w", s, err)
	}
	return IPv4FromAddr(a)
}

// FormatIPv4 returns the dotted form of a wire address.
func FormatIPv4(ip int32) string { return AddrFromIPv4(ip).String() }

// AppendIPv4 appends the dotted form of a wire address to dst.
func AppendIPv4(dst []byte, ip int32) []byte { return AddrFromIPv4(ip).AppendTo(dst) }

// AddrPortFromHost converts a wire (ip, port) pair to a netip.AddrPort. Ports outside
// 0..65535 are truncated to 16 bits, as the wire int32 cannot be trusted.
func AddrPortFromHost(ip, port int32) netip.AddrPort {
	return netip.AddrPortFrom(AddrFromIPv4(ip), uint16(port))
}

// HostFromAddrPort converts an IPv4 netip.AddrPort to its wire (ip, port) pair.
func HostFromAddrPort(ap netip.AddrPort) (ip, port int32, err error) {
	ip, err = IPv4FromAddr(ap.Addr())
	return ip, int32(ap.Port()), err
}

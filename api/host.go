package api

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/larsgo/lars/codec"
)

// Host is a service host in its wire form: IP is the IPv4 address as the 32-bit number
// of its dotted form, most significant octet first (addresses from 128.0.0.0 up are
// negative), and Port the port number.
type Host struct {
	IP   int32
	Port int32
}

// HostFromAddrPort returns the Host of an IPv4 (or IPv4-mapped) address and port.
func HostFromAddrPort(ap netip.AddrPort) (Host, error) {
	ip, port, err := codec.HostFromAddrPort(ap)
	if err != nil {
		return Host{}, fmt.Errorf("lars api: host %s: %w", ap, err)
	}
	return Host{IP: ip, Port: port}, nil
}

// ParseHost parses "ip:port" with a dotted IPv4 address, as String formats it.
func ParseHost(s string) (Host, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return Host{}, fmt.Errorf("lars api: cannot parse host %q: %w", s, err)
	}
	return HostFromAddrPort(ap)
}

// AddrPort returns the host as a netip.AddrPort. A port outside 0..65535 keeps its low
// 16 bits.
func (h Host) AddrPort() netip.AddrPort { return codec.AddrPortFromHost(h.IP, h.Port) }

// String returns "ip:port" with the dotted address, for example "10.0.0.1:8080".
func (h Host) String() string { return string(h.AppendTo(make([]byte, 0, 21))) }

// AppendTo appends the String form of h to dst; it does not allocate when dst has room.
func (h Host) AppendTo(dst []byte) []byte {
	dst = codec.AppendIPv4(dst, h.IP)
	dst = append(dst, ':')
	return strconv.AppendInt(dst, int64(h.Port), 10)
}

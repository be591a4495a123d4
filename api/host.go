package api

import (
	"fmt"
	"net/netip"

	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// Host is a service host: its address (IPv4 or IPv6) in Addr, and, in GetRoute's
// answers, the weight and zone its route names (GetHost's hosts have neither). The
// client tells the agent it reads IPv6 hosts, weights and zones (ACCEPT_ROUTE_EXT,
// docs/PROTOCOL.md "Routes beyond Lars"); Lars's agents, and ours with an IPv4-only
// route, answer IPv4 hosts only.
type Host = route.Host

// HostFromAddrPort returns the host at ap, an IPv4-mapped address taken as the IPv4
// address it maps. An invalid address or one with an IPv6 scope is an error.
func HostFromAddrPort(ap netip.AddrPort) (Host, error) {
	a := ap.Addr()
	if !a.IsValid() || a.Zone() != "" {
		return Host{}, fmt.Errorf("lars api: host %s: not a route's address", ap)
	}
	return Host{Addr: netip.AddrPortFrom(a.Unmap(), ap.Port())}, nil
}

// ParseHost parses a host in its text form, as String formats it: "ip:port", "[ipv6]:port",
// optionally followed by ";weight=N" and ";zone=NAME" (route.ParseHostText).
func ParseHost(s string) (Host, error) {
	h, err := route.ParseHostText(s)
	if err != nil {
		return Host{}, fmt.Errorf("lars api: cannot parse host %q: %w", s, err)
	}
	return h, nil
}

// setHostInfo sets info's address to a, backed by buf for an IPv6 one: an IPv4 address
// in ip (ip6 empty, the frame Lars's agents read), any other in ip6 with ip 0.
func setHostInfo(info *pb.HostInfo, buf *[16]byte, a netip.AddrPort) {
	info.Port = int32(a.Port())
	if ip, ok := route.WireIP(a.Addr()); ok {
		info.Ip, info.Ip6 = ip, nil
		return
	}
	*buf = a.Addr().As16()
	info.Ip, info.Ip6 = 0, buf[:]
}

// addrOf returns the address of an agent's HostInfo: ip6 when it has 16 bytes, ip
// when it has none; ok is false for an ip6 of another length.
func addrOf(h *pb.HostInfo) (a netip.AddrPort, ok bool) {
	switch len(h.Ip6) {
	case 0:
		return route.AddrPortFromWire(h.Ip, h.Port), true
	case 16:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(h.Ip6)).Unmap(), uint16(h.Port)), true
	}
	return netip.AddrPort{}, false
}

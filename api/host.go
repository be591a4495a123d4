package api

import (
	"fmt"
	"net/netip"

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

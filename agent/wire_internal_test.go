package agent

import (
	"net/netip"

	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// wireIP returns the wire form of a's IPv4 address (0 for any other).
func wireIP(a netip.AddrPort) int32 {
	ip, _ := route.WireIP(a.Addr())
	return ip
}

// hostInfoOf returns the HostInfo a Lars client sends for the IPv4 host at a.
func hostInfoOf(a netip.AddrPort) *pb.HostInfo {
	return &pb.HostInfo{Ip: wireIP(a), Port: int32(a.Port())}
}

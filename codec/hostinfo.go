package codec

import (
	"net/netip"

	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// SetHostAddr sets info's address to a: an IPv4 address in ip with ip6 empty (the
// frame Lars's parts read), any other in ip6 with ip 0, its 16 bytes kept in buf so
// that nothing is allocated. Weight and zone are left as they are.
func SetHostAddr(info *pb.HostInfo, buf *[16]byte, a netip.AddrPort) {
	info.Port = int32(a.Port())
	if ip, ok := route.WireIP(a.Addr()); ok {
		info.Ip, info.Ip6 = ip, nil
		return
	}
	*buf = a.Addr().As16()
	info.Ip, info.Ip6 = 0, buf[:]
}

// HostAddr returns the address info carries: its ip6 when it has one (an IPv4-mapped
// one as the IPv4 address), else its ip. ok is false for an ip6 that is not 16 bytes.
// The port keeps the low 16 bits of the wire's int32.
func HostAddr(info *pb.HostInfo) (a netip.AddrPort, ok bool) {
	switch len(info.Ip6) {
	case 0:
		return route.AddrPortFromWire(info.Ip, info.Port), true
	case 16:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(info.Ip6)).Unmap(), uint16(info.Port)), true
	}
	return netip.AddrPort{}, false
}

// SetHost sets info to host h as an answer carries it: its address (SetHostAddr), and
// with ext (a peer that reads the extension fields) its weight and zone, without them
// none, so that info is Lars's HostInfo for an IPv4 host.
func SetHost(info *pb.HostInfo, buf *[16]byte, h route.Host, ext bool) {
	SetHostAddr(info, buf, h.Addr)
	info.Weight, info.Zone = 0, ""
	if ext {
		info.Weight, info.Zone = h.Weight, h.Zone
	}
}

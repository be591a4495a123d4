//go:build !race

package lb

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/route"
)

func TestGetHostZeroAllocsWeightedIPv6Zoned(t *testing.T) {
	six := route.Host{Addr: netip.MustParseAddrPort("[2001:db8::1]:80"), Weight: 300, Zone: "a"}
	cases := map[string][]route.Host{
		"weighted inline": {weighted(1, 100, ""), weighted(2, 200, "")},
		"weighted wheel":  {weighted(1, 1, ""), weighted(2, 97, ""), weighted(3, 13, "")},
		"mixed IPv6":      {weighted(1, 100, "a"), six},
		"zoned":           {weighted(1, 100, "a"), weighted(2, 100, "b")},
	}
	for name, hosts := range cases {
		tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true, Zone: "a"}, hosts...)
		dst := make([]route.Host, 0, 8)
		wantNoAllocs(t, name+": GetHost", func() { sinkHost, sinkRet = tbl.GetHostFrom(tmod, tcmd, nil, true) })
		wantNoAllocs(t, name+": GetHost IPv4 only", func() { sinkHost, sinkRet = tbl.GetHostFrom(tmod, tcmd, nil, false) })
		wantNoAllocs(t, name+": GetRoute", func() { dst = tbl.GetRouteFrom(tmod, tcmd, dst[:0], nil, true) })
		wantNoAllocs(t, name+": GetRoute IPv4 only", func() { dst = tbl.GetRouteFrom(tmod, tcmd, dst[:0], nil, false) })
		wantNoAllocs(t, name+": Report", func() { tbl.Report(tmod, tcmd, hosts[0].Addr, 0) })
	}
}

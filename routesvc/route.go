// Package routesvc is the Lars route service ("dns") as a library: it serves the routes
// of a route store to agents over TCP, answers their pulls, remembers what each
// connection asked for and pushes every change of those keys.
package routesvc

import (
	"cmp"
	"slices"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// routeAnswer is the immutable answer for one key: its hosts, sorted, and the msgid 2 frame
// that carries them, encoded once and written as it is to every connection that pulls
// or is pushed the key. A route is never modified after it is built.
type routeAnswer struct {
	hosts []lb.Host
	frame []byte
}

// newRoute builds the route of key with hosts, which must be sorted and free of
// duplicates (sortHosts). A route too large for one frame (thousands of hosts) is
// answered with an empty host list, as the agent does for its own answers; tooLarge
// says so.
func newRoute(key route.Key, hosts []lb.Host) (r *routeAnswer, tooLarge bool) {
	var msg larspb.GetRouteResponse
	msg.Modid, msg.Cmdid = key.Modid, key.Cmdid
	infos := make([]larspb.HostInfo, len(hosts))
	msg.Host = make([]*larspb.HostInfo, len(hosts))
	for i, h := range hosts {
		infos[i].Ip, infos[i].Port = h.IP, h.Port
		msg.Host[i] = &infos[i]
	}
	frame, err := codec.AppendFrame(nil, codec.MsgGetRouteResponse, &msg)
	if err != nil {
		msg.Host = nil
		frame, _ = codec.AppendFrame(nil, codec.MsgGetRouteResponse, &msg) // a few bytes
		return &routeAnswer{hosts: hosts, frame: frame}, true
	}
	return &routeAnswer{hosts: hosts, frame: frame}, false
}

// sameHosts reports whether r holds exactly hosts (both sorted).
func (r *routeAnswer) sameHosts(hosts []lb.Host) bool { return slices.Equal(r.hosts, hosts) }

// compareHosts orders hosts by IPv4 address as an unsigned number, then port: the
// order of the store's answers.
func compareHosts(a, b lb.Host) int {
	if c := cmp.Compare(uint32(a.IP), uint32(b.IP)); c != 0 {
		return c
	}
	return cmp.Compare(a.Port, b.Port)
}

// sortHosts sorts hosts in place and removes duplicates.
func sortHosts(hosts []lb.Host) []lb.Host {
	slices.SortFunc(hosts, compareHosts)
	return slices.Compact(hosts)
}

// packKey is the table's key of k.
func packKey(k route.Key) uint64 { return uint64(uint32(k.Modid))<<32 | uint64(uint32(k.Cmdid)) }

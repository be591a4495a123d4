// Package routesvc is the Lars route service ("dns") as a library: it serves the routes
// of a route store to agents over TCP, answers their pulls, remembers what each
// connection asked for and pushes every change of those keys.
package routesvc

import (
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// routeAnswer is the immutable answer for one key: its hosts, normalised, and the msgid
// 2 frame that carries them, encoded once and written as it is to every connection
// that pulls or is pushed the key. A route is never modified after it is built.
type routeAnswer struct {
	hosts []route.Host
	frame []byte
}

// newRoute builds the route of key with hosts, which must be normalised
// (route.Normalize). The frame carries the IPv4 hosts in Lars's form. A route too
// large for one frame (thousands of hosts) is answered with an empty host list, as the
// agent does for its own answers; tooLarge says so.
func newRoute(key route.Key, hosts []route.Host) (r *routeAnswer, tooLarge bool) {
	var msg larspb.GetRouteResponse
	msg.Modid, msg.Cmdid = key.Modid, key.Cmdid
	infos := make([]larspb.HostInfo, 0, len(hosts))
	for _, h := range hosts {
		if ip, port, ok := h.Wire(); ok {
			infos = append(infos, larspb.HostInfo{Ip: ip, Port: port})
		}
	}
	msg.Host = make([]*larspb.HostInfo, len(infos))
	for i := range infos {
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

// sameHosts reports whether r holds exactly hosts (both normalised), weights and zones
// included.
func (r *routeAnswer) sameHosts(hosts []route.Host) bool { return route.Equal(r.hosts, hosts) }

// hostInfo returns h in Lars's HostInfo: lease frames carry IPv4 hosts only (ip 0 for
// any other).
func hostInfo(h route.Host) *larspb.HostInfo {
	ip, port, _ := h.Wire()
	return &larspb.HostInfo{Ip: ip, Port: port}
}

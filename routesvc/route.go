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
// 2 frames that carry them, encoded once and written as they are to every connection
// that pulls or is pushed the key. A route is never modified after it is built.
//
// frame is the route as Lars writes it: the IPv4 hosts, no weight, no zone (none at
// all when every host is IPv6). ext, set only when some host is IPv6 or names a weight
// or zone, is the whole route with HostInfo's extension fields, for the connections
// whose Hello said FEATURE_ROUTE_EXT; nil: frame is the whole route.
type routeAnswer struct {
	hosts []route.Host
	frame []byte
	ext   []byte
}

// newRoute builds the route of key with hosts, which must be normalised
// (route.Normalize). A route too large for one frame (thousands of hosts) is answered
// with an empty host list, as the agent does for its own answers; tooLarge says so.
func newRoute(key route.Key, hosts []route.Host) (r *routeAnswer, tooLarge bool) {
	r = &routeAnswer{hosts: hosts}
	var big bool
	r.frame, tooLarge = encodeRoute(key, hosts, false)
	if !route.AllPlain(hosts) {
		r.ext, big = encodeRoute(key, hosts, true)
	}
	return r, tooLarge || big
}

// encodeRoute encodes the msgid 2 frame of key with hosts: with ext, every host with
// HostInfo's extension fields (ip6 and ip 0 for an IPv6 host, weight, zone); without,
// the IPv4 hosts as Lars writes them. A frame too large is encoded with no hosts, and
// tooLarge says so.
func encodeRoute(key route.Key, hosts []route.Host, ext bool) (frame []byte, tooLarge bool) {
	var msg larspb.GetRouteResponse
	msg.Modid, msg.Cmdid = key.Modid, key.Cmdid
	infos := make([]larspb.HostInfo, 0, len(hosts))
	ip6s := make([][16]byte, len(hosts))
	for i, h := range hosts {
		if ext || h.Is4() {
			infos = append(infos, larspb.HostInfo{})
			codec.SetHost(&infos[len(infos)-1], &ip6s[i], h, ext)
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
		return frame, true
	}
	return frame, false
}

// frameFor returns the frame of r for a connection that reads the extension fields
// (ext) or not.
func (r *routeAnswer) frameFor(ext bool) []byte {
	if ext && r.ext != nil {
		return r.ext
	}
	return r.frame
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

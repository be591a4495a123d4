package ctlplane

import (
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// The routes a run writes say which change they come from, so that each agent can
// match every frame it receives to a change without any other channel: change n's
// hosts all have the address 10.0.0.0 + n (n in the low 24 bits; the setup is change
// 0) and the ports tag, tag+1, ... tag+HostsPerKey-1, where tag is drawn for each run:
// routes left in the store by an earlier run do not match.
const (
	changeIPBase = 10 << 24
	changeIPMask = 1<<24 - 1
	minTag       = 1024
	maxTag       = 65535 - MaxHostsPerKey
)

// lastTag spreads the tags of the runs of one process (a sweep) apart.
var lastTag atomic.Int64

// newTag returns a run tag different from the previous runs' of this process and,
// very likely, of other processes.
func newTag() int32 {
	seed := time.Now().UnixNano()/int64(time.Millisecond) + lastTag.Add(7919)
	return int32(minTag + seed%(maxTag-minTag))
}

// appendChangeHosts appends the hosts of change n to dst.
func appendChangeHosts(dst []route.Host, n int32, tag int32, hosts int) []route.Host {
	for j := range int32(hosts) {
		dst = append(dst, route.FromWire(changeIPBase|n, tag+j))
	}
	return dst
}

// decodeChange returns the change number the hosts of a route frame carry, false when
// they are not a change of this run (another run's routes, or no hosts).
func decodeChange(hosts []*larspb.HostInfo, tag int32, want int) (int32, bool) {
	if len(hosts) != want {
		return 0, false
	}
	ip := hosts[0].Ip
	if ip&^changeIPMask != changeIPBase {
		return 0, false
	}
	for _, h := range hosts {
		if h.Ip != ip || h.Port < tag || h.Port >= tag+int32(want) {
			return 0, false
		}
	}
	return ip & changeIPMask, true
}

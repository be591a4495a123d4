package lb

import (
	"net/netip"
	"slices"

	"github.com/larsgo/lars/route"
)

// pickSet is one view of a key's hosts as get_host reads it: every host of the key,
// or only those of the agent's zone (Config.Zone), or only the IPv4 ones of either for
// a client that cannot take IPv6. Hosts are named by their index in the key's
// addresses, which every view of a snapshot shares. Immutable once published.
type pickSet struct {
	keyAddrs
	idle  []uint16 // the view's idle hosts, ascending
	wheel []uint16 // the weighted turn order of idle (buildWheel); nil: plain round robin
	over  []uint16 // the view's overloaded hosts, ascending
	all   []uint16 // idle then over: the picks of panic mode
	allW  []uint16 // the weighted turn order of all; nil: plain round robin

	// idleState and overState are the policy states of idle and over, index for
	// index; set only under a policy that picks by host load (p2c, ewma).
	idleState, overState []*hostExtra

	// cross says the agent has a zone, the key's hosts name zones, and this view is
	// not the agent's zone (too few of its hosts usable, or none there): its picks
	// are counted as cross-zone.
	cross bool
}

// keyAddrs are a key's addresses, sorted: packed (packAddr, 8 bytes a host) when they
// are all IPv4, the most common case, else as they are.
type keyAddrs struct {
	packed []uint64
	addrs  []netip.AddrPort
}

// addr returns the i-th address.
func (k *keyAddrs) addr(i int) netip.AddrPort {
	if k.packed != nil {
		return unpackAddr(k.packed[i])
	}
	return k.addrs[i]
}

// count returns the number of addresses.
func (k *keyAddrs) count() int { return len(k.packed) + len(k.addrs) }

// find returns the index of addr, or -1.
func (k *keyAddrs) find(addr netip.AddrPort) int {
	if k.packed != nil {
		if !addr.Addr().Is4() {
			return -1
		}
		p := packAddr(addr)
		i, ok := slices.BinarySearch(k.packed, p)
		if !ok {
			return -1
		}
		return i
	}
	i, ok := slices.BinarySearchFunc(k.addrs, addr, netip.AddrPort.Compare)
	if !ok {
		return -1
	}
	return i
}

// nextIdle returns the idle host of the n-th turn.
func (v *pickSet) nextIdle(n uint64) netip.AddrPort {
	if v.wheel != nil {
		return v.addr(int(v.wheel[n%uint64(len(v.wheel))]))
	}
	return v.addr(int(v.idle[n%uint64(len(v.idle))]))
}

// nextAny returns the host of the n-th turn over idle and overloaded hosts alike.
func (v *pickSet) nextAny(n uint64) netip.AddrPort {
	if v.allW != nil {
		return v.addr(int(v.allW[n%uint64(len(v.allW))]))
	}
	return v.addr(int(v.all[n%uint64(len(v.all))]))
}

// hostSets is an immutable snapshot of a key's hosts, published through
// keyState.sets: every host with its state, and the views get_host picks from.
type hostSets struct {
	// What Report reads comes first, so that for a key of up to 10 IPv4 hosts it lies
	// in the first 256 bytes, two pairs of cache lines: the addresses (packed inline),
	// then the host's state pointer (inline).
	keyAddrs
	state    []*hostState // state[i] belongs to the i-th address
	nOver    int          // overloaded hosts, in any view
	inPacked [inlineHosts]uint64
	inState  [inlineHosts]*hostState

	pickSet          // the view for clients that take IPv6 hosts
	v4      *pickSet // the view for clients that do not: &pickSet when every host is IPv4

	// hosts are the key's hosts, sorted by address, when some host names a weight
	// or a zone; nil when none does (the addresses say it all).
	hosts []route.Host

	// plain says every host is IPv4 and names no weight or zone: Lars's route, which
	// the key's index slot can answer GetRoute from.
	plain bool
	// regroupAt is the table time at which slow start next changes a weight, when
	// Sweep builds the snapshot again; 0: never.
	regroupAt int64

	// inIdx backs the view's all for keys of up to inlineHosts hosts, as inPacked
	// and inState back packed and state: one allocation, so that a Report walks from
	// the snapshot to the host's state without reaching another block first.
	inIdx [inlineHosts]uint16
}

// inlineHosts is the most hosts a snapshot holds inside itself (hostSets.inPacked).
const inlineHosts = 12

// maxHostsPerKey is the most hosts a key keeps (views name hosts in 16 bits); a route
// with more keeps its first maxHostsPerKey by address. A route frame carries a few
// thousand at most.
const maxHostsPerKey = 1 << 16

// emptySets is the snapshot of a key without hosts.
var emptySets = func() *hostSets {
	s := &hostSets{plain: true}
	s.v4 = &s.pickSet
	return s
}()

// host returns the i-th host of the key.
func (s *hostSets) host(i int) route.Host {
	if s.hosts != nil {
		return s.hosts[i]
	}
	return route.Host{Addr: s.addr(i)}
}

// view returns the view a client reads: v4 for one that cannot take IPv6 hosts.
func (s *hostSets) view(ipv6 bool) *pickSet {
	if ipv6 {
		return &s.pickSet
	}
	return s.v4
}

// group builds a snapshot from hosts sorted by address (at most maxHostsPerKey) and
// their states. It keeps state (the caller gives it up), not hosts. The caller holds
// the key's mu.
func group(t *Table, hosts []route.Host, state []*hostState, now int64) *hostSets {
	n := len(hosts)
	s := &hostSets{state: state, plain: true}
	if n <= inlineHosts {
		s.state = s.inState[:n:n]
		copy(s.state, state)
	}
	all4, zoned, attrs := route.AllIPv4(hosts), false, false
	switch {
	case all4 && n <= inlineHosts:
		s.packed = s.inPacked[:n:n]
	case all4:
		s.packed = make([]uint64, n)
	default:
		s.addrs = make([]netip.AddrPort, n)
	}
	weights := make([]uint32, n)
	for i, st := range s.state {
		h := &hosts[i]
		if all4 {
			s.packed[i] = packAddr(h.Addr)
		} else {
			s.addrs[i] = h.Addr
		}
		if st.overloaded {
			s.nOver++
		}
		zoned = zoned || h.Zone != ""
		attrs = attrs || !h.Plain()
		var next int64
		weights[i], next = t.p.pol.weightAt(st, h.EffectiveWeight(), now)
		if next != 0 && (s.regroupAt == 0 || next < s.regroupAt) {
			s.regroupAt = next
		}
	}
	s.plain = all4 && !attrs
	if attrs {
		s.hosts = slices.Clone(hosts)
	}
	members, cross := zoneMembers(t, hosts, s.state, zoned)
	withState := t.p.pol.pick != PolicyRoundRobin
	s.pickSet = s.buildView(weights, members, withState, s.inIdx[:])
	s.cross = cross
	if all4 {
		s.v4 = &s.pickSet
		return s
	}
	members4 := make([]uint16, 0, len(members))
	for _, i := range members {
		if s.addrs[i].Addr().Is4() { // s.addrs: not every host is IPv4
			members4 = append(members4, i)
		}
	}
	v4 := s.buildView(weights, members4, withState, nil)
	v4.cross = cross
	s.v4 = &v4
	return s
}

// zoneMembers returns the indexes of the hosts get_host picks among: those of the
// agent's zone while enough of them are idle (Policies.ZoneMinUsable), else all of
// them; cross says the agent has a zone, the key's hosts name zones (zoned), and the
// picks leave the agent's zone.
func zoneMembers(t *Table, hosts []route.Host, state []*hostState, zoned bool) (members []uint16, cross bool) {
	members = make([]uint16, 0, len(hosts))
	if zone := t.zone; zone != "" && zoned {
		local, usable := 0, 0
		for i, h := range hosts {
			if h.Zone == zone {
				local++
				if !state[i].overloaded {
					usable++
				}
			}
		}
		if usable > 0 && uint64(usable)*100 >= t.p.pol.zoneMinUsable*uint64(local) {
			for i, h := range hosts {
				if h.Zone == zone {
					members = append(members, uint16(i))
				}
			}
			return members, false
		}
		cross = true
	}
	for i := range hosts {
		members = append(members, uint16(i))
	}
	return members, cross
}

// buildView builds the view of the hosts at members (ascending indexes into the key's
// addresses) with the key's weights, in buf if it has room.
func (s *hostSets) buildView(weights []uint32, members []uint16, withState bool, buf []uint16) pickSet {
	ni := 0
	for _, i := range members {
		if !s.state[i].overloaded {
			ni++
		}
	}
	m := len(members)
	var all []uint16
	if m <= len(buf) {
		all = buf[:m:m]
	} else {
		all = make([]uint16, m)
	}
	var st []*hostExtra
	if withState {
		st = make([]*hostExtra, m)
	}
	a, b := 0, ni
	for _, i := range members {
		j := &a
		if s.state[i].overloaded {
			j = &b
		}
		all[*j] = i
		if withState {
			st[*j] = s.state[i].x
		}
		*j++
	}
	v := pickSet{keyAddrs: s.keyAddrs, idle: all[:ni:ni], over: all[ni:], all: all}
	v.wheel = wheelOf(weights, v.idle)
	v.allW = wheelOf(weights, all)
	if withState {
		v.idleState, v.overState = st[:ni:ni], st[ni:]
	}
	return v
}

// wheelOf returns the weighted turn order of the hosts at idx, as indexes into the
// key's hosts, or nil when their weights are equal.
func wheelOf(weights []uint32, idx []uint16) []uint16 {
	if len(idx) < 2 {
		return nil
	}
	w := make([]uint32, len(idx))
	for j, i := range idx {
		w[j] = weights[i]
	}
	wheel := buildWheel(w)
	for j, pos := range wheel {
		wheel[j] = idx[pos]
	}
	return wheel
}

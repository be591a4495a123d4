package console

import (
	"net/netip"
	"slices"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// callerStatus is the latest status one caller (agent) reported for one host.
type callerStatus struct {
	Caller    string // the caller's IPv4, dotted
	Succ, Err uint32
	ErrorRate float64
	Overload  bool
	At        time.Time
}

// hostStatus is one host of a service with the latest status of every caller.
type hostStatus struct {
	Host route.Host
	// InRoute is false for a host that has call status but is no longer in the route.
	InRoute bool
	Callers []callerStatus // newest first
	// MoreCallers counts the callers cut from Callers (limitCallers).
	MoreCallers int
	Succ, Err   uint64    // summed over callers
	Overload    bool      // some caller's latest status says overloaded
	Newest      time.Time // the newest report of any caller, zero without one
	// Lease is set for a host an instance registered (issue 31): who, and the lease
	// left; nil for a static host, written by an operator.
	Lease *store.LeaseInfo
}

// limitCallers keeps the newest n callers and counts the others in MoreCallers; it
// reports whether it cut any.
func (h *hostStatus) limitCallers(n int) bool {
	if len(h.Callers) <= n {
		return false
	}
	h.MoreCallers += len(h.Callers) - n
	h.Callers = h.Callers[:n]
	return true
}

// ErrorRate is the host's errors over its calls, 0 without calls.
func (h hostStatus) ErrorRate() float64 { return rate(h.Succ, h.Err) }

// rate is err/(succ+err), 0 without calls.
func rate(succ, err uint64) float64 {
	if succ+err == 0 {
		return 0
	}
	return float64(err) / float64(succ+err)
}

// hostStatuses joins a key's hosts and its ServerCallStatus rows: every host of the
// route in address order, then hosts with status but no longer in the route.
func hostStatuses(hosts []route.Host, rows []store.CallStatus) []hostStatus {
	index := make(map[netip.AddrPort]int, len(hosts)) // by address: status rows name no weight or zone
	out := make([]hostStatus, 0, len(hosts))
	for _, h := range hosts {
		index[h.Addr] = len(out)
		out = append(out, hostStatus{Host: h, InRoute: true})
	}
	for _, r := range rows {
		i, ok := index[r.Host.Addr]
		if !ok {
			i = len(out)
			index[r.Host.Addr] = i
			out = append(out, hostStatus{Host: r.Host})
		}
		hs := &out[i]
		hs.Callers = append(hs.Callers, callerStatus{
			Caller:    dottedIP(r.Caller),
			Succ:      r.Succ,
			Err:       r.Err,
			ErrorRate: rate(uint64(r.Succ), uint64(r.Err)),
			Overload:  r.Overload,
			At:        time.Unix(r.TS, 0),
		})
		hs.Succ += uint64(r.Succ)
		hs.Err += uint64(r.Err)
		hs.Overload = hs.Overload || r.Overload
		if at := time.Unix(r.TS, 0); at.After(hs.Newest) {
			hs.Newest = at
		}
	}
	rest := out[len(hosts):]
	slices.SortFunc(rest, func(a, b hostStatus) int { return route.CompareAddr(a.Host, b.Host) })
	return out
}

// dottedIP returns the wire IPv4 ip dotted.
func dottedIP(ip int32) string {
	u := uint32(ip)
	return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}).String()
}

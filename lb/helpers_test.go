package lb

import (
	"net/netip"
	"testing"

	"github.com/larsgo/lars/internal/fakeclock"
	"github.com/larsgo/lars/route"
)

// newFakeClock returns an injected clock that moves only when told.
func newFakeClock() *fakeclock.Clock { return fakeclock.New() }

// Key is the route package's; Host, in the tests, is the address get_host answers.
type (
	Key  = route.Key
	Host = netip.AddrPort
)

// PackKey and UnpackKey are the route package's, as the tests name them.
var (
	PackKey   = route.PackKey
	UnpackKey = route.UnpackKey
)

// hostN returns the n-th test host, 10.0.0.n:8000+n.
func hostN(n int) Host { return route.AddrPortFromWire(10<<24|int32(n), 8000+int32(n)) }

// rh returns hosts as a route's hosts, without weight or zone.
func rh(hosts ...Host) []route.Host {
	out := make([]route.Host, len(hosts))
	for i, h := range hosts {
		out[i] = route.Host{Addr: h}
	}
	return out
}

// routes returns a routes map of addresses as one of route hosts.
func routes(m map[Key][]Host) map[Key][]route.Host {
	out := make(map[Key][]route.Host, len(m))
	for k, hs := range m {
		out[k] = rh(hs...)
	}
	return out
}

const (
	tmod = 1
	tcmd = 2
)

// newStatic returns a static table with the given settings (zero: defaults) holding
// key (tmod, tcmd) with hosts.
func newStatic(t testing.TB, clk *fakeclock.Clock, s Settings, hosts ...Host) *Table {
	t.Helper()
	tbl := NewTable(Config{Settings: s, Clock: clk.Now, Static: true})
	tbl.ReplaceRoutes(routes(map[Key][]Host{{Modid: tmod, Cmdid: tcmd}: hosts}))
	return tbl
}

// hostInfo returns the state of host h of key (tmod, tcmd).
func hostInfo(t testing.TB, tbl *Table, h Host) HostInfo {
	t.Helper()
	ki, ok := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd})
	if !ok {
		t.Fatalf("key %d/%d not in table", tmod, tcmd)
	}
	for _, hi := range ki.Hosts {
		if hi.Host.Addr == h {
			return hi
		}
	}
	t.Fatalf("host %v not in key", h)
	return HostInfo{}
}

func keyInfo(tbl *Table, k Key) (KeyInfo, bool) {
	for _, ki := range tbl.Snapshot() {
		if ki.Key == k {
			return ki, true
		}
	}
	return KeyInfo{}, false
}

// report sends n reports of retcode for h on key (tmod, tcmd).
func report(tbl *Table, h Host, retcode int32, n int) {
	for range n {
		tbl.Report(tmod, tcmd, h, retcode)
	}
}

// drainPulls returns the pulls queued so far.
func drainPulls(tbl *Table) []Key {
	var out []Key
	for {
		select {
		case k := <-tbl.Pulls():
			out = append(out, k)
		default:
			return out
		}
	}
}

// drainStatuses returns the statuses queued so far.
func drainStatuses(tbl *Table) []Status {
	var out []Status
	for {
		select {
		case s := <-tbl.Statuses():
			out = append(out, s)
		default:
			return out
		}
	}
}

// rhs returns a slice of addresses as a route's hosts (rh of a slice).
func rhs(hosts []Host) []route.Host { return rh(hosts...) }

// wireHost returns the address of a wire (ip, port) pair.
func wireHost(ip, port int32) Host { return route.AddrPortFromWire(ip, port) }

// addrs returns the addresses of a route's hosts.
func addrs(hosts []route.Host) []Host {
	out := make([]Host, len(hosts))
	for i, h := range hosts {
		out[i] = h.Addr
	}
	return out
}

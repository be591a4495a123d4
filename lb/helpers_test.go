package lb

import (
	"testing"

	"github.com/larsgo/lars/internal/fakeclock"
)

// newFakeClock returns an injected clock that moves only when told.
func newFakeClock() *fakeclock.Clock { return fakeclock.New() }

// hostN returns the n-th test host, 10.0.0.n:8000+n.
func hostN(n int) Host { return Host{IP: 10<<24 | int32(n), Port: 8000 + int32(n)} }

const (
	tmod = 1
	tcmd = 2
)

// newStatic returns a static table with the given settings (zero: defaults) holding
// key (tmod, tcmd) with hosts.
func newStatic(t testing.TB, clk *fakeclock.Clock, s Settings, hosts ...Host) *Table {
	t.Helper()
	tbl := NewTable(Config{Settings: s, Clock: clk.Now, Static: true})
	tbl.ReplaceRoutes(map[Key][]Host{{Modid: tmod, Cmdid: tcmd}: hosts})
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
		if hi.Host == h {
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

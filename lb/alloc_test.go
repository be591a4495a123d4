//go:build !race

package lb

import (
	"testing"
	"unsafe"

	"github.com/larsgo/lars/internal/alloctest"
	"github.com/larsgo/lars/route"
)

// allocTable returns a dynamic table with 1,000 keys of 10 hosts, one of them
// overloaded on key (tmod, tcmd) so that probes run too.
func allocTable(t testing.TB) *Table {
	tbl := NewTable(Config{Clock: newFakeClock().Now})
	buildKeys(tbl, 1000, 10)
	tbl.GetHost(tmod, tcmd)
	drainPulls(tbl)
	tbl.ApplyRoute(tmod, tcmd, rhs(tenHosts()))
	report(tbl, hostN(3), fail, 15)
	if !hostInfo(t, tbl, hostN(3)).Overloaded {
		t.Fatal("host 3 not overloaded")
	}
	return tbl
}

func wantNoAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	alloctest.Zero(t, name, 1000, f)
}

func TestZeroAllocs(t *testing.T) {
	tbl := allocTable(t)
	dst := make([]route.Host, 0, 16)
	var i int32
	wantNoAllocs(t, "GetHost", func() { sinkHost, sinkRet = tbl.GetHost(tmod, tcmd) })
	wantNoAllocs(t, "GetHost other keys", func() {
		i = (i + 1) % 1000
		sinkHost, sinkRet = tbl.GetHost(i, i+1)
	})
	static := NewTable(Config{Static: true})
	wantNoAllocs(t, "GetHost unknown key in a static table", func() { sinkHost, sinkRet = static.GetHost(5, 6) })
	full := NewTable(Config{MaxKeys: 1})
	full.GetHost(1, 1)
	wantNoAllocs(t, "GetHost unknown key beyond MaxKeys", func() { sinkHost, sinkRet = full.GetHost(5, 6) })
	gate := &countingGate{allow: true}
	wantNoAllocs(t, "GetHostFrom with a gate", func() { sinkHost, sinkRet = tbl.GetHostFrom(tmod, tcmd, gate, true) })
	wantNoAllocs(t, "GetRouteFrom with a gate", func() { dst = tbl.GetRouteFrom(tmod, tcmd, dst[:0], gate, true) })
	gate.allow = false
	wantNoAllocs(t, "GetHostFrom unknown key refused by the gate", func() { sinkHost, sinkRet = tbl.GetHostFrom(5, 6, gate, true) })
	noRoute := NewTable(Config{MaxNoRouteKeys: 1})
	noRoute.GetHost(1, 1)
	wantNoAllocs(t, "GetHost unknown key beyond MaxNoRouteKeys", func() { sinkHost, sinkRet = noRoute.GetHost(5, 6) })
	wantNoAllocs(t, "Report success", func() { tbl.Report(tmod, tcmd, hostN(1), 0) })
	wantNoAllocs(t, "Report failure on an overloaded host", func() { tbl.Report(tmod, tcmd, hostN(3), fail) })
	wantNoAllocs(t, "Report unknown host", func() { tbl.Report(tmod, tcmd, hostN(99), 0) })
	wantNoAllocs(t, "GetRoute", func() { dst = tbl.GetRoute(tmod, tcmd, dst[:0]) })
	wantNoAllocs(t, "lookup", func() {
		i = (i + 1) % 1000
		sinkKS = tbl.lookup(PackKey(i, i+1))
	})
	wantNoAllocs(t, "lookup miss", func() { sinkKS = tbl.lookup(PackKey(-5, -5)) })
}

var sinkKS *keyState

// TestMemoryPerKey measures the heap of a 100,000-key table of 10 hosts each.
func TestMemoryPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-key table")
	}
	perKey, total := measureTable(100_000, 10)
	t.Logf("100,000 keys of 10 hosts: %.0f bytes/key, heap %.1f MiB", perKey, float64(total)/(1<<20))
	if perKey > 2048 {
		t.Errorf("%.0f bytes per key, want at most 2 KiB", perKey)
	}
}

func TestKeyStateLayout(t *testing.T) {
	if n := unsafe.Sizeof(keyState{}); n != 128 {
		t.Errorf("keyState is %d bytes, want 128 (one size class, aligned)", n)
	}
	if n := unsafe.Sizeof(slot{}); n != 128 {
		t.Errorf("slot is %d bytes, want 128: a pick reads one 128-byte aligned pair of lines", n)
	}
	for n := minSlots; n <= 1<<13; n *= 2 {
		if p := uintptr(unsafe.Pointer(&newIndex(n).slots[0])); p%128 != 0 {
			t.Errorf("an index of %d slots starts at %#x, not 128-byte aligned", n, p)
		}
	}
}

func TestMarkPullingAlloc(t *testing.T) {
	tbl := NewTable(Config{Clock: newFakeClock().Now})
	for i := range int32(100) {
		tbl.GetHost(1, i)
	}
	keys := tbl.Reconnected(nil)
	buf := make([]Key, len(keys))
	alloctest.Zero(t, "MarkPulling", 100, func() {
		copy(buf, keys)
		tbl.MarkPulling(buf)
	})
	alloctest.Zero(t, "Reconnected into a large enough dst", 100, func() {
		keys = tbl.Reconnected(keys[:0])
	})
}

//go:build !race

package lb

import (
	"testing"
	"time"

	"github.com/larsgo/lars/internal/alloctest"
)

// TestPolicyZeroAllocs checks get_host and report under each policy, on a key with
// an overloaded host (probes) and, for panic mode, a key in panic.
func TestPolicyZeroAllocs(t *testing.T) {
	for name, pol := range map[string]Policies{
		"p2c":     {Pick: PolicyP2C},
		"ewma":    {Pick: PolicyEWMA},
		"panic":   {PanicThreshold: 95},
		"backoff": {OverloadBackoff: 2},
		"all":     {Pick: PolicyEWMA, PanicThreshold: 95, OverloadBackoff: 2},
	} {
		t.Run(name, func(t *testing.T) {
			clk := newFakeClock()
			tbl := NewTable(Config{Clock: clk.Now, Policies: pol})
			buildKeys(tbl, 100, 10)
			tbl.GetHost(tmod, tcmd)
			drainPulls(tbl)
			tbl.ApplyRoute(tmod, tcmd, rhs(tenHosts()))
			report(tbl, hostN(3), fail, 15)
			var i int32
			alloctest.Zero(t, name+" GetHost", 1000, func() { sinkHost, sinkRet = tbl.GetHost(tmod, tcmd) })
			alloctest.Zero(t, name+" GetHost other keys", 1000, func() {
				i = (i + 1) % 100
				sinkHost, sinkRet = tbl.GetHost(i, i+1)
			})
			alloctest.Zero(t, name+" ReportLatency", 1000, func() {
				tbl.ReportLatency(tmod, tcmd, hostN(1), 0, 3*time.Millisecond)
			})
			alloctest.Zero(t, name+" Report failure on an overloaded host", 1000, func() {
				tbl.Report(tmod, tcmd, hostN(3), fail)
			})
			clk.Advance(2 * time.Second)
			tbl.Tick()
			alloctest.Zero(t, name+" GetHost and Report, epoch moved", 1000, func() {
				sinkHost, sinkRet = tbl.GetHost(tmod, tcmd)
				tbl.ReportLatency(tmod, tcmd, sinkHost, 0, time.Millisecond)
			})
		})
	}
}

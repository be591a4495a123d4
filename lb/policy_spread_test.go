package lb

import (
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
)

// TestPolicyPicksSpread checks that no host starves under the p2c and ewma picks: one
// caller reporting every call before the next (so every host has the same calls in
// flight, none, and the same latency) spreads its picks evenly over the key's hosts,
// each within 20% of an even share. Under concurrency the spread also depends on the
// scheduler (a preempted caller's call in flight rightly steers picks away from its
// host), so TestPolicyStress judges what concurrency must not break, and this test the
// spread.
func TestPolicyPicksSpread(t *testing.T) {
	for name, pol := range map[string]Policies{
		"p2c":          {Pick: PolicyP2C},
		"ewma":         {Pick: PolicyEWMA},
		"p2c panic":    {Pick: PolicyP2C, PanicThreshold: 50, OverloadBackoff: 2},
		"ewma backoff": {Pick: PolicyEWMA, OverloadBackoff: 2},
	} {
		t.Run(name, func(t *testing.T) {
			const calls = 40_000
			stable := []Host{hostN(1), hostN(2), hostN(3), hostN(4)}
			tbl := NewTable(Config{Clock: newFakeClock().Now, Settings: noThresholds(), Policies: pol})
			answer(t, tbl, stable...)
			picks := map[Host]int{}
			for range calls {
				h, ret := tbl.GetHost(tmod, tcmd)
				if ret != codec.RetSucc {
					t.Fatalf("GetHost = %v %v", h, ret)
				}
				picks[h]++
				tbl.ReportLatency(tmod, tcmd, h, 0, time.Millisecond)
			}
			even := calls / len(stable)
			for _, h := range stable {
				if n := picks[h]; n < even*8/10 || n > even*12/10 {
					t.Errorf("host %v picked %d times of %d, want %d ±20%%: %v", h, n, calls, even, picks)
				}
			}
		})
	}
}

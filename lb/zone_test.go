package lb

import (
	"testing"

	"github.com/larsgo/lars/route"
)

// zonedHosts are three hosts in zone a and three in zone b.
func zonedHosts() []route.Host {
	return []route.Host{weighted(1, 0, "a"), weighted(2, 0, "a"), weighted(3, 0, "a"),
		weighted(4, 0, "b"), weighted(5, 0, "b"), weighted(6, 0, "b")}
}

func TestZonePrefersOwnZone(t *testing.T) {
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true, Zone: "b"}, zonedHosts()...)
	got, _ := shares(t, tbl, 300, true)
	wantShares(t, got, map[Host]float64{hostN(4): 1.0 / 3, hostN(5): 1.0 / 3, hostN(6): 1.0 / 3}, 1e-9)
	if st := tbl.Stats(); st.CrossZonePicks != 0 {
		t.Fatalf("%d cross-zone picks counted while the zone was usable", st.CrossZonePicks)
	}
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); ki.CrossZone {
		t.Fatal("key reports cross-zone picks")
	}
}

func TestZoneFallsBackBelowThreshold(t *testing.T) {
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true, Zone: "b"}, zonedHosts()...)
	// Default threshold 50%: 2 of 3 usable stays in zone (ten idle calls then a probe
	// of the overloaded one, all in zone b).
	overload(t, tbl, hostN(4))
	got, _ := shares(t, tbl, 1100, true)
	wantShares(t, got, map[Host]float64{hostN(4): 1.0 / 11, hostN(5): 5.0 / 11, hostN(6): 5.0 / 11}, 1e-9)
	// 1 of 3 usable (33%) is below 50%: every host of the key, counted.
	overload(t, tbl, hostN(5))
	got, _ = shares(t, tbl, 1100, true)
	for _, n := range []int{1, 2, 3} {
		if got[hostN(n)] == 0 {
			t.Fatalf("zone a host %d got no call after the fallback: %v", n, got)
		}
	}
	if st := tbl.Stats(); st.CrossZonePicks != 1100 {
		t.Fatalf("cross-zone picks %d, want 1100", st.CrossZonePicks)
	}
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); !ki.CrossZone {
		t.Fatal("key does not report cross-zone picks")
	}
}

func TestZoneThresholdSetting(t *testing.T) {
	// zone_min_usable 30: 1 of 3 usable (33%) is enough.
	tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true, Zone: "b", Policies: Policies{ZoneMinUsable: 30}}, zonedHosts()...)
	overload(t, tbl, hostN(4))
	overload(t, tbl, hostN(5))
	got, _ := shares(t, tbl, 1100, true)
	if got[hostN(1)]+got[hostN(2)]+got[hostN(3)] != 0 {
		t.Fatalf("calls left zone b at 33%% usable with a 30%% threshold: %v", got)
	}
	// Every host of zone b overloaded: never in zone, whatever the threshold.
	overload(t, tbl, hostN(6))
	got, _ = shares(t, tbl, 300, true)
	if got[hostN(1)] == 0 {
		t.Fatalf("no call left zone b with every host there overloaded: %v", got)
	}
}

func TestZoneNoneOrUnknownUsesEveryHost(t *testing.T) {
	for _, zone := range []string{"", "c"} {
		tbl := newTableOf(t, Config{Clock: newFakeClock().Now, Static: true, Zone: zone}, zonedHosts()...)
		got, _ := shares(t, tbl, 600, true)
		if len(got) != 6 {
			t.Fatalf("agent zone %q: %d hosts picked, want 6", zone, len(got))
		}
		cross := tbl.Stats().CrossZonePicks
		if (zone == "c") != (cross == 600) {
			t.Fatalf("agent zone %q: %d cross-zone picks", zone, cross)
		}
	}
}

func TestZoneRecoversWhenHostsRecover(t *testing.T) {
	clk, tbl := newClocked(t, Config{Zone: "b"}, zonedHosts()...)
	overload(t, tbl, hostN(4))
	overload(t, tbl, hostN(5))
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); !ki.CrossZone {
		t.Fatal("no fallback")
	}
	clk.Advance(DefaultSettings().OverloadTimeout)
	tbl.Sweep()
	if ki, _ := keyInfo(tbl, Key{Modid: tmod, Cmdid: tcmd}); ki.CrossZone {
		t.Fatal("still cross-zone after zone b's hosts recovered")
	}
}

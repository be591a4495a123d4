package main

import (
	"fmt"
	"slices"
	"strings"
)

// direction says whether a unit is better higher (+1) or lower (-1); 0 means the unit
// is not judged (the baselines' own figures: the echo server's and the memory
// latency of lb's BenchmarkGetHostPerMiss; the loss count).
func direction(unit string) int {
	switch {
	case strings.HasPrefix(unit, "echo-"), unit == "sec/miss", unit == "lost":
		return 0
	case unit == "B/s", strings.HasSuffix(unit, "req/s"), unit == "x-echo-rate":
		return +1
	}
	return -1 // sec/op, B/op, allocs/op, cpu-sec/req, x-echo-cpu, x-roundtrip, allocs/req, bytes/key...
}

// ratioUnit reports whether the unit is a ratio a benchmark measured against its own
// baseline in the same run, in alternating chunks (x-roundtrip of api's GetHost against
// bare round trips, x-miss of lb, the x-echo ratios of the end-to-end benchmarks). The
// machine's drift cancels out of such a ratio already, so it is judged as it stands:
// it neither shows the drift nor is corrected for it. Otherwise a change that makes the
// client slower in every pair would move the median of its rows and hide itself.
func ratioUnit(unit string) bool { return strings.HasPrefix(unit, "x-") }

// allocUnit reports whether the unit counts allocations, where any appearance over a
// zero baseline fails whatever the statistics say.
func allocUnit(unit string) bool { return unit == "allocs/op" || unit == "allocs/req" }

// allocTolerance is what allocs/req may show over a zero baseline: the end-to-end
// benchmarks read the server's allocation count over HTTP, and a stray background
// allocation spread over many requests is not a per-request allocation.
const allocTolerance = 0.001

// minDriftRows is the smallest group (one package, one unit) whose median change is
// taken as the machine's drift between the two runs.
const minDriftRows = 4

// group names the rows that share a drift: one package, one unit.
type group struct{ pkg, unit string }

// drift returns, per group, the median change in percent of its rows (significant or
// not), for groups of at least minDriftRows rows. On a shared machine a whole run is
// often faster or slower than another by tens of percent; a benchmark is judged by how
// it moved relative to its neighbours, measured in the same runs.
func drift(rows []row) map[group]float64 {
	deltas := map[group][]float64{}
	for _, r := range rows {
		if r.old > 0 && direction(r.unit) != 0 && !ratioUnit(r.unit) {
			g := group{r.pkg, r.unit}
			deltas[g] = append(deltas[g], (r.new/r.old-1)*100)
		}
	}
	out := map[group]float64{}
	for g, d := range deltas {
		if len(d) >= minDriftRows {
			slices.Sort(d)
			out[g] = (d[len(d)/2] + d[(len(d)-1)/2]) / 2
		}
	}
	return out
}

// check returns a description of every regression among rows, and a warning for
// every group whose whole run moved beyond the threshold (a change that slows a whole
// package alike shows there, not as a regression: read benchstat's table).
func check(rows []row, threshold, alpha float64) (regressions, warnings []string) {
	dr := drift(rows)
	for g, d := range dr {
		if -float64(direction(g.unit))*d > threshold {
			warnings = append(warnings, fmt.Sprintf("%s: the whole run's %s moved %+.1f%% (median); judged relative to that", g.pkg, g.unit, d))
		}
	}
	slices.Sort(warnings)
	for _, r := range rows {
		if allocUnit(r.unit) && r.old == 0 && r.new > allocTolerance {
			regressions = append(regressions, fmt.Sprintf("%s %s: %g %s, baseline 0", r.pkg, r.name, r.new, r.unit))
			continue
		}
		dir := direction(r.unit)
		if dir == 0 || !r.significant || r.p >= alpha {
			continue
		}
		rel := r.delta
		if d, ok := dr[group{r.pkg, r.unit}]; ok {
			rel = ((1+r.delta/100)/(1+d/100) - 1) * 100
		}
		if worse := -float64(dir) * rel; worse > threshold {
			regressions = append(regressions, fmt.Sprintf("%s %s: %s %+.1f%%, %+.1f%% relative to the run (%g -> %g, p=%.3f)",
				r.pkg, r.name, r.unit, r.delta, rel, r.old, r.new, r.p))
		}
	}
	return regressions, warnings
}

package main

import (
	"fmt"
	"strings"
)

// direction says whether a unit is better higher (+1) or lower (-1); 0 means the unit
// is not judged (the echo baseline's own figures, the loss count).
func direction(unit string) int {
	switch {
	case strings.HasPrefix(unit, "echo-"), unit == "lost":
		return 0
	case unit == "B/s", strings.HasSuffix(unit, "req/s"), unit == "x-echo-rate":
		return +1
	}
	return -1 // sec/op, B/op, allocs/op, cpu-ns/req, x-echo-cpu, allocs/req, bytes/key...
}

// allocUnit reports whether the unit counts allocations, where any appearance over a
// zero baseline fails whatever the statistics say.
func allocUnit(unit string) bool { return unit == "allocs/op" || unit == "allocs/req" }

// allocTolerance is what allocs/req may show over a zero baseline: the end-to-end
// benchmarks read the server's allocation count over HTTP, and a stray background
// allocation spread over many requests is not a per-request allocation.
const allocTolerance = 0.001

// check returns a description of every regression among rows.
func check(rows []row, threshold, alpha float64) []string {
	var out []string
	for _, r := range rows {
		if allocUnit(r.unit) && r.old == 0 && r.new > allocTolerance {
			out = append(out, fmt.Sprintf("%s %s: %g %s, baseline 0", r.pkg, r.name, r.new, r.unit))
			continue
		}
		dir := direction(r.unit)
		if dir == 0 || !r.significant || r.p >= alpha {
			continue
		}
		if worse := -float64(dir) * r.delta; worse > threshold {
			out = append(out, fmt.Sprintf("%s %s: %s %+.1f%% (%g -> %g, p=%.3f)", r.pkg, r.name, r.unit, r.delta, r.old, r.new, r.p))
		}
	}
	return out
}

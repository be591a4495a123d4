// Package alloctest is the zero-allocation check the packages' tests share: a hot path
// either allocates nothing per call or fails its test.
package alloctest

import "testing"

// Reporter is the part of testing.TB that Zero uses.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// Zero fails t when f allocates at all, averaged over runs calls of f (after the
// warm-up call testing.AllocsPerRun makes itself). name says what f does.
func Zero(t Reporter, name string, runs int, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(runs, f); n != 0 {
		t.Errorf("%s: %v allocations per run, want 0", name, n)
	}
}

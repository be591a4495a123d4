//go:build race

package store

// raceEnabled shrinks the large tests under the race detector, which slows the
// drivers several times over.
const raceEnabled = true

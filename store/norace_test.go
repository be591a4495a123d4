//go:build !race

package store

// raceEnabled shrinks the large tests under the race detector.
const raceEnabled = false

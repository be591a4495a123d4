package echo_test

import "github.com/larsgo/lars/internal/waitfor"

// goroutinesIn counts the goroutines whose stack holds every one of frames.
func goroutinesIn(frames ...string) int { return waitfor.GoroutinesIn(frames...) }

// waitFor polls cond until it holds, for up to testTimeout, and reports whether it held.
func waitFor(cond func() bool) bool { return waitfor.Poll(testTimeout, cond) }

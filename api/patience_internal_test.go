package api

import (
	"runtime"
	"strings"
	"time"
)

// patience bounds every wait of the internal tests for something a working client
// does: never reached on a working build however busy the machine.
const patience = 30 * time.Second

// goroutinesIn counts the goroutines whose stack holds frame: a test waits for a
// goroutine to be blocked where it must be before acting on it.
func goroutinesIn(frame string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, frame) {
			count++
		}
	}
	return count
}

// waitUntil polls cond every millisecond until it holds, for up to patience, and
// reports whether it held.
func waitUntil(cond func() bool) bool {
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Package waitfor is what tests use to wait for an event instead of sleeping for a
// while: a poll bounded by a deadline, the goroutines of this process blocked where a
// test needs them before it acts, and the threads of another process blocked in
// recvmmsg. A bound here is a deadline a working build never reaches, not a speed.
package waitfor

import (
	"runtime"
	"strings"
	"time"
)

// Poll calls cond every millisecond until it holds or within has passed, and reports
// whether it held.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// GoroutinesIn counts this process's goroutines whose stack holds every one of
// frames (substrings of the stack dump, such as "batchio.(*Conn).ReadBatch").
func GoroutinesIn(frames ...string) int {
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
		all := true
		for _, f := range frames {
			all = all && strings.Contains(g, f)
		}
		if all {
			count++
		}
	}
	return count
}

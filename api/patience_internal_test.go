package api

import (
	"time"

	"github.com/larsgo/lars/internal/waitfor"
)

// patience bounds every wait of the internal tests for something a working client
// does: never reached on a working build however busy the machine.
const patience = 30 * time.Second

// goroutinesIn counts the goroutines whose stack holds frame: a test waits for a
// goroutine to be blocked where it must be before acting on it.
func goroutinesIn(frame string) int { return waitfor.GoroutinesIn(frame) }

// waitUntil polls cond until it holds, for up to patience, and reports whether it held.
func waitUntil(cond func() bool) bool { return waitfor.Poll(patience, cond) }

// Package fakeclock is a clock for tests that moves only when told, for the packages
// that take an injected clock (lb.Config.Clock, the upstream clients).
package fakeclock

import (
	"sync"
	"time"
)

// Start is the time a new Clock shows.
var Start = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is a clock that moves only when Advance is called. It is safe for concurrent
// use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock showing Start.
func New() *Clock { return &Clock{now: Start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

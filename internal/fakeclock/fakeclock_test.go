package fakeclock

import (
	"testing"
	"time"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	c := New()
	if !c.Now().Equal(Start) {
		t.Fatalf("new clock shows %v", c.Now())
	}
	// Best effort for a negative (the clock does not move by itself): real time passes
	// for a moment, which no busy machine makes shorter.
	time.Sleep(time.Millisecond)
	if !c.Now().Equal(Start) {
		t.Fatal("clock moved by itself")
	}
	c.Advance(1500 * time.Millisecond)
	c.Advance(time.Second)
	if got := c.Now().Sub(Start); got != 2500*time.Millisecond {
		t.Fatalf("advanced by %v, want 2.5s", got)
	}
}

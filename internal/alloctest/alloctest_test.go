//go:build !race

package alloctest

import (
	"fmt"
	"testing"
)

// recorder is a Reporter that keeps what it is told instead of failing a test.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

var sink []byte

func TestZeroFailsOnAnyAlloc(t *testing.T) {
	var r recorder
	buf := make([]byte, 64)
	Zero(&r, "reuse", 100, func() { buf = append(buf[:0], "frame"...) })
	if len(r.errs) != 0 {
		t.Fatalf("a call that does not allocate failed: %v", r.errs)
	}
	Zero(&r, "grow", 100, func() { sink = make([]byte, 64) })
	if len(r.errs) != 1 || r.errs[0] != "grow: 1 allocations per run, want 0" {
		t.Fatalf("a call that allocates once: %q", r.errs)
	}
}

package larstest

import (
	"runtime"
	"testing"
	"time"
)

// CheckGoroutines records the number of goroutines now and, when the test ends, waits
// up to timeout for it to come back to that number or below, failing tb with every
// goroutine's stack if it does not. Call it first in the test: cleanups run last
// registered first, so the check runs after the cleanups of what the test starts
// later (fakes, clients). Tests running in parallel make it meaningless.
func CheckGoroutines(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	base := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(timeout)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				tb.Errorf("goroutine leak: %d goroutines, %d before the test\n%s",
					runtime.NumGoroutine(), base, buf)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

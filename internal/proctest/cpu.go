package proctest

import (
	"syscall"
	"time"
)

// ProcessCPU returns the user and system CPU time this process has used, for
// benchmarks that report CPU per operation.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

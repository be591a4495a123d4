package proctest

import (
	"time"

	"github.com/larsgo/lars/loadgen/stats"
)

// ProcessCPU returns the user and system CPU time this process has used, for
// benchmarks that report CPU per operation; 0 where the system does not say.
func ProcessCPU() time.Duration {
	d, _ := stats.ProcessCPU()
	return d
}

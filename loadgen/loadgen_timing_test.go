package loadgen

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkEchoRate measures the load generator's own ceiling: a closed loop against
// the echo server (which shares the machine), answers per second as the metric. Each
// iteration is a one-second run.
func BenchmarkEchoRate(b *testing.B) {
	for _, conc := range []int{64, 256, 1024} {
		for _, sockets := range []int{1, 2} {
			b.Run(fmt.Sprintf("concurrency=%d/sockets=%d", conc, sockets), func(b *testing.B) {
				srv := startEcho(b)
				var rate, p99 float64
				for range b.N {
					rep, err := Run(context.Background(), Config{Ports: []int{int(srv.Addr().Port())}, Sockets: sockets,
						Echo: true, Concurrency: conc, Duration: time.Second, Warmup: 200 * time.Millisecond})
					if err != nil {
						b.Fatal(err)
					}
					rate, p99 = rep.Rate, rep.LatencyUS.P99
					b.Logf("sent %d received %d timeouts %d send lag p99 %.0fus", rep.Sent, rep.Received, rep.Timeouts, rep.SendLagUS.P99)
				}
				b.ReportMetric(rate, "answers/s")
				b.ReportMetric(p99, "p99-us")
			})
		}
	}
}

package benchmarks

import "github.com/larsgo/lars/route"

// workload is one end-to-end traffic pattern: the frames of one batch, repeated to
// fill it, and how many answers a batch gets from the agent and from the echo server
// (which answers every datagram).
type workload struct {
	name         string
	frames       [][]byte
	agentAnswers int
}

var host10 = mustIP("10.0.0.1")

func mustIP(s string) int32 {
	v, err := route.ParseWireIP(s)
	if err != nil {
		panic(err)
	}
	return v
}

func workloads() []workload {
	reportOnly := make([][]byte, batchSize)
	for i := range reportOnly[:batchSize-1] {
		reportOnly[i] = reportFrame(1, 1, host10, 8000, 0)
	}
	reportOnly[batchSize-1] = getHostFrame(1, 1, 1) // one answer per batch: the round's end
	return []workload{
		{"GetHost", [][]byte{getHostFrame(1, 1, 1)}, batchSize},
		{"GetHostReport", [][]byte{getHostFrame(1, 1, 1), reportFrame(1, 1, host10, 8000, 0)}, batchSize / 2},
		{"GetRoute10", [][]byte{getRouteFrame(1, 1)}, batchSize},
		{"GetRoute100", [][]byte{getRouteFrame(2, 2)}, batchSize},
		{"ReportOnly", reportOnly, 1},
	}
}

package ctlplane

import (
	"context"

	"github.com/larsgo/lars/loadgen/report/ctlreport"
	"github.com/larsgo/lars/loadgen/stats"
)

// tallySent fills rep.Sent and rep.Connections once the senders have ended.
func (r *repRun) tallySent(rep *ctlreport.ReporterReport, senders []*repSender) {
	s := &rep.Sent
	s.Frames, s.Results, s.Bytes = r.framesSent.Load(), r.resultsSent.Load(), r.bytesSent.Load()
	s.SkippedRounds = r.skippedRounds.Load()
	s.FrameRate = float64(s.Frames) / rep.DurationS
	s.ResultRate = float64(s.Results) / rep.DurationS
	var lag stats.Histogram
	for _, snd := range senders {
		lag.Merge(&snd.lag)
	}
	s.LagMS = summarize(&lag)
	rep.Connections.Refused = r.dialErrors.Load()
	rep.Connections.ClosedByService = r.closedByService.Load()
}

// serviceSummary reads the service's metrics once more and sums up the run.
func serviceSummary(sc *scraper, ctx context.Context, durationS float64) *ctlreport.ReporterService {
	fig := sc.figures(ctx, "lars_reporter_", "process_cpu_seconds_total", "process_resident_memory_bytes")
	sum := func(name string) uint64 {
		var v float64
		for k, x := range fig {
			if metricBase(k) == name {
				v += x
			}
		}
		return uint64(max(v, 0))
	}
	s := &ctlreport.ReporterService{Frames: sum("lars_reporter_frames_total"), Results: sum("lars_reporter_results_total"),
		RowsWritten: sum("lars_reporter_rows_written_total"), Dropped: sum("lars_reporter_dropped_rows_total"),
		Coalesced: sum("lars_reporter_results_coalesced_total"), Figures: fig}
	s.ResultRate = float64(s.Results) / durationS
	s.RowRate = float64(s.RowsWritten) / durationS
	return s
}

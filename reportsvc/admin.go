package reportsvc

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/internal/admin"
)

// AdminHandler returns the admin endpoint: /metrics (Prometheus text), /healthz and
// /debug/pprof/. Bind it to a loopback address.
func (s *Service) AdminHandler() http.Handler {
	return admin.Mux(admin.Handlers{Metrics: s.WriteMetrics, Health: s.healthText})
}

// healthText is /healthz: always 200 while the service runs (restarting it would lose
// the queue), "ok" while the store takes writes, "degraded" with since when and why
// while it does not.
func (s *Service) healthText() (bool, string) {
	h := s.Health()
	if !h.StoreUp {
		return true, fmt.Sprintf("degraded: report store failing since %s, %d rows queued: %s",
			h.DownSince.Format(time.RFC3339), s.queue.depth(), h.LastError)
	}
	return true, fmt.Sprintf("ok: %d rows queued", s.queue.depth())
}

// WriteMetrics writes the service's metrics in Prometheus text format.
func (s *Service) WriteMetrics(w io.Writer) {
	st := s.Stats()
	h := s.Health()
	metrics.WriteGaugeUint64(w, "lars_reporter_connections", uint64(max(st.Connections, 0)))
	metrics.WriteCounterUint64(w, "lars_reporter_connections_accepted_total", st.Accepted)
	metrics.WriteCounterUint64(w, "lars_reporter_connections_refused_total", st.Refused)
	metrics.WriteCounterUint64(w, `lars_reporter_connections_closed_total{cause="idle"}`, st.IdleClosed)
	metrics.WriteCounterUint64(w, `lars_reporter_connections_closed_total{cause="evicted"}`, st.Evicted)
	metrics.WriteCounterUint64(w, `lars_reporter_connections_closed_total{cause="refused"}`, st.Refused)
	metrics.WriteCounterUint64(w, "lars_reporter_bad_frames_total", st.BadFrames)
	metrics.WriteCounterUint64(w, "lars_reporter_frames_total", st.Frames)
	metrics.WriteCounterUint64(w, "lars_reporter_results_total", st.Results)
	metrics.WriteCounterUint64(w, "lars_reporter_results_coalesced_total", st.Coalesced)
	metrics.WriteCounterUint64(w, "lars_reporter_rows_written_total", st.RowsWritten)
	metrics.WriteCounterUint64(w, "lars_reporter_batches_total", st.Batches)
	metrics.WriteCounterUint64(w, "lars_reporter_db_errors_total", st.DBErrors)
	metrics.WriteGaugeUint64(w, "lars_reporter_queue_rows", uint64(max(st.QueueRows, 0)))
	metrics.WriteGaugeUint64(w, "lars_reporter_queue_capacity_rows", uint64(st.QueueCapacity))
	metrics.WriteCounterUint64(w, `lars_reporter_dropped_rows_total{reason="queue_full"}`, st.DroppedQueueFull)
	metrics.WriteCounterUint64(w, `lars_reporter_dropped_rows_total{reason="db_error"}`, st.DroppedDBError)
	metrics.WriteCounterUint64(w, `lars_reporter_dropped_rows_total{reason="shutdown"}`, st.DroppedShutdown)
	metrics.WriteCounterUint64(w, `lars_reporter_dropped_rows_total{reason="unknown_key"}`, st.DroppedUnknownKey)
	metrics.WriteCounterUint64(w, `lars_reporter_dropped_rows_total{reason="policy"}`, st.DroppedPolicy)
	metrics.WriteCounterUint64(w, `lars_reporter_dropped_rows_total{reason="bad_host"}`, st.DroppedBadHost)
	metrics.WriteCounterUint64(w, `lars_reporter_queue_full_dropped_rows_total{cause="own_over_share"}`, st.DroppedOwn)
	metrics.WriteCounterUint64(w, `lars_reporter_queue_full_dropped_rows_total{cause="heaviest_connection"}`, st.DroppedHeaviest)
	metrics.WriteGaugeUint64(w, "lars_reporter_known_keys", uint64(st.KnownKeys))
	metrics.WriteGaugeUint64(w, "lars_reporter_known_keys_loaded", admin.Bool(st.KnownKeysLoaded))
	metrics.WriteCounterUint64(w, "lars_reporter_known_keys_loads_total", st.KeyLoads)
	metrics.WriteCounterUint64(w, "lars_reporter_known_keys_errors_total", st.KeyLoadErrors)
	metrics.WriteCounterUint64(w, `lars_reporter_retention_deleted_rows_total{table="ServerCallStatus"}`, st.StatusPruned)
	metrics.WriteCounterUint64(w, `lars_reporter_retention_deleted_rows_total{table="RouteHistory"}`, st.HistoryPruned)
	metrics.WriteCounterUint64(w, "lars_reporter_retention_sweeps_total", st.PruneSweeps)
	metrics.WriteCounterUint64(w, "lars_reporter_retention_errors_total", st.PruneErrors)
	metrics.WriteGaugeUint64(w, "lars_reporter_store_up", admin.Bool(h.StoreUp))
	metrics.WriteCounterUint64(w, `lars_reporter_connections_closed_total{cause="not_allowed"}`, st.NotAllowed)
	metrics.WriteCounterUint64(w, "lars_reporter_future_ts_clamped_total", st.FutureClamped)
	if s.cfg.TLS != nil {
		s.cfg.TLS.WriteMetrics(w, "lars_reporter")
	}
	if s.peers != nil {
		s.peers.WriteMetrics(w, "lars_reporter", "results")
	}
	s.set.WritePrometheus(w)
}

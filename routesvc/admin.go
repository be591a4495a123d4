package routesvc

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/internal/admin"
)

// AdminHandler returns the admin endpoint: /metrics (Prometheus text), /healthz,
// /routes (JSON) and /debug/pprof/. Bind it to a loopback address: it shows every route.
func (s *Service) AdminHandler() http.Handler {
	return admin.Mux(admin.Handlers{Metrics: s.WriteMetrics, Health: s.healthText, Routes: s.routesJSON})
}

// healthText is /healthz: 503 until the first load; then 200, "ok" while the store
// answers, "degraded" with how stale the routes are while it does not (the service
// still serves them: restarting it would lose them).
func (s *Service) healthText() (bool, string) {
	h := s.Health()
	switch {
	case !h.Loaded && h.LastError != "":
		return false, fmt.Sprintf("loading: route store unreachable since %s: %s",
			h.DownSince.Format(time.RFC3339), h.LastError)
	case !h.Loaded:
		return false, "loading"
	case !h.StoreUp:
		return true, fmt.Sprintf("degraded: route store unreachable since %s, serving routes %.0fs old: %s",
			h.DownSince.Format(time.RFC3339), h.SnapshotAge.Seconds(), h.LastError)
	}
	return true, fmt.Sprintf("ok: routes %.1fs old", h.SnapshotAge.Seconds())
}

// WriteMetrics writes the service's metrics in Prometheus text format.
func (s *Service) WriteMetrics(w io.Writer) {
	st := s.Stats()
	h := s.Health()
	metrics.WriteGaugeUint64(w, "lars_dns_connections", uint64(max(st.Connections, 0)))
	metrics.WriteCounterUint64(w, "lars_dns_connections_accepted_total", st.Accepted)
	metrics.WriteCounterUint64(w, "lars_dns_connections_refused_total", st.Refused)
	metrics.WriteCounterUint64(w, `lars_dns_connections_closed_total{cause="idle"}`, st.IdleClosed)
	metrics.WriteCounterUint64(w, `lars_dns_connections_closed_total{cause="evicted"}`, st.Evicted)
	metrics.WriteCounterUint64(w, `lars_dns_connections_closed_total{cause="refused"}`, st.Refused)
	metrics.WriteCounterUint64(w, `lars_dns_connections_closed_total{cause="slow"}`, st.SlowClosed)
	metrics.WriteCounterUint64(w, `lars_dns_connections_closed_total{cause="bad_frame"}`, st.BadFrames)
	metrics.WriteCounterUint64(w, `lars_dns_connections_closed_total{cause="not_allowed"}`, st.NotAllowed)
	metrics.WriteCounterUint64(w, "lars_dns_pulls_denied_total", st.PullsDenied)
	metrics.WriteCounterUint64(w, "lars_dns_slow_connections_closed_total", st.SlowClosed)
	metrics.WriteCounterUint64(w, "lars_dns_bad_frames_total", st.BadFrames)
	for i, n := range st.DroppedFrames {
		metrics.WriteCounterUint64(w, `lars_dns_frames_dropped_total{cause="`+dropCauseNames[i]+`"}`, n)
	}
	metrics.WriteCounterUint64(w, "lars_dns_hellos_total", st.Hellos)
	metrics.WriteCounterUint64(w, "lars_dns_unsubscribe_frames_total", st.UnsubscribeFrames)
	metrics.WriteCounterUint64(w, `lars_dns_unsubscribed_keys_total{result="freed"}`, st.Unsubscribed)
	metrics.WriteCounterUint64(w, `lars_dns_unsubscribed_keys_total{result="not_subscribed"}`, st.UnsubscribeMisses)
	metrics.WriteGaugeUint64(w, "lars_dns_subscriptions", uint64(max(st.Subscriptions, 0)))
	metrics.WriteGaugeUint64(w, "lars_dns_unknown_key_subscriptions", uint64(max(st.UnknownKeySubscriptions, 0)))
	for i, n := range st.SubscriptionsRefused {
		metrics.WriteCounterUint64(w, `lars_dns_subscriptions_refused_total{cause="`+subRefusalNames[i]+`"}`, n)
	}
	metrics.WriteCounterUint64(w, "lars_dns_pulls_total", st.Pulls)
	metrics.WriteCounterUint64(w, "lars_dns_pushes_total", st.Pushes)
	metrics.WriteGaugeUint64(w, "lars_dns_keys", uint64(max(st.Keys, 0)))
	metrics.WriteGaugeUint64(w, "lars_dns_routes", uint64(max(st.Routes, 0)))
	metrics.WriteCounterUint64(w, "lars_dns_routes_too_large_total", st.TooLarge)
	metrics.WriteGaugeUint64(w, "lars_dns_version", st.Version)
	metrics.WriteGaugeUint64(w, "lars_dns_last_change_id", st.LastChange)
	metrics.WriteCounterUint64(w, "lars_dns_polls_total", st.Polls)
	metrics.WriteCounterUint64(w, "lars_dns_change_signal_reads_total", st.SignalReads)
	metrics.WriteCounterUint64(w, "lars_dns_change_signal_fired_total", st.SignalFired)
	metrics.WriteCounterUint64(w, "lars_dns_change_gaps_total", st.Gaps)
	metrics.WriteCounterUint64(w, "lars_dns_poll_errors_total", st.PollErrors)
	metrics.WriteCounterUint64(w, "lars_dns_full_loads_total", st.FullLoads)
	metrics.WriteCounterUint64(w, "lars_dns_change_rows_applied_total", st.ChangeRows)
	metrics.WriteCounterUint64(w, "lars_dns_keys_changed_total", st.KeysChanged)
	metrics.WriteCounterUint64(w, "lars_dns_change_rows_deleted_total", st.ChangeRowsDeleted)
	metrics.WriteGaugeUint64(w, "lars_dns_store_up", admin.Bool(h.StoreUp && h.Loaded))
	metrics.WriteGaugeFloat64(w, "lars_dns_snapshot_age_seconds", h.SnapshotAge.Seconds())
	s.writeLeaseMetrics(w)
	if s.cfg.TLS != nil {
		s.cfg.TLS.WriteMetrics(w, "lars_dns")
	}
	if s.peers != nil {
		s.peers.WriteMetrics(w, "lars_dns", "pulls")
	}
	s.set.WritePrometheus(w)
}

// routeJSON is one key of /routes.
type routeJSON struct {
	Modid       int32    `json:"modid"`
	Cmdid       int32    `json:"cmdid"`
	Hosts       []string `json:"hosts"`
	Subscribers int      `json:"subscribers"`
}

// routesJSON is /routes: every key with hosts or subscribers, sorted.
func (s *Service) routesJSON() any {
	out := []routeJSON{}
	s.table.walk(func(kr keyRoute) {
		r := routeJSON{Modid: kr.Key.Modid, Cmdid: kr.Key.Cmdid, Subscribers: kr.Subscribers,
			Hosts: make([]string, len(kr.Hosts))}
		for i, h := range kr.Hosts {
			r.Hosts[i] = h.String()
		}
		out = append(out, r)
	})
	slices.SortFunc(out, func(a, b routeJSON) int {
		if a.Modid != b.Modid {
			return int(a.Modid) - int(b.Modid)
		}
		return int(a.Cmdid) - int(b.Cmdid)
	})
	return out
}

package agent

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/agent/upstream"
	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/admin"
	"github.com/larsgo/lars/lb"
)

// AdminHandler returns the admin endpoint: /metrics (Prometheus text), /routes (JSON),
// /registrations (JSON), /healthz and /debug/pprof/. Bind it to a loopback address: it
// exposes the routes and profiles.
func (a *Agent) AdminHandler() http.Handler {
	mux := admin.Mux(admin.Handlers{Metrics: a.WriteMetrics, Routes: a.routesJSON})
	mux.HandleFunc("/registrations", a.serveRegistrations)
	return mux
}

// WriteMetrics writes the agent's own metrics in Prometheus text format.
func (a *Agent) WriteMetrics(w io.Writer) {
	c := a.Counters()
	for i := range numMsgIDs {
		id := msgIDOfSlot(i)
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_requests_total{msgid="%d",type="%s"}`, id, id), c.Requests[i])
	}
	for rc := codec.RetCode(0); rc < numRetCodes; rc++ {
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_get_host_answers_total{retcode="%s"}`, rc), c.Answers[rc])
	}
	for r := DropReason(0); r < numDropReasons; r++ {
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_drops_total{reason="%s"}`, r), c.Drops[r])
	}
	metrics.WriteCounterUint64(w, "lars_agent_datagrams_total", c.Datagrams)
	metrics.WriteCounterUint64(w, "lars_agent_route_hosts_sent_total", c.RouteHosts)
	var cum, batches uint64
	for i, n := range c.Batches {
		cum += n
		le := "+Inf"
		if i < len(batchBuckets) {
			le = fmt.Sprint(batchBuckets[i])
		}
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_batch_size_bucket{le="%s"}`, le), cum)
	}
	batches = cum
	metrics.WriteCounterUint64(w, "lars_agent_batch_size_sum", c.Datagrams)
	metrics.WriteCounterUint64(w, "lars_agent_batch_size_count", batches)

	s := a.table.Stats()
	metrics.WriteGaugeUint64(w, "lars_agent_keys", uint64(s.Keys))
	metrics.WriteGaugeUint64(w, `lars_agent_hosts{state="idle"}`, uint64(s.HostsIdle))
	metrics.WriteGaugeUint64(w, `lars_agent_hosts{state="overloaded"}`, uint64(s.HostsOverloaded))
	metrics.WriteCounterUint64(w, "lars_agent_route_pulls_total", s.PullsQueued)
	metrics.WriteCounterUint64(w, "lars_agent_route_pulls_dropped_total", s.PullsDropped)
	metrics.WriteCounterUint64(w, "lars_agent_route_pull_retries_total", s.PullRetries)
	metrics.WriteCounterUint64(w, "lars_agent_route_answers_ignored_total", s.AnswersIgnored)
	metrics.WriteGaugeUint64(w, "lars_agent_no_route_keys", uint64(max(s.NoRouteKeys, 0)))
	metrics.WriteCounterUint64(w, `lars_agent_unknown_keys_refused_total{cause="static"}`, s.RefusedStatic)
	metrics.WriteCounterUint64(w, `lars_agent_unknown_keys_refused_total{cause="max_keys"}`, s.RefusedMaxKeys)
	metrics.WriteCounterUint64(w, `lars_agent_unknown_keys_refused_total{cause="max_no_route_keys"}`, s.RefusedNoRoute)
	metrics.WriteCounterUint64(w, `lars_agent_unknown_keys_refused_total{cause="rate_limited"}`, s.RefusedLimited)
	metrics.WriteCounterUint64(w, "lars_agent_no_answer_keys_expired_total", s.NoAnswerExpired)
	if a.limiter != nil {
		metrics.WriteCounterUint64(w, "lars_agent_rate_limit_sources_evicted_total", a.limiter.evicted.Load())
	}
	metrics.WriteCounterUint64(w, "lars_agent_reports_ignored_total", s.ReportsIgnored)
	metrics.WriteCounterUint64(w, "lars_agent_panic_picks_total", s.PanicPicks)
	metrics.WriteCounterUint64(w, "lars_agent_zone_cross_picks_total", s.CrossZonePicks)
	metrics.WriteCounterUint64(w, "lars_agent_status_emitted_total", s.StatusEmitted)
	metrics.WriteCounterUint64(w, "lars_agent_status_dropped_total", s.StatusDropped)
	metrics.WriteCounterUint64(w, "lars_agent_routes_reloads_total", a.reloads.Load())
	metrics.WriteCounterUint64(w, "lars_agent_routes_reload_errors_total", a.reloadErr.Load())
	a.writeTLSMetrics(w)
	a.writeRegisterMetrics(w)

	if a.routes != nil {
		rs := a.routes.Stats()
		writeLinkMetrics(w, "route_service", rs.LinkStats)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_failovers_total", rs.Failovers)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_pulls_sent_total", rs.PullsSent)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_answers_applied_total", rs.AnswersApplied)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_bad_frames_total", rs.BadFrames)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_bad_hosts_total", rs.BadHosts)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_protocol_errors_total", rs.ProtocolErrors)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_resubscriptions_total", rs.Resubscribes)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_resubscribed_keys_total", rs.ResubscribedKeys)
		metrics.WriteGaugeUint64(w, "lars_agent_route_service_resubscribe_pending_keys", rs.ResubscribePending)
		metrics.WriteGaugeFloat64(w, "lars_agent_route_service_resubscribe_last_seconds", rs.LastResubscribe.Seconds())
		for _, kind := range []string{upstream.PeerUnknown, upstream.PeerOurs, upstream.PeerLars} {
			metrics.WriteGaugeUint64(w, fmt.Sprintf(`lars_agent_route_service_peer{kind=%q}`, kind), admin.Bool(rs.Peer == kind))
		}
		metrics.WriteCounterUint64(w, "lars_agent_route_service_hellos_sent_total", rs.HellosSent)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_hello_replies_total", rs.HelloReplies)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_unsubscribe_frames_total", rs.UnsubscribeFrames)
		metrics.WriteCounterUint64(w, "lars_agent_route_service_unsubscribed_keys_total", rs.UnsubscribedKeys)
		metrics.WriteCounterUint64(w, `lars_agent_route_service_dropped_keys_not_given_back_total{cause="peer_or_back_in_table"}`, rs.DroppedNotSent)
		metrics.WriteCounterUint64(w, `lars_agent_route_service_dropped_keys_not_given_back_total{cause="list_full"}`, s.DroppedLost)
		if a.cfg.CacheFile != "" {
			metrics.WriteGaugeUint64(w, "lars_agent_route_cache_keys_loaded", a.cacheLoaded.Load())
			metrics.WriteCounterUint64(w, "lars_agent_route_cache_writes_total", a.cacheWritten.Load())
			metrics.WriteCounterUint64(w, "lars_agent_route_cache_errors_total", a.cacheErrors.Load())
		}
	}
	if a.report != nil {
		rs := a.report.Stats()
		writeLinkMetrics(w, "report_service", rs.LinkStats)
		metrics.WriteCounterUint64(w, "lars_agent_report_service_sent_total", rs.Sent)
		metrics.WriteCounterUint64(w, "lars_agent_report_drops_total", rs.Dropped)
	}
}

// writeLinkMetrics writes the connection metrics of the link to a service, named
// lars_agent_<service>_...: one connected gauge per address of the service (1 for the
// address connected to, if any), and the counts of connections established, lost and
// failed to establish.
func writeLinkMetrics(w io.Writer, service string, ls upstream.LinkStats) {
	p := "lars_agent_" + service
	for _, addr := range ls.Addrs {
		metrics.WriteGaugeUint64(w, fmt.Sprintf(`%s_connected{addr=%q}`, p, addr), admin.Bool(ls.Connected && ls.Addr == addr))
	}
	metrics.WriteCounterUint64(w, p+"_connects_total", ls.Connects)
	metrics.WriteCounterUint64(w, p+"_disconnects_total", ls.Disconnects)
	metrics.WriteCounterUint64(w, p+"_dial_errors_total", ls.DialErrors)
}

// routeJSON is one key of /routes.
type routeJSON struct {
	Modid     int32      `json:"modid"`
	Cmdid     int32      `json:"cmdid"`
	Updated   time.Time  `json:"updated"`
	Pulling   bool       `json:"pulling"`
	AccessCnt uint64     `json:"access_cnt"`
	Panic     bool       `json:"panic,omitempty"`      // in panic mode now (panic_threshold)
	Panics    uint64     `json:"panics,omitempty"`     // calls served in panic mode so far
	CrossZone bool       `json:"cross_zone,omitempty"` // get_host picks outside the agent's zone now (zone_min_usable)
	Hosts     []hostJSON `json:"hosts"`
}

// hostJSON is one host of a key in /routes.
type hostJSON struct {
	Addr       string    `json:"addr"`   // ip:port, [ip]:port for IPv6
	Weight     uint32    `json:"weight"` // the host's weight, route.DefaultWeight when its route names none
	Zone       string    `json:"zone,omitempty"`
	State      string    `json:"state"`
	Since      time.Time `json:"since"`
	VSucc      uint32    `json:"vsucc"`
	VErr       uint32    `json:"verr"`
	RSucc      uint32    `json:"rsucc"`
	RErr       uint32    `json:"rerr"`
	ContinSucc uint32    `json:"contin_succ"`
	ContinErr  uint32    `json:"contin_err"`
	// Policies' state, absent when off: calls in flight (p2c, ewma), peak-EWMA
	// latency in ms (ewma), ejection count and current overload length in seconds
	// (overload_backoff).
	InFlight    uint32  `json:"in_flight,omitempty"`
	LatencyMs   float64 `json:"latency_ms,omitempty"`
	Ejections   uint32  `json:"ejections,omitempty"`
	OverloadFor float64 `json:"overload_for_s,omitempty"`
}

// routesJSON is /routes: every key of the table with its hosts' state.
func (a *Agent) routesJSON() any {
	out := []routeJSON{}
	a.table.Walk(func(k lb.KeyInfo) {
		r := routeJSON{Modid: k.Modid, Cmdid: k.Cmdid, Updated: k.Updated, Pulling: k.Pulling,
			AccessCnt: k.AccessCnt, Panic: k.Panic, Panics: k.Panics, CrossZone: k.CrossZone, Hosts: make([]hostJSON, 0, len(k.Hosts))}
		for _, h := range k.Hosts {
			state := "idle"
			if h.Overloaded {
				state = "overloaded"
			}
			r.Hosts = append(r.Hosts, hostJSON{Addr: h.Host.Addr.String(),
				Weight: h.Host.EffectiveWeight(), Zone: h.Host.Zone, State: state, Since: h.Since,
				VSucc: h.VSucc, VErr: h.VErr, RSucc: h.RSucc, RErr: h.RErr,
				ContinSucc: h.ContinSucc, ContinErr: h.ContinErr,
				InFlight: h.InFlight, LatencyMs: float64(h.Latency) / 1e6, Ejections: h.Ejections,
				OverloadFor: h.OverloadFor.Seconds()})
		}
		out = append(out, r)
	})
	return out
}

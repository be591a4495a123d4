package ctlplane

import (
	"strings"

	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/loadgen/stats"
)

// tally fills rep's counts once every reader has ended.
func (r *regRun) tally(rep *RegisterReport) {
	c := &rep.Connections
	for _, a := range r.agents {
		if a != nil {
			c.Agents++
		}
	}
	for _, s := range r.subscribers {
		if s != nil {
			c.Subscribers++
		}
	}
	c.SubscribersReady = r.subscribersReady
	c.DialErrors, c.AgentsClosed, c.SubscribersClosed = r.dialErrors.Load(), r.agentsClosed.Load(), r.subscribersClosed.Load()

	var stormUp, steadyUp, drop, expiry, reply stats.Histogram
	for _, s := range r.subscribers {
		if s != nil {
			s.h.stormUp.AddTo(&stormUp)
			s.h.steadyUp.AddTo(&steadyUp)
			s.h.drop.AddTo(&drop)
			s.h.expiry.AddTo(&expiry)
		}
	}
	r.replyLatency.AddTo(&reply)
	rep.ReplyMS = summarize(&reply)
	var written stats.Histogram
	r.writeBlocked.AddTo(&written)
	rep.WriteMS = summarize(&written)
	rep.Storm.RegisterMS = summarize(&stormUp)
	st := &rep.Steady
	st.RegisterMS, st.DropMS, st.ExpiryMS = summarize(&steadyUp), summarize(&drop), summarize(&expiry)
	st.Registered = r.newSent.Load() - rep.Storm.Instances
	st.Dropped, st.Expired, st.Skipped = r.dropped.Load(), r.expired.Load(), r.skipped.Load()
	st.ExpiredEarly = r.expiredEarly.Load()
	st.EarliestMS = float64(r.earliestNs.Load()) / 1e6
	r.countMissing(rep)

	for op := range r.results {
		for s := range r.results[op] {
			if n := r.results[op][s].Load(); n > 0 {
				rep.Results = append(rep.Results, RegResultCount{Op: leaseOpName(op), Status: leaseStatusName(s), Count: n})
			}
		}
	}
	rep.Renewals = RegRenewals{Frames: r.renewFrames.Load(), Entries: r.renewEntries.Load()}
	rep.Anomalies = RegAnomalies{RemovedWhileKept: r.removedWhileKept.Load(), Reappeared: r.reappeared.Load(), ReappearedEnded: r.reappearedEnded.Load(),
		UnaskedRemoved: r.unaskedRemoved.Load(), ReplyMismatch: r.replyMismatch.Load(), OutOfOrder: r.outOfOrder.Load(), Malformed: r.malformed.Load(),
		Unexpected: r.unexpected.Load(), WriteErrors: r.writeErrors.Load()}
	if rep.Service != nil && rep.Service["scrape_error"] == 0 && st.DurationS > 0 {
		rep.ServiceRates = map[string]float64{}
		for k, v := range rep.Service {
			if strings.HasSuffix(metricBase(k), "_total") {
				rep.ServiceRates[k] = v / st.DurationS
			}
		}
		rep.DB = dbFigures(rep.Service, st.DurationS)
	}
}

// dbFigures returns the service's lease writes a second from its figures over span
// seconds; nil when its /metrics has none.
func dbFigures(fig map[string]float64, span float64) *RegDB {
	db := &RegDB{RowsByKind: map[string]float64{}, StmtsByKind: map[string]float64{},
		ServiceCPU: fig["process_cpu_seconds_total"] / span}
	found := false
	for k, v := range fig {
		var total *float64
		var byKind map[string]float64
		switch metricBase(k) {
		case leaseRowMetric:
			total, byKind = &db.RowsPerS, db.RowsByKind
		case leaseStatementMetric:
			total, byKind = &db.StatementsPerS, db.StmtsByKind
		default:
			continue
		}
		found = true
		*total += v / span
		kind := "all"
		if _, rest, ok := strings.Cut(k, `kind="`); ok {
			kind, _, _ = strings.Cut(rest, `"`)
		}
		byKind[kind] += v / span
	}
	if !found {
		return nil
	}
	return db
}

// countMissing counts the sights of accepted registrations, drops and expiries that
// did not reach every ready subscriber.
func (r *regRun) countMissing(rep *RegisterReport) {
	want := int32(r.subscribersReady)
	ok := int32(larspb.LeaseStatus_LEASE_OK) + 1
	for g := range r.inst {
		in := &r.inst[g]
		if in.newAt.Load() == 0 || in.status.Load() != ok {
			continue
		}
		up := uint64(max(want-in.up.Load(), 0))
		down := uint64(max(want-in.down.Load(), 0))
		if in.phase == phaseStorm {
			rep.Storm.Missing += up
		} else {
			rep.Steady.MissingRegister += up
		}
		switch in.end.Load() {
		case endDropped:
			rep.Steady.MissingDrop += down
		case endExpired:
			rep.Steady.MissingExpiry += down
		}
	}
}

// leaseOpName returns the lower-case name of LeaseOp op ("keep", "new", "drop").
func leaseOpName(op int) string {
	return strings.ToLower(strings.TrimPrefix(larspb.LeaseOp(op).String(), "LEASE_"))
}

// leaseStatusName returns the lower-case name of LeaseStatus s, "unknown" beyond them.
func leaseStatusName(s int) string {
	if s >= numLeaseStatuses {
		return "unknown"
	}
	return strings.ToLower(strings.TrimPrefix(larspb.LeaseStatus(s).String(), "LEASE_"))
}

package agent

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/agent/upstream"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/admin"
)

// RegistrationInfo is one registration as /registrations lists it.
type RegistrationInfo struct {
	Modid  int32  `json:"modid"`
	Cmdid  int32  `json:"cmdid"`
	Addr   string `json:"addr"`
	Source string `json:"source"` // "client" (a process: expires without keepalives) or "ini"
	// State is the registration's state as its owner is answered: pending, active,
	// static, check_failing, refused, removed or invalid.
	State   string  `json:"state"`
	Message string  `json:"message,omitempty"`
	TTL     float64 `json:"ttl_s"`
	// ExpiresIn is how long the registration lasts without a keepalive from its
	// owner, in seconds; absent for INI registrations.
	ExpiresIn     float64 `json:"expires_in_s,omitempty"`
	Check         string  `json:"check,omitempty"`
	CheckInterval float64 `json:"check_interval_s,omitempty"`
	CheckState    string  `json:"check_state,omitempty"` // unknown, passing or failing
	CheckError    string  `json:"check_error,omitempty"`
}

// Registrations lists the registrations the agent keeps, by key and address.
func (a *Agent) Registrations() []RegistrationInfo { return a.reg.list() }

// list returns the table's registrations, sorted by key and address.
func (r *registry) list() []RegistrationInfo {
	now := r.clock()
	r.mu.Lock()
	out := make([]RegistrationInfo, 0, len(r.entries))
	for id, e := range r.entries {
		ri := RegistrationInfo{Modid: id.key.Modid, Cmdid: id.key.Cmdid, Addr: id.host.String(),
			Source: e.source.String(), State: stateName(e.shown()), Message: e.message, TTL: e.TTL.Seconds()}
		if e.source == srcClient {
			ri.ExpiresIn = max(e.TTL-now.Sub(e.lastKeep), time.Nanosecond).Seconds()
		}
		if e.Check != "" {
			ri.Check, ri.CheckInterval, ri.CheckState, ri.CheckError = e.Check, e.CheckInterval.Seconds(), e.check.String(), e.checkErr
		}
		out = append(out, ri)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(x, y RegistrationInfo) int {
		return cmp.Or(cmp.Compare(x.Modid, y.Modid), cmp.Compare(x.Cmdid, y.Cmdid), cmp.Compare(x.Addr, y.Addr))
	})
	return out
}

// countStates returns the registrations by the state their owners are answered.
func (r *registry) countStates() (n [len(stateNames)]uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.entries {
		if s := e.shown(); s >= 0 && int(s) < len(n) {
			n[s]++
		}
	}
	return n
}

// writeRegisterMetrics writes the registration metrics (issue 31).
func (a *Agent) writeRegisterMetrics(w io.Writer) {
	r := a.reg
	states := r.countStates()
	for s, n := range states {
		if pb.RegisterState(s) != pb.RegisterState_REG_GONE {
			metrics.WriteGaugeUint64(w, fmt.Sprintf(`lars_agent_registrations{state=%q}`, stateNames[s]), n)
		}
	}
	for op := range r.requests {
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_register_requests_total{op=%q}`, opName(pb.RegisterOp(op))), r.requests[op].Load())
	}
	metrics.WriteCounterUint64(w, "lars_agent_register_requests_invalid_total", r.invalid.Load())
	for c := range r.refused {
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_registrations_refused_total{cause=%q}`, refusedLabels[c]), r.refused[c].Load())
	}
	metrics.WriteCounterUint64(w, "lars_agent_registrations_expired_total", r.expired.Load())
	metrics.WriteCounterUint64(w, "lars_agent_register_checks_total", r.checks.run.Load())
	metrics.WriteCounterUint64(w, "lars_agent_register_checks_failed_total", r.checks.failed.Load())
	if a.routes == nil {
		return
	}
	ls := a.routes.Stats().LeaseStats
	metrics.WriteCounterUint64(w, "lars_agent_lease_frames_sent_total", ls.LeaseFrames)
	for op, n := range ls.LeaseSent {
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_lease_entries_sent_total{op=%q}`, leaseOpName(pb.LeaseOp(op))), n)
	}
	metrics.WriteCounterUint64(w, "lars_agent_lease_entries_unsent_total", ls.LeaseUnsent)
	metrics.WriteCounterUint64(w, "lars_agent_lease_replies_total", ls.LeaseReplies)
	for st, n := range ls.LeaseResults {
		metrics.WriteCounterUint64(w, fmt.Sprintf(`lars_agent_lease_results_total{status=%q}`, leaseStatusName(pb.LeaseStatus(st))), n)
	}
	metrics.WriteGaugeUint64(w, "lars_agent_route_service_takes_registrations", admin.Bool(r.linkState() == upstream.LinkRegisters))
}

// linkState returns what the route service connected to is, for registrations.
func (r *registry) linkState() upstream.LinkState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.link
}

func opName(op pb.RegisterOp) string {
	switch op {
	case pb.RegisterOp_REGISTER_NEW:
		return "new"
	case pb.RegisterOp_REGISTER_DROP:
		return "drop"
	}
	return "keep"
}

func leaseOpName(op pb.LeaseOp) string {
	switch op {
	case pb.LeaseOp_LEASE_NEW:
		return "new"
	case pb.LeaseOp_LEASE_DROP:
		return "drop"
	}
	return "keep"
}

var leaseStatusNames = [...]string{"ok", "static", "removed", "denied", "failed", "invalid"}

func leaseStatusName(s pb.LeaseStatus) string {
	if s >= 0 && int(s) < len(leaseStatusNames) {
		return leaseStatusNames[s]
	}
	return "unknown"
}

// ReloadRegistrations makes regs the agent's own registrations (Config.Registrations,
// the INI's [register] lines): lines added are registered, lines gone deregistered.
// On error nothing changes.
func (a *Agent) ReloadRegistrations(regs []Registration) error { return a.reg.setINI(regs) }

// ReloadINIRegistrations reads the [register] lines of the agent's INI file at path
// again and applies them (ReloadRegistrations). Nothing else of the file is applied.
func (a *Agent) ReloadINIRegistrations(path string) error {
	var cfg Config
	if err := LoadINI(path, &cfg); err != nil {
		return err
	}
	return a.ReloadRegistrations(cfg.Registrations)
}

// serveRegistrations is /registrations: every registration the agent keeps, as JSON.
func (a *Agent) serveRegistrations(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(a.Registrations())
}

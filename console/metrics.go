package console

import (
	"io"
	"net/http"

	"github.com/VictoriaMetrics/metrics"

	"github.com/larsgo/lars/internal/admin"
)

// Causes of lars_console_cut_total: what a page bound left out.
const (
	cutServices    = "services_page"  // a services page showed part of the services
	cutHosts       = "hosts_page"     // a service page showed part of its hosts
	cutChanges     = "changes_page"   // a changes page showed part of the changes
	cutNames       = "names_page"     // a names page showed part of a name list
	cutHistoryHost = "history_hosts"  // a changes row listed part of its hosts
	cutCallers     = "callers"        // a host listed part of its callers
	cutReplaceForm = "replace_form"   // the replace form was left empty: the route is too long
	cutPageSize    = "page_size_over" // ?n= asked for more than the most a page shows (refused)
)

// Results of lars_console_logins_total.
const (
	loginOK      = "ok"      // a session started
	loginFailed  = "failed"  // a wrong name, password or API token
	loginLimited = "limited" // refused unchecked: over the client's or account's rate
)

// Causes of lars_console_denied_total.
const (
	deniedNoSession = "no_session" // no live session (none, unknown, expired, ended)
	deniedRole      = "role"       // the account's role may not do it
)

// consoleMetrics are the console's counters.
type consoleMetrics struct {
	set         *metrics.Set
	cut         map[string]*metrics.Counter
	storeErrors *metrics.Counter
	logins      map[string]*metrics.Counter
	denied      map[string]*metrics.Counter
	// sessionsExpired counts the sessions found expired and deleted.
	sessionsExpired *metrics.Counter
}

// newConsoleMetrics returns the counters, each cause's at 0.
func newConsoleMetrics() *consoleMetrics {
	m := &consoleMetrics{set: metrics.NewSet(), cut: map[string]*metrics.Counter{}}
	for _, c := range []string{cutServices, cutHosts, cutChanges, cutNames, cutHistoryHost, cutCallers, cutReplaceForm, cutPageSize} {
		m.cut[c] = m.set.NewCounter(`lars_console_cut_total{cause="` + c + `"}`)
	}
	m.storeErrors = m.set.NewCounter("lars_console_store_errors_total")
	m.logins, m.denied = map[string]*metrics.Counter{}, map[string]*metrics.Counter{}
	for _, r := range []string{loginOK, loginFailed, loginLimited} {
		m.logins[r] = m.set.NewCounter(`lars_console_logins_total{result="` + r + `"}`)
	}
	for _, c := range []string{deniedNoSession, deniedRole} {
		m.denied[c] = m.set.NewCounter(`lars_console_denied_total{cause="` + c + `"}`)
	}
	m.sessionsExpired = m.set.NewCounter("lars_console_sessions_expired_total")
	return m
}

// cutIf counts cause once when cut is true.
func (m *consoleMetrics) cutIf(cut bool, cause string) {
	if cut {
		m.cut[cause].Inc()
	}
}

// WriteMetrics writes the console's metrics in Prometheus text format:
// lars_console_cut_total{cause} counts the pages a bound cut (see the causes) and
// lars_console_store_errors_total the route store errors pages reported,
// lars_console_logins_total{result} the logins (ok, failed, limited: refused over a
// rate), lars_console_denied_total{cause} the requests refused (no_session, role) and
// lars_console_sessions_expired_total the sessions that expired.
func (s *Server) WriteMetrics(w io.Writer) { s.metrics.set.WritePrometheus(w) }

// AdminHandler returns the admin endpoint: /metrics, /healthz, /debug/pprof/.
func (s *Server) AdminHandler() http.Handler {
	return admin.Mux(admin.Handlers{Metrics: s.WriteMetrics})
}

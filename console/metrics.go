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

// consoleMetrics are the console's counters.
type consoleMetrics struct {
	set         *metrics.Set
	cut         map[string]*metrics.Counter
	storeErrors *metrics.Counter
}

// newConsoleMetrics returns the counters, each cause's at 0.
func newConsoleMetrics() *consoleMetrics {
	m := &consoleMetrics{set: metrics.NewSet(), cut: map[string]*metrics.Counter{}}
	for _, c := range []string{cutServices, cutHosts, cutChanges, cutNames, cutHistoryHost, cutCallers, cutReplaceForm, cutPageSize} {
		m.cut[c] = m.set.NewCounter(`lars_console_cut_total{cause="` + c + `"}`)
	}
	m.storeErrors = m.set.NewCounter("lars_console_store_errors_total")
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
// lars_console_store_errors_total the route store errors pages reported.
func (s *Server) WriteMetrics(w io.Writer) { s.metrics.set.WritePrometheus(w) }

// AdminHandler returns the admin endpoint: /metrics, /healthz, /debug/pprof/.
func (s *Server) AdminHandler() http.Handler {
	return admin.Mux(admin.Handlers{Metrics: s.WriteMetrics})
}

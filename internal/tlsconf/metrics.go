package tlsconf

import (
	"fmt"
	"io"

	"github.com/VictoriaMetrics/metrics"
)

// WriteMetrics writes the server's counters in Prometheus text format, each name
// beginning with prefix (lars_dns, say):
//
//	PREFIX_tls_handshakes_total
//	PREFIX_tls_handshake_failures_total{cause="plaintext|no_certificate|unknown_ca|bad_certificate|incomplete|other"}
//	PREFIX_tls_reloads_total{result="ok|error"}
//	PREFIX_tls_cert_expiry_timestamp_seconds
func (s *Server) WriteMetrics(w io.Writer, prefix string) {
	st := s.Stats()
	metrics.WriteCounterUint64(w, prefix+"_tls_handshakes_total", st.Handshakes)
	for _, c := range Causes {
		metrics.WriteCounterUint64(w, fmt.Sprintf(`%s_tls_handshake_failures_total{cause="%s"}`, prefix, c), st.Failed(c))
	}
	metrics.WriteCounterUint64(w, prefix+`_tls_reloads_total{result="ok"}`, st.Reloads)
	metrics.WriteCounterUint64(w, prefix+`_tls_reloads_total{result="error"}`, st.ReloadErrors)
	metrics.WriteGaugeUint64(w, prefix+"_tls_cert_expiry_timestamp_seconds", uint64(max(st.NotAfter.Unix(), 0)))
}

package agent

import (
	"errors"
	"io"

	"github.com/VictoriaMetrics/metrics"
	"github.com/larsgo/lars/internal/tlsconf"
)

// ErrNoTLS is ReloadTLS's error when the agent's links are not TLS.
var ErrNoTLS = errors.New("no TLS files to reload")

// TLSEnabled reports whether the agent's links to the services are TLS.
func (a *Agent) TLSEnabled() bool { return a.tls != nil }

// ReloadTLS reads the TLS files again (on SIGHUP): handshakes from then on use them,
// connections up keep going. On an error the files loaded before stay in use.
func (a *Agent) ReloadTLS() error {
	if a.tls == nil {
		return ErrNoTLS
	}
	if err := a.tls.Reload(); err != nil {
		a.tlsReloadErr.Add(1)
		return err
	}
	a.tlsReloads.Add(1)
	return nil
}

// writeTLSMetrics writes, when the links are TLS, when the agent's certificate expires
// and the reloads of its TLS files:
//
//	lars_agent_tls_cert_expiry_timestamp_seconds (0 without a certificate)
//	lars_agent_tls_reloads_total{result="ok|error"}
func (a *Agent) writeTLSMetrics(w io.Writer) {
	if a.tls == nil {
		return
	}
	var expiry uint64
	if c := a.tls.Certificate(); c != nil {
		expiry = uint64(max(c.NotAfter.Unix(), 0))
	}
	metrics.WriteGaugeUint64(w, "lars_agent_tls_cert_expiry_timestamp_seconds", expiry)
	metrics.WriteCounterUint64(w, `lars_agent_tls_reloads_total{result="ok"}`, a.tlsReloads.Load())
	metrics.WriteCounterUint64(w, `lars_agent_tls_reloads_total{result="error"}`, a.tlsReloadErr.Load())
}

// TLSClient returns the agent's TLS end, nil when its links are plaintext.
func (a *Agent) TLSClient() *tlsconf.Client { return a.tls }

package agent

import (
	"errors"

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
	return a.tls.Reload()
}

// TLSClient returns the agent's TLS end, nil when its links are plaintext.
func (a *Agent) TLSClient() *tlsconf.Client { return a.tls }

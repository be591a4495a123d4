package routesvc

import (
	"net"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tcpserve"
)

// admit runs the TLS handshake of nc, if any, and judges its peer: with mutual TLS
// only agents with a certificate the CA signed are served, and under a Policy only
// those a pull rule names (refused ones are counted as not allowed). The handshakes
// refused are counted by Config.TLS (lars_dns_tls_*).
func (s *Service) admit(nc net.Conn) tcpserve.Admission {
	a := tcpserve.Admit(nc, s.cfg.TLS, s.cfg.Policy, policy.Pull, nil, s.cfg.Logger)
	if a.NotAllowed {
		s.stats.notAllowed.Add(1)
	}
	return a
}

package routesvc

import (
	"net"

	"github.com/larsgo/lars/internal/tcpserve"
)

// authenticate runs the TLS handshake of nc and logs its peer: with mutual TLS only
// agents with a certificate the CA signed are served. It reports whether to serve nc;
// the handshakes refused are counted by Config.TLS (lars_dns_tls_*).
func (s *Service) authenticate(nc net.Conn) bool {
	_, ok := tcpserve.Authenticate(nc, s.cfg.TLS, s.cfg.Logger)
	return ok
}

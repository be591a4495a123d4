package routesvc

import (
	"net"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tcpserve"
	"github.com/larsgo/lars/internal/tlsconf"
)

// authenticate runs the TLS handshake of nc and logs its peer: with mutual TLS only
// agents with a certificate the CA signed are served, and under a Policy only those a
// pull rule names (refused ones are logged and counted as not allowed). It returns
// the peer (none without TLS or a verified certificate), what it may pull (nil:
// everything) and whether to serve nc; the handshakes refused are counted by
// Config.TLS (lars_dns_tls_*).
func (s *Service) authenticate(nc net.Conn) (tlsconf.Peer, *policy.PeerGrant, bool) {
	if s.cfg.TLS == nil {
		return tlsconf.Peer{}, nil, true // plain Lars framing: nobody to name
	}
	peer, ok := tcpserve.Authenticate(nc, s.cfg.TLS, s.cfg.Logger)
	if !ok || s.cfg.Policy == nil {
		return peer, nil, ok
	}
	g := s.cfg.Policy.For(policy.Pull, peer)
	if !g.Any() {
		s.stats.notAllowed.Add(1)
		s.cfg.Logger.Warn("connection refused: identity not allowed to pull routes", "remote", nc.RemoteAddr().String(),
			"peer", peer.String(), "policy", s.cfg.Policy.Path())
		return peer, nil, false
	}
	return peer, g, true
}

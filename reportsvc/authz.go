package reportsvc

import (
	"net"
	"slices"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tcpserve"
	"github.com/larsgo/lars/internal/tlsconf"
)

// authorize runs the TLS handshake of nc (none without TLS) and returns its peer and
// what it may report, or false to close it: any peer without mutual TLS; with it, under a Policy, a peer some
// report rule names (the grant then judges each report's service), and without one a
// peer whose certificate's role is in ReportRoles. A peer refused is logged and
// counted (NotAllowed); the handshakes refused are counted by Config.TLS
// (lars_reporter_tls_*).
func (s *Service) authorize(nc net.Conn) (tlsconf.Peer, *policy.PeerGrant, bool) {
	if s.cfg.TLS == nil {
		return tlsconf.Peer{}, nil, true // plain Lars framing: nobody to name
	}
	peer, ok := tcpserve.Authenticate(nc, s.cfg.TLS, s.cfg.Logger)
	if !ok {
		return peer, nil, false
	}
	if !s.cfg.TLS.Mutual() {
		return peer, nil, true
	}
	if s.cfg.Policy != nil {
		if g := s.cfg.Policy.For(policy.Report, peer); g.Any() {
			return peer, g, true
		}
		s.refuse(nc, peer, "policy", s.cfg.Policy.Path())
		return peer, nil, false
	}
	if slices.Contains(s.cfg.ReportRoles, peer.Role) {
		return peer, nil, true
	}
	s.refuse(nc, peer, "report_roles", s.cfg.ReportRoles)
	return peer, nil, false
}

// refuse logs and counts a connection whose identity may not report: by what (the
// policy file, or the roles allowed).
func (s *Service) refuse(nc net.Conn, peer tlsconf.Peer, by string, what any) {
	s.stats.notAllowed.Add(1)
	s.cfg.Logger.Warn("connection refused: identity not allowed to report", "remote", nc.RemoteAddr().String(),
		"peer", peer.String(), by, what)
}

// stamp returns the time to store for a report's ts: the time it is read when ts is 0
// (none given) or later than that (a clock ahead, or a forged report that would look
// fresh for ever), counted; ts otherwise.
func (s *Service) stamp(ts int64) int64 {
	now := s.cfg.Now().Unix()
	if ts == 0 {
		return now
	}
	if ts > now {
		s.stats.futureClamped.Add(1)
		return now
	}
	return ts
}

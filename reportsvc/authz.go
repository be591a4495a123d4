package reportsvc

import (
	"net"
	"slices"

	"github.com/larsgo/lars/internal/tcpserve"
)

// authorize runs the TLS handshake of nc and reports whether its peer may report:
// any peer without mutual TLS; with it, one whose certificate's role is in
// ReportRoles. A peer of another role is logged and counted (NotAllowed); the
// handshakes refused are counted by Config.TLS (lars_reporter_tls_*).
func (s *Service) authorize(nc net.Conn) bool {
	peer, ok := tcpserve.Authenticate(nc, s.cfg.TLS, s.cfg.Logger)
	if !ok {
		return false
	}
	if !s.cfg.TLS.Mutual() || slices.Contains(s.cfg.ReportRoles, peer.Role) {
		return true
	}
	s.stats.notAllowed.Add(1)
	s.cfg.Logger.Warn("connection refused: identity not allowed to report", "remote", nc.RemoteAddr().String(),
		"peer", peer.String(), "report_roles", s.cfg.ReportRoles)
	return false
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

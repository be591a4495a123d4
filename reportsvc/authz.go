package reportsvc

import (
	"net"
	"slices"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tcpserve"
	"github.com/larsgo/lars/internal/tlsconf"
)

// admit runs the TLS handshake of nc, if any, and judges its peer: any peer without
// mutual TLS; with it, under a Policy, a peer some report rule names (the grant then
// judges each report's service), and without one a peer whose certificate's role is in
// ReportRoles. A peer refused is counted (NotAllowed); the handshakes refused are
// counted by Config.TLS (lars_reporter_tls_*).
func (s *Service) admit(nc net.Conn) tcpserve.Admission {
	a := tcpserve.Admit(nc, s.cfg.TLS, s.cfg.Policy, policy.Report,
		func(p tlsconf.Peer) bool { return slices.Contains(s.cfg.ReportRoles, p.Role) }, s.cfg.Logger)
	if a.NotAllowed {
		s.stats.notAllowed.Add(1)
	}
	return a
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

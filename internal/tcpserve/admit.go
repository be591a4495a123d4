package tcpserve

import (
	"log/slog"
	"net"

	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
)

// Admission is what Admit decided of a connection.
type Admission struct {
	// Peer is the connection's verified identity (the zero Peer without mutual TLS).
	Peer tlsconf.Peer
	// Grant judges which services Peer may act on (nil: every service, no policy).
	Grant *policy.PeerGrant
	// OK says to serve the connection; else the caller closes it.
	OK bool
	// NotAllowed says it was refused for its identity (the caller counts it), not
	// for its handshake (counted by the tlsconf.Server).
	NotAllowed bool
}

// Admit authenticates nc (see Authenticate) and judges its peer for action. Without
// srv (plain Lars framing) or without mutual TLS there is nobody to judge: nc is served
// with no grant. With mutual TLS, a policy (pol) refuses a peer none of its rules for
// action names, and gives the others their grant; without one, allow (nil: every
// peer) decides. An identity refused is logged.
func Admit(nc net.Conn, srv *tlsconf.Server, pol *policy.Live, action policy.Action, allow func(tlsconf.Peer) bool, log *slog.Logger) Admission {
	if srv == nil {
		return Admission{OK: true}
	}
	peer, ok := Authenticate(nc, srv, log)
	if !ok || !srv.Mutual() {
		return Admission{Peer: peer, OK: ok}
	}
	var grant *policy.PeerGrant
	switch {
	case pol != nil:
		if grant = pol.For(action, peer); grant.Any() {
			return Admission{Peer: peer, Grant: grant, OK: true}
		}
	case allow == nil || allow(peer):
		return Admission{Peer: peer, OK: true}
	}
	attrs := []any{"remote", nc.RemoteAddr().String(), "peer", peer.String(), "action", string(action)}
	if pol != nil {
		attrs = append(attrs, "policy", pol.Path())
	}
	log.Warn("connection refused: identity not allowed", attrs...)
	return Admission{Peer: peer, NotAllowed: true}
}

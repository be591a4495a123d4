package policy

import (
	"sync/atomic"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/route"
)

// Live is a policy file a service runs with: loaded at start and again on Reload
// (SIGHUP). A nil *Live is no policy: PeerGrants from it allow everything.
type Live struct {
	path    string
	cur     atomic.Pointer[Policy]
	reloads atomic.Uint64
	errors  atomic.Uint64
}

// LoadLive loads the policy file at path.
func LoadLive(path string) (*Live, error) {
	p, err := Load(path)
	if err != nil {
		return nil, err
	}
	l := &Live{path: path}
	l.cur.Store(p)
	return l, nil
}

// NewLive returns a Live holding p, which Reload replaces only from a file: for
// tests and for policies built in code.
func NewLive(p *Policy) *Live {
	l := &Live{}
	l.cur.Store(p)
	return l
}

// Path is the file the policy is read from ("" for NewLive's).
func (l *Live) Path() string { return l.path }

// Current returns the policy in force.
func (l *Live) Current() *Policy { return l.cur.Load() }

// Reload reads the file again. On an error the policy in force stays, and the error
// is counted; on success every PeerGrant takes the new policy at its next Allows.
func (l *Live) Reload() error {
	p, err := Load(l.path)
	if err != nil {
		l.errors.Add(1)
		return err
	}
	l.cur.Store(p)
	l.reloads.Add(1)
	return nil
}

// Reloads returns how many Reload calls succeeded and failed.
func (l *Live) Reloads() (ok, failed uint64) { return l.reloads.Load(), l.errors.Load() }

// For returns the grant of peer for action, kept current with the policy. Without a
// policy (l nil) it allows everything.
func (l *Live) For(action Action, peer tlsconf.Peer) *PeerGrant {
	g := &PeerGrant{live: l, action: action, peer: peer}
	if l != nil {
		g.pol = l.cur.Load()
		g.grant = g.pol.Grant(action, peer)
	}
	return g
}

// PeerGrant is what one connection's peer may do by one action. It is used by one
// goroutine (the connection's reader): Allows is not safe for concurrent use.
type PeerGrant struct {
	live   *Live
	action Action
	peer   tlsconf.Peer
	pol    *Policy // the policy grant was computed from
	grant  Grant
}

// Any reports whether the policy in force names the peer for the action at all (true
// without a policy).
func (g *PeerGrant) Any() bool {
	if g.live == nil {
		return true
	}
	g.refresh()
	return g.grant.Any()
}

// Allows reports whether the peer may act on service k under the policy in force
// (always, without a policy). It allocates only after a reload, once.
func (g *PeerGrant) Allows(k route.Key) bool {
	if g.live == nil {
		return true
	}
	g.refresh()
	return g.grant.Allows(k)
}

// refresh recomputes the grant when the policy was reloaded since.
func (g *PeerGrant) refresh() {
	if p := g.live.cur.Load(); p != g.pol {
		g.pol, g.grant = p, p.Grant(g.action, g.peer)
	}
}

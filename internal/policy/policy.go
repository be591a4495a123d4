package policy

import (
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/route"
)

// Action is what a rule allows.
type Action string

// The actions a rule may allow.
const (
	// Report: lars-reporter stores the call status the identity reports for the
	// services.
	Report Action = "report"
	// Pull: lars-dns serves the identity the routes of the services.
	Pull Action = "pull"
	// Register: lars-dns takes the identity's registrations (Lease frames) of
	// instances of the services.
	Register Action = "register"
)

// Actions lists every action, in the order the documentation gives them.
var Actions = []Action{Report, Pull, Register}

// Policy is a parsed policy: its rules, deny by default.
type Policy struct {
	rules []Rule
}

// Rule allows one action to the identities Who matches, for Services.
type Rule struct {
	Action   Action
	Who      Pattern
	Services Services
	// Line is the rule's line in its file (1 for the first).
	Line int
}

// Rules returns the policy's rules in file order.
func (p *Policy) Rules() []Rule { return p.rules }

// Grant returns what the policy allows peer to do by action: the union of the
// services of every rule for action whose pattern matches peer. It allocates; call it
// once per connection (or policy reload), then ask Grant.Allows per request.
func (p *Policy) Grant(action Action, peer tlsconf.Peer) Grant {
	id := peer.String()
	var g Grant
	for _, r := range p.rules {
		if r.Action != action || !r.Who.Matches(id) {
			continue
		}
		g.matched = true
		if r.Services.all {
			return Grant{matched: true, all: true}
		}
		g.ranges = append(g.ranges, r.Services.ranges...)
	}
	return g
}

// Grant is what one identity may do by one action: the services it may name.
type Grant struct {
	matched bool // a rule names the identity (it may still allow no service)
	all     bool
	ranges  []Range
}

// AllowAll is the grant of every service, for a service run without a policy.
var AllowAll = Grant{matched: true, all: true}

// Any reports whether a rule for the action names the identity at all: an identity
// no rule names is refused at its connection.
func (g Grant) Any() bool { return g.matched }

// Allows reports whether the grant covers the service k. It does not allocate.
func (g Grant) Allows(k route.Key) bool {
	if g.all {
		return true
	}
	for _, r := range g.ranges {
		if r.contains(k) {
			return true
		}
	}
	return false
}

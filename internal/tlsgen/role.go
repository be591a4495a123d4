package tlsgen

import (
	"crypto/x509"
	"fmt"
)

// Role is what a leaf certificate is for. It is written as the certificate subject's
// organizational unit, so that a service can tell an agent from a console.
type Role string

// The roles of a Lars site's certificates.
const (
	// RoleServer is a control-plane service, lars-dns or lars-reporter: it proves
	// itself to the agents (ServerAuth) and dials no other service.
	RoleServer Role = "server"
	// RoleConsole is lars-console serving HTTPS (ServerAuth).
	RoleConsole Role = "console"
	// RoleAgent is a lars-agent: its certificate is its identity when it dials
	// lars-dns and lars-reporter (ClientAuth).
	RoleAgent Role = "agent"
	// RoleClient is any other client of the services: larsctl, a script, a test
	// (ClientAuth).
	RoleClient Role = "client"
)

// Roles lists every role.
var Roles = []Role{RoleServer, RoleConsole, RoleAgent, RoleClient}

// ParseRole returns the role called s.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown certificate role %q: want server, console, agent or client", s)
}

// Serves reports whether a certificate of role r is presented by a server: it needs
// the names it is reached by (subject alternative names).
func (r Role) Serves() bool { return r == RoleServer || r == RoleConsole }

// extKeyUsages returns what a certificate of role r may be used for. A server's
// certificate cannot pass for a client's, nor an agent's for a server's.
func (r Role) extKeyUsages() []x509.ExtKeyUsage {
	if r.Serves() {
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
}

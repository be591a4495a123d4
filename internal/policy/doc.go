// Package policy reads a site's authorization policy: which identity (the subject of
// a verified client certificate, as tlsconf.Peer names it) may do what to which
// services. It is deny by default: a policy allows only what one of its rules says.
//
// A policy file has one rule a line; '#' starts a comment, blank lines are skipped:
//
//	# ACTION  IDENTITY       SERVICES
//	report    agent/*        *
//	pull      agent/*        *
//	pull      client/ops-*   1000-1999
//	report    agent/web-1    5/1-10,7
//	register  agent/web-*    5
//
// ACTION is report (lars-reporter stores the call status the identity reports), pull
// (lars-dns serves the identity the routes it asks for) or register (lars-dns takes
// the identity's registrations of instances of the services: the agent's Lease
// frames). An agent that registers needs a pull rule as well: lars-dns refuses a
// connection no pull rule names.
//
// IDENTITY is the form tlsconf.Peer.String writes, ROLE/NAME (NAME alone for a
// certificate without a role); a trailing '*' matches any rest, so "agent/*" is every
// agent and "*" every verified identity.
//
// SERVICES is "*" (every service) or a comma-separated list of items: MODID, a
// range of modids LO-HI, MODID/CMDID, or MODID/LO-HI (a range of cmdids of one modid).
// Numbers are 0 to 2147483647.
package policy

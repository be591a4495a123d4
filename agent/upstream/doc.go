// Package upstream holds the agent's two TCP clients: the link to the Lars route
// service (pulls and pushed routes) and the link to the Lars report service.
//
// The route client also speaks the protocol extension of docs/PROTOCOL.md to a route
// service that takes it: a Hello first on every connection, then, only once a
// HelloReply came back on that connection, keepalive Hellos and Unsubscribes of the
// keys the table drops. Lars's lars_dns, which ignores the Hello, gets Lars frames
// only.
package upstream

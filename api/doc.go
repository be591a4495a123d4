// Package api is the client library business code uses to ask the local Lars agent
// which host to call for a service key (modid, cmdid), and to report how the call went:
// the Go equivalent of the C++ lars_api.
//
// A Client talks UDP to the agent, one connected socket per agent port, and sends every
// request for a key to the port PortIndex picks, as the Lars API does. A Client is safe
// for use by many goroutines at once; GetHost and Report do not allocate in steady state.
//
// A process can also register its own instance of a service with the agent (Register,
// an extension of ours: a Lars agent does not answer it): the agent puts it in the
// route through the route service, runs its health check, and withdraws it when the
// process deregisters (Registration.Close) or stops keeping it alive (it died) for
// its ttl. A Registration uses a socket of its own, not the get_host ones.
package api

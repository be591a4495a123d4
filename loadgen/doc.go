// Package loadgen is the Lars load generator as a library: it sends get_host,
// get_route and report datagrams to an agent in a closed or an open loop, measures
// every answer without allocating in its send and receive loops, and reports exact
// latency statistics, loss by class and a per-second series (see SCHEMA.md).
package loadgen

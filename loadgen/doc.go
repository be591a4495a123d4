// Package loadgen is the Lars load generator's traffic engine, as a library: it sends
// get_host, get_route and report datagrams to an agent in a closed or an open loop
// (lanes, pacing, sending, receiving), measures every answer without allocating in
// its send and receive loops, and returns a report.Report: exact latency statistics,
// loss by class and a per-second series (see SCHEMA.md). Sweep searches the capacity
// at which an objective is met.
//
// The rooms beside it: loadgen/stats holds the histogram, objective and verdict that
// this engine and the control-plane generators (loadgen/ctlplane) measure and judge
// with; loadgen/report (and loadgen/report/ctlreport for the control plane) holds the
// reports and writes them as text, CSV, JSON and HTML pages with charts, and compares
// two of them; loadgen/hostmodel models the hosts whose calls the reports carry.
package loadgen

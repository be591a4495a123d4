// Package stats holds what the agent load generator (package loadgen) and the
// control-plane load generators (package ctlplane) measure and judge with: the
// latency histogram, the objective and its verdict, the text table and the
// process's CPU time.
package stats

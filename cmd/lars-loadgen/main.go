// Command lars-loadgen measures Lars: lars-loadgen agent sends get_host, get_route
// and report datagrams to an agent in a closed or open loop, or searches for the
// highest rate that meets a latency objective, and reports exact latency statistics
// and loss by class; lars-loadgen dns and lars-loadgen reporter drive a route service
// or a report service with simulated agents; lars-loadgen compare judges one report
// against another. The old spelling, lars-loadgen [flags] for agent and
// lars-loadgen -service dns|reporter [flags], still works.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

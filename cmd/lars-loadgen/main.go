// Command lars-loadgen measures a Lars agent: it sends get_host, get_route and report
// datagrams in a closed or open loop, or searches for the highest rate that meets a
// latency objective, and reports exact latency statistics and loss by class.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

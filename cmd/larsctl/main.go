// Command larsctl talks to a Lars agent through package api: it asks for a host or a
// route, sends reports, and simulates a caller. Run larsctl -h for its usage.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

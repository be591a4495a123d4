// Command larsctl is Lars's command line. Its commands:
//
// Against an agent, over UDP through package api, as business code:
//   - get-host: ask which host to call for a key
//   - get-route: print every host of a key
//   - report: report a call's result (and latency) to the agent
//   - simulate: call get-host and report N times like a caller, hosts optionally
//     modelled (latency, failures, flaps)
//   - register: register an instance with the agent and keep it registered in the
//     foreground until SIGINT or SIGTERM
//
// Against the route store (-db, or -config's [mysql]):
//   - route list, add, del, set, drop, import, export: read and change the routes
//     the route services serve
//   - route history: the route writes recorded, newest first
//   - status: the call status the report services stored
//   - user list, add, del, passwd: lars-console's accounts
//
// On files:
//   - tls ca create, tls cert create: the CA and the certificates of a site
//   - policy list, add, del, check: a policy file of lars-dns and lars-reporter
//
// Run larsctl -h for every command's arguments and flags, and the exit codes.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

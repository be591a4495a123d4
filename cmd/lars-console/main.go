// Command lars-console is the web console of the route store: it lists the services
// with their call status, adds and removes hosts, shows the history of route writes and
// edits service names (see package console). It reads and writes only the store
// (SQLite or MySQL/MariaDB, Lars's schema), so it runs beside lars-dns and
// lars-reporter, ours or Lars's.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP) // SIGHUP reloads the TLS files
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr, sig))
}

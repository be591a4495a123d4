// Command lars-dns is the Lars route service: it serves the routes of the route store
// (SQLite or MySQL/MariaDB, Lars's schema) to agents over TCP and pushes every change.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP) // SIGHUP reloads the TLS files
	os.Exit(run(os.Args[1:], os.Stderr, sig))
}

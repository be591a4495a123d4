// Command lars-reporter is the Lars report service: it reads the call status agents
// report over TCP and upserts it into ServerCallStatus of the store (SQLite or
// MySQL/MariaDB, Lars's schema), batched.
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

// Command lars-dns is the Lars route service: it serves the routes of the route store
// (SQLite or MySQL/MariaDB, Lars's schema) to agents over TCP and pushes every change.
package main

import (
	"os"

	"github.com/larsgo/lars/internal/daemon"
)

func main() { os.Exit(command.Run(os.Args[1:], os.Stderr, daemon.Signals())) }

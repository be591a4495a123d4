// Command lars-reporter is the Lars report service: it reads the call status agents
// report over TCP and upserts it into ServerCallStatus of the store (SQLite or
// MySQL/MariaDB, Lars's schema), batched.
package main

import (
	"os"

	"github.com/larsgo/lars/internal/daemon"
)

func main() { os.Exit(command.Run(os.Args[1:], os.Stderr, daemon.Signals())) }

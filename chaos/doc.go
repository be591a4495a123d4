// Package chaos holds the fault tests and the soak of the whole system: the real
// binaries on loopback, on SQLite and on MariaDB, steady load on the agent, and faults
// injected on a schedule, each with what must hold. `make chaos` runs the fault tests
// (LARS_CHAOS=1) and `make soak` the soak (LARS_SOAK=duration); they skip otherwise.
package chaos

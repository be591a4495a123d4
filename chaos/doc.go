// Package chaos holds the fault tests of the whole system: the real binaries on
// loopback, steady load on the agent, and faults injected on a schedule, each with what
// must hold. `make chaos` runs them (LARS_CHAOS=1); they skip otherwise.
package chaos

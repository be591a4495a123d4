// Package larstest holds fakes of the Lars route service ("dns") and report service
// ("reporter") on loopback TCP, and test helpers, for the agent's and loadgen's tests.
package larstest

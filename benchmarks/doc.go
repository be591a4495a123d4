// Package benchmarks holds the end-to-end benchmarks over loopback: the agent against
// the echo baseline on the same batched I/O, measured in the same run and reported as
// ratios, and the zero-allocation guards of the end-to-end paths. See PERFORMANCE.md.
package benchmarks

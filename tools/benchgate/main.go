// Command benchgate reads benchstat's CSV comparison of a baseline and a new run
// (benchstat -format csv OLD NEW) on standard input and fails when a benchmark got
// worse beyond a threshold with statistical significance, or allocates where the
// baseline did not. A benchmark's change is taken relative to the median change of its
// package's benchmarks in the same unit (the machine's drift between the two runs, on
// a shared machine often tens of percent), when the package has at least four; ratios
// a benchmark measured against its own baseline in the same run (units "x-...", such as
// api's x-roundtrip) are judged as they stand. make bench-compare runs it; it lives in
// tools/, not cmd/, because it is a tool of the build, not a Lars binary.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	threshold := flag.Float64("threshold", 25, "percent by which a benchmark may get worse before it fails (only significant changes count)")
	alpha := flag.Float64("alpha", 0.05, "p-value under which a change is significant")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: benchstat -format csv OLD NEW | benchgate [-threshold PCT] [-alpha P]")
		os.Exit(2)
	}
	os.Exit(run(os.Stdin, os.Stdout, *threshold, *alpha))
}

// run checks the comparison read from in, writes one line per failure and a summary to
// out, and returns the exit code: 0 when nothing regressed, 1 otherwise.
func run(in io.Reader, out io.Writer, threshold, alpha float64) int {
	rows, err := parse(in)
	if err != nil {
		fmt.Fprintf(out, "benchgate: %v\n", err)
		return 2
	}
	failures, warnings := check(rows, threshold, alpha)
	for _, w := range warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	for _, f := range failures {
		fmt.Fprintln(out, "REGRESSION:", f)
	}
	fmt.Fprintf(out, "benchgate: %d comparisons, %d regressions (threshold %.0f%%, p < %.2f)\n",
		len(rows), len(failures), threshold, alpha)
	if len(failures) > 0 {
		return 1
	}
	return 0
}

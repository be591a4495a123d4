package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/larsgo/lars/loadgen/report"
)

const compareUsage = `Usage: lars-loadgen compare A.json B.json [-html FILE] [-threshold PCT]

Compares two -json reports of lars-loadgen, two runs or two sweeps: prints each figure of
A and B with its change, and with -html writes a page with both overlaid.
Exit status: 0 when B is not worse than A beyond the threshold, 1 when it is (on p99 for
runs, on capacity for sweeps), 2 on bad input.

`

// compareOptions are the arguments of the compare subcommand.
type compareOptions struct {
	files     []string
	htmlPath  string
	threshold float64
}

// parseCompareArgs reads the two files and the flags, which may come before, between or
// after them.
func parseCompareArgs(args []string) (*compareOptions, *flag.FlagSet, error) {
	o := &compareOptions{}
	fs := flag.NewFlagSet("lars-loadgen compare", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.htmlPath, "html", "", "write a self-contained HTML page of the comparison to this file")
	threshold := fs.String("threshold", strconv.Itoa(report.DefaultThreshold), "percent by which B may be worse than A (p99 of runs, capacity of sweeps) before the exit status is 1")
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fs, err
		}
		if fs.NArg() == 0 {
			break
		}
		o.files = append(o.files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	t, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(*threshold), "%"), 64)
	if err != nil || t < 0 || math.IsNaN(t) || math.IsInf(t, 0) {
		return nil, fs, fmt.Errorf("invalid -threshold %q: want a percentage such as 10 or 10%%", *threshold)
	}
	o.threshold = t
	if len(o.files) != 2 {
		return nil, fs, fmt.Errorf("want two report files, got %d: lars-loadgen compare A.json B.json [-html FILE] [-threshold PCT]", len(o.files))
	}
	return o, fs, nil
}

// runCompare is the compare subcommand: lars-loadgen compare A.json B.json. Errors are
// one line on stderr.
func runCompare(args []string, stdout, stderr io.Writer) int {
	o, fs, err := parseCompareArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stderr, compareUsage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "lars-loadgen compare: %v\n", err)
		return exitUsage
	}
	c, err := compareFiles(o.files[0], o.files[1], o.threshold)
	if err != nil {
		fmt.Fprintf(stderr, "lars-loadgen compare: %v\n", err)
		return exitUsage
	}
	if err := c.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "lars-loadgen compare: %v\n", err)
		return exitUsage
	}
	if o.htmlPath != "" {
		var page bytes.Buffer
		err := c.WriteHTML(&page)
		if err == nil {
			err = os.WriteFile(o.htmlPath, page.Bytes(), 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "lars-loadgen compare: cannot write -html: %v\n", err)
			return exitUsage
		}
	}
	if len(c.Regressions()) > 0 {
		return exitMissed
	}
	return exitOK
}

// compareFiles reads two reports of the same kind and compares them.
func compareFiles(pathA, pathB string, threshold float64) (*report.Comparison, error) {
	runA, sweepA, err := readReport(pathA)
	if err != nil {
		return nil, err
	}
	runB, sweepB, err := readReport(pathB)
	if err != nil {
		return nil, err
	}
	switch {
	case runA != nil && runB != nil:
		return report.CompareRuns(pathA, runA, pathB, runB, threshold), nil
	case sweepA != nil && sweepB != nil:
		return report.CompareSweeps(pathA, sweepA, pathB, sweepB, threshold), nil
	}
	kind := func(r *report.Report) string {
		if r != nil {
			return "a run"
		}
		return "a sweep"
	}
	return nil, fmt.Errorf("cannot compare %s (%s) with %s (%s): compare two runs or two sweeps", kind(runA), pathA, kind(runB), pathB)
}

func readReport(path string) (*report.Report, *report.SweepReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read report: %w", err)
	}
	run, sweep, err := report.DecodeReport(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, sweep, nil
}

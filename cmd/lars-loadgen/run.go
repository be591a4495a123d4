package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	rpprof "runtime/pprof"
	"syscall"
	"time"

	"github.com/larsgo/lars/loadgen"
	"github.com/larsgo/lars/loadgen/report"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/pprof"
)

// Exit codes.
const (
	exitOK     = 0
	exitMissed = 1 // the objective was missed, or the run failed
	exitUsage  = 2 // bad arguments
)

// run is the whole command. SIGINT or SIGTERM ends the run early; the report of what
// was sent so far is still written.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runAgent is the agent subcommand: lars-loadgen agent [flags], or in the old
// spelling lars-loadgen [-service agent] [flags].
func runAgent(ctx context.Context, args []string, oldSpelling bool, stdout, stderr io.Writer) int {
	o, fs, err := parseFlags(args, oldSpelling)
	if errors.Is(err, flag.ErrHelp) {
		agentUsage(stderr, fs)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
		agentUsage(stderr, fs)
		return exitUsage
	}
	// With -json -, the JSON is the only thing on stdout: the table goes to stderr.
	textOut := stdout
	if o.jsonPath == "-" {
		textOut = stderr
	}
	if !o.quiet {
		o.cfg.Live = stderr
	}
	if o.procs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(o.procs))
	}
	if o.cpuProfile != "" {
		stopProfile, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
			return exitUsage
		}
		defer stopProfile()
	}
	if o.doSweep {
		return runSweep(ctx, o, stdout, textOut, stderr)
	}
	return runOnce(ctx, o, stdout, textOut, stderr)
}

// runOnce makes one run, with the agent's CPU profile when -profile asks for it,
// and writes its report.
func runOnce(ctx context.Context, o *options, stdout, textOut, stderr io.Writer) int {
	var prof chan error
	profCtx, cancelProf := context.WithCancel(context.Background())
	defer cancelProf()
	if o.profile != "" {
		prof = startProfile(profCtx, o)
	}
	rep, err := loadgen.Run(ctx, o.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
		return exitMissed
	}
	if o.slo != nil {
		rep.SLO = report.CheckSLO(*o.slo, rep)
	}
	code := exitOK
	if err := rep.WriteText(textOut); err != nil {
		code = exitMissed
	}
	if err := writeOutputs(o, stdout, rep); err != nil {
		fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
		code = exitMissed
	}
	if prof != nil {
		if ctx.Err() != nil {
			cancelProf() // interrupted: the profile would take its full span
		}
		if err := <-prof; err != nil {
			fmt.Fprintf(stderr, "lars-loadgen: cannot capture the CPU profile: %v\n", err)
		} else {
			fmt.Fprintf(stderr, "lars-loadgen: CPU profile of the agent written to %s\n", o.profOut)
		}
	}
	if rep.SLO != nil && !rep.SLO.Met {
		code = exitMissed
	}
	return code
}

// startCPUProfile starts the load generator's own CPU profile into path; the
// returned function stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cannot create -cpuprofile: %w", err)
	}
	if err := rpprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot start -cpuprofile: %w", err)
	}
	return func() {
		rpprof.StopCPUProfile()
		f.Close()
	}, nil
}

// startProfile fetches the agent's CPU profile for the run's span in the background;
// the channel delivers the outcome.
func startProfile(ctx context.Context, o *options) chan error {
	done := make(chan error, 1)
	span := o.cfg.Warmup + o.cfg.Duration
	if span <= 0 {
		span = loadgen.DefaultDuration
	}
	seconds := int(math.Ceil(span.Seconds()))
	f, err := os.Create(o.profOut)
	if err != nil {
		done <- err
		return done
	}
	go func() {
		ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+30*time.Second)
		defer cancel()
		err := pprof.Fetch(ctx, o.profile, "profile", seconds, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	return done
}

func runSweep(ctx context.Context, o *options, stdout, textOut, stderr io.Writer) int {
	sc := o.sweep
	sc.Load = o.cfg
	sc.Load.Live = nil
	if !o.quiet {
		sc.OnStep = func(st report.SweepStep) {
			r := st.Report
			verdict := stats.StepVerdict(st.Met, st.Reason)
			fmt.Fprintf(stderr, "step %9.0f/s  achieved %9.0f/s  p50 %8.1fus  p99 %8.1fus  p99.9 %8.1fus  loss %.4f%%  %s\n",
				st.TargetRate, r.Rate, r.LatencyUS.P50, r.LatencyUS.P99, r.LatencyUS.P999, r.Loss*100, verdict)
		}
	}
	sw, err := loadgen.Sweep(ctx, sc)
	if err != nil {
		fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
		return exitMissed
	}
	code := exitOK
	if err := sw.WriteText(textOut); err != nil {
		code = exitMissed
	}
	if err := writeOutputs(o, stdout, sw); err != nil {
		fmt.Fprintf(stderr, "lars-loadgen: %v\n", err)
		code = exitMissed
	}
	if !sw.Found {
		code = exitMissed
	}
	return code
}

// writeOutputs writes the -json, -csv and -html files of a run or a sweep.
func writeOutputs(o *options, stdout io.Writer, out report.Document) error {
	for _, f := range []struct {
		flag, path string
		write      func(io.Writer) error
	}{
		{"-json", o.jsonPath, out.WriteJSON},
		{"-csv", o.csvPath, out.WriteCSV},
		{"-html", o.htmlPath, out.WriteHTML},
	} {
		if f.path == "" {
			continue
		}
		if err := writeTo(f.path, stdout, f.write); err != nil {
			return fmt.Errorf("cannot write %s: %w", f.flag, err)
		}
	}
	return nil
}

// writeTo writes to path, or to stdout when path is "-".
func writeTo(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// runContext runs the subcommand args name: agent, dns, reporter or compare. The
// old spelling, flags first and -service dns|reporter among them (agent without
// one), is still read.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name, flags, oldSpelling := subcommand(args)
	switch name {
	case "compare":
		return runCompare(flags, stdout, stderr)
	case "agent":
		return runAgent(ctx, flags, oldSpelling, stdout, stderr)
	case "dns", "reporter":
		return runService(ctx, name, flags, oldSpelling, stdout, stderr)
	}
	fmt.Fprintf(stderr, "lars-loadgen: invalid -service %q: want agent, dns or reporter\n", name)
	return exitUsage
}

// subcommand splits args into the subcommand's name and its flags: the first
// argument names it, or in the old spelling (oldSpelling true, the flags keep
// -service) the -service flag does, agent when there is none.
func subcommand(args []string) (name string, flags []string, oldSpelling bool) {
	if len(args) > 0 {
		switch args[0] {
		case "agent", "dns", "reporter", "compare":
			return args[0], args[1:], false
		}
	}
	if service, ok := serviceFlag(args); ok {
		return service, args, true
	}
	return "agent", args, true
}

// serviceFlag finds -service NAME (or -service=NAME) in args; ok is false when absent.
func serviceFlag(args []string) (service string, ok bool) {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "service" {
			continue
		}
		if hasValue {
			return value, true
		}
		if i+1 < len(args) {
			return args[i+1], true
		}
		return "", true
	}
	return "", false
}

// parseFlagSet parses args with fs, which takes no argument but its flags, and
// returns the names of the flags given.
func parseFlagSet(fs *flag.FlagSet, args []string) (map[string]bool, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return set, nil
}

// agentUsage writes the command's usage: its subcommands, then the agent's flags.
func agentUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `Usage: lars-loadgen agent [flags]
       lars-loadgen dns|reporter [flags]   (lars-loadgen dns -h)
       lars-loadgen compare A.json B.json [-html FILE] [-threshold PCT]
The old spelling still works: lars-loadgen [flags] for agent, and
lars-loadgen -service dns|reporter [flags].

Measures a Lars agent: closed loop (-concurrency), open loop (-rate) or capacity
search (-sweep -slo p99=1ms); dns and reporter measure a route service or a report
service over TCP; compare judges one report against another. Exit status: 0 done,
1 objective missed or run failed (compare: B worse than A), 2 bad arguments.

Flags of agent:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

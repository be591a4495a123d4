package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// usage prints the whole usage text: global flags, every subcommand with its flags, and
// the exit codes.
func usage(w io.Writer, global *flag.FlagSet) {
	fmt.Fprint(w, `Usage: larsctl [global flags] COMMAND ARGS...

larsctl asks a Lars agent for hosts over UDP, as business code does through the Lars
API, and reports call results to it; register registers an instance with our agent
and keeps it registered. Its route commands administer the routes in the
route store (-db, or -config) that the route services serve; status prints the call
status the report services stored there.

Commands:
`)
	for _, c := range commands {
		if c.subcommands != nil {
			printCommands(w, c.subcommands)
			continue
		}
		printCommands(w, []*command{c})
	}
	fmt.Fprint(w, "\nGlobal flags:\n")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprint(w, exitCodes)
}

// groupUsage prints the usage of a command group such as route: its subcommands.
func groupUsage(w io.Writer, group *command) {
	fmt.Fprintf(w, "Usage: larsctl [global flags] %s SUBCOMMAND ARGS...\n\nSubcommands:\n", group.name)
	printCommands(w, group.subcommands)
	fmt.Fprint(w, "\nRun larsctl -h for the global flags.\n")
	fmt.Fprint(w, exitCodes)
}

// printCommands prints each command's synopsis, summary and flags.
func printCommands(w io.Writer, cmds []*command) {
	for _, c := range cmds {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(c.name+" "+c.args))
		for line := range strings.Lines(c.summary) {
			fmt.Fprint(w, "    \t", strings.TrimSuffix(line, "\n"), "\n")
		}
		if c.flags != nil {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			c.flags(fs)
			var b strings.Builder
			fs.SetOutput(&b)
			fs.PrintDefaults()
			for line := range strings.Lines(b.String()) {
				fmt.Fprint(w, "    ", line) // indented under the command
			}
		}
	}
}

// commandUsage prints one subcommand's usage.
func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: larsctl [global flags] %s\n\n%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	if c.flags != nil {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprint(w, "\nRun larsctl -h for the global flags.\n")
	fmt.Fprint(w, exitCodes)
}

const exitCodes = `
Exit codes:
  0  success
  1  other failure (a route store error among them)
  2  bad usage, or a bad -config file
  3  overloaded: every host of the key is overloaded (RET_OVERLOAD)
  4  no host known for the key (RET_NOEXIST, or an empty route; route list, status: none stored)
  5  agent system error (RET_SYSTEM_ERROR)
  6  timeout: no answer from the agent
  7  agent unreachable: its port refused the request
`

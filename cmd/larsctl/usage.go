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
API, and reports call results to it.

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %s %s\n", c.name, c.args)
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
	fmt.Fprint(w, "\nGlobal flags:\n")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprint(w, exitCodes)
}

// commandUsage prints one subcommand's usage.
func commandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: larsctl [global flags] %s %s\n\n%s\n", c.name, c.args, c.summary)
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
  1  other failure
  2  bad usage
  3  overloaded: every host of the key is overloaded (RET_OVERLOAD)
  4  no host known for the key (RET_NOEXIST, or an empty route)
  5  agent system error (RET_SYSTEM_ERROR)
  6  timeout: no answer from the agent
  7  agent unreachable: its port refused the request
`

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/internal/secretsrc"
)

// env is what a subcommand runs with: the global flags and the output streams.
type env struct {
	agent   netip.Addr
	ports   []uint16
	timeout time.Duration
	reg     bool
	db      string // the route store's DSN: -db, else -config's [mysql]
	// groupReadable creates a missing SQLite store 0640 instead of 0600.
	groupReadable bool
	stdin         io.Reader
	stdout        io.Writer
	stderr        io.Writer
}

// command is one subcommand. run returns an error for bad usage (usageError) or for a
// failed call; it prints its own output.
type command struct {
	name    string
	args    string // argument synopsis
	summary string
	// flags, if set, declares the subcommand's flags on fs and returns the options
	// they fill, which run receives as opts.
	flags func(fs *flag.FlagSet) any
	run   func(e *env, opts any, args []string) error
	// subcommands, if set, makes this a group (route): its first argument names
	// the subcommand to run, and of the group's other fields only name is used.
	subcommands []*command
}

var commands = []*command{getHostCmd, getRouteCmd, reportCmd, simulateCmd, routeCmd, statusCmd}

// run is larsctl: it parses args (without the program name), runs the subcommand and
// returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runWithStdin(args, os.Stdin, stdout, stderr)
}

// runWithStdin is run reading "-" files (route import -) from stdin.
func runWithStdin(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("larsctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agent := fs.String("agent", "127.0.0.1", "agent `address` (IPv4 or IPv6)")
	ports := fs.String("ports", "8888,8889,8890", "agent UDP `ports`, comma-separated; a key's requests go to ports[(modid+cmdid) mod count]")
	fs.DurationVar(&e.timeout, "timeout", api.DefaultTimeout, "how long to wait for each answer")
	fs.BoolVar(&e.reg, "reg", true, "pull the key's route first, as the Lars API's reg_init (3 tries, 50ms apart), before get-host, get-route and simulate")
	fs.StringVar(&e.db, "db", defaultDB, "route store of the route commands, a `DSN`: sqlite:PATH (created if missing) or user:pass@tcp(host:port)/dbname (MySQL, MariaDB); wins over -config"+secretsrc.DBHelp)
	dbFile := fs.String("db-file", "", "`file` whose first line is the route store's DSN, in place of -db (default: -config's [mysql], else $"+secretsrc.EnvDB+", else the -db default)")
	fs.BoolVar(&e.groupReadable, "group-readable", false, "create a missing SQLite route store readable by its group (mode 0640) instead of its owner only (0600)")
	config := fs.String("config", "", "Lars conf `file` (lars_dns.conf) whose [mysql] section names the route store when -db is not given")
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	var err error
	if e.agent, err = parseAgent(*agent); err == nil {
		e.ports, err = parsePorts(*ports)
	}
	if err == nil && e.timeout <= 0 {
		err = usagef("-timeout %v: must be positive", e.timeout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "larsctl: %v\n", err)
		fs.Usage()
		return exitUsage
	}
	if e.db, err = storeDSN(fs, e.db, *dbFile, *config, os.Getenv); err != nil {
		fmt.Fprintf(stderr, "larsctl: %v\n", err) // one line: the usage would hide it
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "larsctl: no command")
		fs.Usage()
		return exitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if c := findCommand(commands, name); c != nil {
		return e.runCommand(c, rest)
	}
	fmt.Fprintf(stderr, "larsctl: unknown command %q\n", name)
	fs.Usage()
	return exitUsage
}

// findCommand returns the command of cmds called name, nil if none is.
func findCommand(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name || strings.HasSuffix(c.name, " "+name) {
			return c
		}
	}
	return nil
}

// runCommand parses a subcommand's flags, which may come before, between or after its
// arguments, and runs it.
func (e *env) runCommand(c *command, args []string) int {
	if c.subcommands != nil {
		return e.runGroup(c, args)
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var opts any
	if c.flags != nil {
		opts = c.flags(fs)
	}
	fs.Usage = func() { commandUsage(e.stderr, c, fs) }
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	err := c.run(e, opts, pos)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "larsctl %s: %v\n", c.name, err)
		fs.Usage()
		return exitUsage
	}
	if err != nil {
		return fail(e.stderr, c.name, err)
	}
	return exitOK
}

// runGroup runs the subcommand of group c that args[0] names.
func (e *env) runGroup(c *command, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) == 0 {
			fmt.Fprintf(e.stderr, "larsctl %s: no subcommand\n", c.name)
		}
		groupUsage(e.stderr, c)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if sub := findCommand(c.subcommands, args[0]); sub != nil {
		return e.runCommand(sub, args[1:])
	}
	fmt.Fprintf(e.stderr, "larsctl %s: unknown subcommand %q\n", c.name, args[0])
	groupUsage(e.stderr, c)
	return exitUsage
}

// client returns a client of the agent the global flags name.
func (e *env) client() (*api.Client, error) {
	return api.New(api.Config{Agent: e.agent, Ports: e.ports, Timeout: e.timeout})
}

// keyClient returns a client of the agent with, under -reg, the key's route pulled
// first (see regInit). The caller closes it.
func (e *env) keyClient(modid, cmdid int32) (*api.Client, error) {
	c, err := e.client()
	if err != nil {
		return nil, err
	}
	if err := e.regInit(c, modid, cmdid); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// keyArgs checks that there are exactly n arguments, the key first, and parses the key.
func keyArgs(args []string, n int) (modid, cmdid int32, err error) {
	if err := wantArgs(args, n); err != nil {
		return 0, 0, err
	}
	return parseKey(args)
}

// regInit runs RegInit for the key when -reg is on. A route that stays empty is left
// for the call that follows to report.
func (e *env) regInit(c *api.Client, modid, cmdid int32) error {
	if !e.reg {
		return nil
	}
	if err := c.RegInit(context.Background(), modid, cmdid); err != nil && !errors.Is(err, api.ErrNoExist) {
		return err
	}
	return nil
}

func parseAgent(s string) (netip.Addr, error) {
	if s == "localhost" {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, usagef("-agent %q: not an IP address", s)
	}
	return a, nil
}

func parsePorts(s string) ([]uint16, error) {
	var ports []uint16
	for f := range strings.SplitSeq(s, ",") {
		p, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
		if err != nil || p == 0 {
			return nil, usagef("-ports %q: %q is not a port number", s, f)
		}
		ports = append(ports, uint16(p))
	}
	return ports, nil
}

// parseKey parses the MODID and CMDID arguments.
func parseKey(args []string) (modid, cmdid int32, err error) {
	if len(args) < 2 {
		return 0, 0, usagef("missing MODID and CMDID")
	}
	if modid, err = parseInt32("MODID", args[0]); err == nil {
		cmdid, err = parseInt32("CMDID", args[1])
	}
	return modid, cmdid, err
}

func parseInt32(name, s string) (int32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, usagef("%s %q: not a 32-bit integer", name, s)
	}
	return int32(v), nil
}

// wantArgs checks the number of positional arguments.
func wantArgs(args []string, n int) error {
	if len(args) != n {
		return usagef("want %d arguments, got %d", n, len(args))
	}
	return nil
}

package daemon

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"cmp"

	"github.com/larsgo/lars/store"
)

// Command is the command line of a control-plane daemon whose service is configured
// by a C (routesvc.Config, reportsvc.Config): the flags every daemon has (Flags),
// the service's own, and the way from arguments to exit code.
type Command[C any] struct {
	Name    string // the binary: "lars-dns"; the usage errors begin with it
	Summary string // the usage text's first paragraph
	Service string // the service in the logs: "route service"
	// Conf says which Lars conf file -config reads, and which of its sections.
	Conf string
	// Listen, ListenHelp, MaxConns and StopLimit are the defaults of -listen (and
	// what connects to it), -max-conns and -shutdown-limit.
	Listen, ListenHelp string
	MaxConns           int
	StopLimit          time.Duration
	// Own declares the service's own flags on fs and returns what checks them once
	// the common flags and the conf file are resolved (r), giving the service's
	// configuration.
	Own func(fs *flag.FlagSet) func(r *Resolved) (C, error)
	// New builds the service from its configuration on the open store.
	New func(cfg C, s Settings, db *store.DB) (Service, error)
}

// Setup is a command line parsed and checked: how Main runs the service, and its
// configuration.
type Setup[C any] struct {
	Settings
	Config C
}

// Parse reads args: the common flags, the service's own, the conf file under them.
// The error is one line for the user (flag.ErrHelp after -h).
func (c Command[C]) Parse(args []string, stderr io.Writer) (*Setup[C], error) {
	var f Flags
	fs := flag.NewFlagSet(c.Name, flag.ContinueOnError)
	f.Register(fs, c.Conf, c.Listen, c.ListenHelp, c.MaxConns, c.StopLimit)
	settle := c.Own(fs)
	if err := Parse(fs, args, stderr, c.Summary); err != nil {
		return nil, err
	}
	r, err := f.Resolve(fs, stderr)
	if err != nil {
		return nil, err
	}
	cfg, err := settle(r)
	if err != nil {
		return nil, err
	}
	s := &Setup[C]{Settings: r.Settings, Config: cfg}
	s.Name = c.Service
	return s, nil
}

// Serve runs the service set up by Parse until the first stop signal (SIGHUP reloads
// the TLS files and the policy instead) and returns the exit code.
func (c Command[C]) Serve(s *Setup[C], signals <-chan os.Signal) int {
	return Main(s.Settings, signals, func(db *store.DB) (Service, error) { return c.New(s.Config, s.Settings, db) })
}

// Run is the whole command: Parse, then Serve; a bad command line exits 2 with one
// line on stderr.
func (c Command[C]) Run(args []string, stderr io.Writer, signals <-chan os.Signal) int {
	s, err := c.Parse(args, stderr)
	if err != nil {
		return UsageExit(stderr, c.Name, err)
	}
	return c.Serve(s, signals)
}

// Signals returns the channel a daemon's main hands to Run: SIGINT and SIGTERM stop
// it, SIGHUP reloads its TLS files and policy.
func Signals() <-chan os.Signal {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	return sig
}

// Positive returns an error naming flag unless v > 0.
func Positive[T cmp.Ordered](flag string, v T) error {
	var zero T
	if v <= zero {
		return fmt.Errorf("invalid -%s %v: must be positive", flag, v)
	}
	return nil
}

// NotNegative returns an error naming flag when v < 0; zero says what 0 means
// ("never", "keep", ...).
func NotNegative[T cmp.Ordered](flag string, v T, zero string) error {
	var z T
	if v < z {
		return fmt.Errorf("invalid -%s %v: must be 0 (%s) or positive", flag, v, zero)
	}
	return nil
}

// FirstError returns the first non-nil error of errs.
func FirstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

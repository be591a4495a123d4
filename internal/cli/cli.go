// Package cli holds what the daemons' command lines share: the logger flags and the
// checks of address flags.
package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
)

// Exit codes of every daemon.
const (
	ExitOK    = 0
	ExitError = 1 // the daemon failed while running
	ExitUsage = 2 // bad flags or configuration
)

// LogFlags are the -log-format and -log-level flags every daemon has.
type LogFlags struct {
	Format, Level string
}

// Register declares the flags on fs.
func (l *LogFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&l.Format, "log-format", "text", "log format: text or json")
	fs.StringVar(&l.Level, "log-level", "info", "log level: debug, info, warn or error")
}

// Logger returns the logger the flags ask for, writing to w.
func (l *LogFlags) Logger(w io.Writer) (*slog.Logger, error) { return NewLogger(l.Format, l.Level, w) }

// NewLogger returns the logger -log-format (text or json) and -log-level (debug, info,
// warn or error) ask for, writing to w.
func NewLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid -log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid -log-format %q: want text or json", format)
}

// CheckHostPort returns an error naming flagName when v is not HOST:PORT with a port
// in 1..65535 (0 too when zeroOK, for listeners on a free port).
func CheckHostPort(flagName, v string, zeroOK bool) error {
	_, port, err := net.SplitHostPort(v)
	if err == nil {
		var p int
		if _, err = fmt.Sscanf(port, "%d", &p); err == nil && (p < 0 || p > 65535 || (p == 0 && !zeroOK) || fmt.Sprint(p) != port) {
			err = fmt.Errorf("bad port")
		}
	}
	if err != nil {
		return fmt.Errorf("invalid %s %q: want HOST:PORT", flagName, v)
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/larsgo/lars/api"
)

var registerCmd = &command{
	name: "register",
	args: "MODID CMDID IP PORT [-ttl D] [-check tcp | -check http://URL] [-interval D] [-wait D]",
	summary: "register instance IP:PORT of the key with the agent and keep it registered in the foreground,\n" +
		"printing its state as it changes (pending, active, static, check failing), until SIGINT or\n" +
		"SIGTERM deregisters it (exit 0); SIGKILL leaves it to expire after its ttl. The agent runs\n" +
		"the check (-check tcp: a connect to IP:PORT; an http:// URL: a GET answered 2xx) and withdraws\n" +
		"the instance while it fails. Exits 1 with the agent's message when the registration is refused,\n" +
		"invalid, or ended by the agent later (an operator removed the instance); 6 when the agent does\n" +
		"not answer within -timeout (a Lars agent does not take registrations) or it stays pending\n" +
		"past -wait",
	flags: func(fs *flag.FlagSet) any {
		o := &registerFlags{}
		fs.DurationVar(&o.ttl, "ttl", api.DefaultRegisterTTL, "how long the agent keeps the instance without a keepalive (sent every third of it); the agent takes 1s to 1h")
		fs.StringVar(&o.check, "check", "", "the health check the agent runs: tcp, or an http:// URL (default none)")
		fs.DurationVar(&o.interval, "interval", 0, "how often the agent runs the check (default the agent's, 1s); the agent takes 100ms to 1m")
		fs.DurationVar(&o.wait, "wait", 0, "give up when the registration is still pending after this long (default: wait until a signal)")
		return o
	},
	run: func(e *env, opts any, args []string) error {
		modid, cmdid, err := keyArgs(args, 4)
		if err != nil {
			return err
		}
		addr, err := parseInstance(args[2], args[3])
		if err != nil {
			return err
		}
		ro, err := opts.(*registerFlags).options()
		if err != nil {
			return err
		}
		c, err := e.client()
		if err != nil {
			return err
		}
		defer c.Close()
		ctx, stop := registerContext()
		defer stop()
		return registerAndKeep(ctx, c, modid, cmdid, addr, ro, opts.(*registerFlags).wait, e.stdout)
	},
}

// registerContext returns the context register runs in: cancelled by SIGINT or
// SIGTERM. Tests replace it.
var registerContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// registerFlags are register's flags.
type registerFlags struct {
	ttl, interval, wait time.Duration
	check               string
}

// options checks the flags and returns the registration's options.
func (f *registerFlags) options() (api.RegisterOptions, error) {
	switch {
	case f.ttl <= 0:
		return api.RegisterOptions{}, usagef("-ttl %v: must be positive", f.ttl)
	case f.interval < 0:
		return api.RegisterOptions{}, usagef("-interval %v: must not be negative", f.interval)
	case f.wait < 0:
		return api.RegisterOptions{}, usagef("-wait %v: must not be negative", f.wait)
	case f.check != "" && f.check != "tcp" && !strings.HasPrefix(f.check, "http://"):
		return api.RegisterOptions{}, usagef("-check %q: want tcp or an http:// URL", f.check)
	case f.check == "" && f.interval != 0:
		return api.RegisterOptions{}, usagef("-interval without -check")
	}
	return api.RegisterOptions{TTL: f.ttl, Check: f.check, CheckInterval: f.interval}, nil
}

// parseInstance parses the IP and PORT arguments of register: an IPv4 address and a
// port other than 0.
func parseInstance(ip, port string) (netip.AddrPort, error) {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Unmap().Is4() {
		return netip.AddrPort{}, usagef("IP %q: not an IPv4 address", ip)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, usagef("PORT %q: not a port number", port)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// registerAndKeep registers addr for key (modid, cmdid), printing each state on w,
// and keeps it registered until ctx ends (then deregisters it: nil when the agent
// confirmed) or the agent ends it (its error). wait > 0 bounds how long the
// registration may stay pending.
func registerAndKeep(ctx context.Context, c *api.Client, modid, cmdid int32, addr netip.AddrPort,
	opts api.RegisterOptions, wait time.Duration, w io.Writer) error {
	var mu sync.Mutex // OnChange's lines and ours, never interleaved
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(w, format+"\n", args...)
		mu.Unlock()
	}
	opts.OnChange = func(s api.RegStatus) {
		if s.State != api.RegGone { // the answer to Close: said below
			say("%s", statusLine(s))
		}
	}
	regCtx, cancel := ctx, context.CancelFunc(func() {})
	if wait > 0 {
		regCtx, cancel = context.WithTimeout(ctx, wait)
	}
	reg, err := c.Register(regCtx, modid, cmdid, addr, opts)
	cancel()
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			say("interrupted before the agent settled the registration: not registered")
			return nil
		}
		return err
	}
	say("registered %s for (%d, %d) at agent %s, ttl %v: SIGINT or SIGTERM deregisters it",
		addr, modid, cmdid, reg.Agent(), reg.Status().TTL)
	select {
	case <-ctx.Done():
		if err := reg.Close(); err != nil {
			return err
		}
		say("deregistered")
		return nil
	case <-reg.Done():
		return reg.Err()
	}
}

// statusLine is the line register prints for a registration's status.
func statusLine(s api.RegStatus) string {
	if s.Unanswered > 0 {
		return fmt.Sprintf("%s: the agent does not answer keepalives (down or restarting?)", s.State)
	}
	if s.Message != "" {
		return fmt.Sprintf("%s: %s", s.State, s.Message)
	}
	return s.State.String()
}

package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/route"
)

var getHostCmd = &command{
	name:    "get-host",
	args:    "MODID CMDID",
	summary: "ask the agent which host to call for the key; prints ip:port",
	run: func(e *env, _ any, args []string) error {
		modid, cmdid, err := keyArgs(args, 2)
		if err != nil {
			return err
		}
		c, err := e.keyClient(modid, cmdid)
		if err != nil {
			return err
		}
		defer c.Close()
		h, err := c.GetHost(context.Background(), modid, cmdid)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, h)
		return nil
	},
}

var getRouteCmd = &command{
	name:    "get-route",
	args:    "MODID CMDID",
	summary: "print every host of the key, one ip:port per line in address order, then \"N hosts\"",
	run: func(e *env, _ any, args []string) error {
		modid, cmdid, err := keyArgs(args, 2)
		if err != nil {
			return err
		}
		c, err := e.keyClient(modid, cmdid)
		if err != nil {
			return err
		}
		defer c.Close()
		hosts, err := c.GetRoute(context.Background(), modid, cmdid, nil)
		if err != nil {
			return err
		}
		sortHosts(hosts)
		for _, h := range hosts {
			fmt.Fprintln(e.stdout, h)
		}
		fmt.Fprintf(e.stdout, "%d hosts\n", len(hosts))
		if len(hosts) == 0 {
			return api.ErrNoExist
		}
		return nil
	},
}

var reportCmd = &command{
	name: "report",
	args: "MODID CMDID IP PORT 0|1 [-latency D]",
	summary: "report a call to host IP:PORT for the key: 0 it succeeded, 1 it failed;\n" +
		"-latency sends the call's latency too (latency_us, used by agents with policy=ewma)",
	flags: func(fs *flag.FlagSet) any {
		latency := new(time.Duration)
		fs.DurationVar(latency, "latency", 0, "the call's latency (default none)")
		return latency
	},
	run: func(e *env, opts any, args []string) error {
		modid, cmdid, err := keyArgs(args, 5)
		if err != nil {
			return err
		}
		h, err := route.ParseHost(args[2], args[3])
		if err != nil {
			return usagef("%v", err)
		}
		if args[4] != "0" && args[4] != "1" {
			return usagef("result %q: want 0 (success) or 1 (failure)", args[4])
		}
		latency := *opts.(*time.Duration)
		if latency < 0 {
			return usagef("-latency %v: must not be negative", latency)
		}
		retcode := int32(args[4][0] - '0')
		c, err := e.client()
		if err != nil {
			return err
		}
		defer c.Close()
		if latency == 0 {
			return c.Report(modid, cmdid, h, retcode)
		}
		return c.ReportLatency(modid, cmdid, h, retcode, latency)
	},
}

// sortHosts sorts hosts by address, then port.
func sortHosts(hosts []api.Host) {
	slices.SortFunc(hosts, route.CompareAddr)
}

// init adds register, an instance registering itself, to the command table in run.go,
// after the other commands against an agent.
func init() {
	commands = slices.Insert(commands, slices.Index(commands, simulateCmd)+1, registerCmd)
}

// init adds tls to the command table in run.go.
func init() { commands = append(commands, tlsCmd) }

// init adds user, lars-console's accounts, to the command table in run.go.
func init() { commands = append(commands, userCmd) }

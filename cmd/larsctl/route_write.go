package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

var routeAddCmd = &command{
	name:    "route add",
	args:    "[-weight N] [-zone NAME] MODID CMDID IP PORT",
	summary: "add host IP:PORT to the key in the route store, or set the weight and zone of a host it has (IP: IPv4 or IPv6)",
	flags:   hostAttrFlags,
	run: func(e *env, opts any, args []string) error {
		k, h, err := keyHostArgs(args)
		if err != nil {
			return err
		}
		if h, err = opts.(*hostAttrs).apply(h); err != nil {
			return err
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			changed, err := db.AddHost(ctx, k, h)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(e.stdout, "no change: %s already has %v\n", k.String(), h)
				return nil
			}
			fmt.Fprintf(e.stdout, "added %v to %s%s\n", h, k.String(), versionNote(ctx, db))
			return nil
		})
	},
}

var routeDelCmd = &command{
	name:    "route del",
	args:    "MODID CMDID IP PORT",
	summary: "remove host IP:PORT from the key in the route store",
	run: func(e *env, _ any, args []string) error {
		k, h, err := keyHostArgs(args)
		if err != nil {
			return err
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			changed, err := db.DelHost(ctx, k, h)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(e.stdout, "no change: %s does not have %v\n", k.String(), h)
				return nil
			}
			fmt.Fprintf(e.stdout, "deleted %v from %s%s\n", h, k.String(), versionNote(ctx, db))
			return nil
		})
	},
}

var routeSetCmd = &command{
	name:    "route set",
	args:    "[-weight N] [-zone NAME] MODID CMDID IP:PORT[;weight=N][;zone=NAME]...",
	summary: "replace the hosts of the key in the route store with the hosts given (-weight and -zone apply to hosts that name none)",
	flags:   hostAttrFlags,
	run: func(e *env, opts any, args []string) error {
		if len(args) < 3 {
			return usagef("want MODID CMDID and at least one IP:PORT (route drop removes every host), got %d arguments", len(args))
		}
		k, err := arg(route.ParseKey(args[0], args[1]))
		if err != nil {
			return err
		}
		var hosts []route.Host
		for _, a := range args[2:] {
			h, err := arg(route.ParseHostText(a))
			if err != nil {
				return err
			}
			if h, err = opts.(*hostAttrs).apply(h); err != nil {
				return err
			}
			if !slices.Contains(hosts, h) {
				hosts = append(hosts, h)
			}
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			changed, err := db.SetHosts(ctx, k, hosts)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(e.stdout, "no change: %s already has exactly %s\n", k.String(), countHosts(len(hosts)))
				return nil
			}
			fmt.Fprintf(e.stdout, "set %s to %s%s\n", k.String(), countHosts(len(hosts)), versionNote(ctx, db))
			return nil
		})
	},
}

var routeDropCmd = &command{
	name:    "route drop",
	args:    "MODID CMDID",
	summary: "remove every host of the key from the route store",
	run: func(e *env, _ any, args []string) error {
		if err := wantArgs(args, 2); err != nil {
			return err
		}
		k, err := arg(route.ParseKey(args[0], args[1]))
		if err != nil {
			return err
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			changed, err := db.DropKey(ctx, k)
			if err != nil {
				return err
			}
			if !changed {
				fmt.Fprintf(e.stdout, "no change: %s has no hosts\n", k.String())
				return nil
			}
			fmt.Fprintf(e.stdout, "dropped %s%s\n", k.String(), versionNote(ctx, db))
			return nil
		})
	},
}

// keyHostArgs parses the arguments MODID CMDID IP PORT.
func keyHostArgs(args []string) (route.Key, route.Host, error) {
	if err := wantArgs(args, 4); err != nil {
		return route.Key{}, route.Host{}, err
	}
	k, err := arg(route.ParseKey(args[0], args[1]))
	if err != nil {
		return route.Key{}, route.Host{}, err
	}
	h, err := arg(route.ParseHost(args[2], args[3]))
	return k, h, err
}

// countHosts returns "1 host" or "N hosts".
func countHosts(n int) string {
	if n == 1 {
		return "1 host"
	}
	return fmt.Sprintf("%d hosts", n)
}

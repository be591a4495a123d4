package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

var routeImportCmd = &command{
	name: "route import",
	args: "FILE",
	summary: "replace the hosts of every key in FILE (\"-\": stdin), a routes file of lines \"modid cmdid ip port [weight=N] [zone=NAME]\"\n" +
		"as lars-agent -routes reads, in one transaction; keys not in FILE are left alone",
	run: func(e *env, _ any, args []string) error {
		if err := wantArgs(args, 1); err != nil {
			return err
		}
		name := args[0]
		routes, err := e.readRoutesFile(name)
		if name == "-" {
			name = "stdin"
		}
		if err != nil {
			return err
		}
		if len(routes) == 0 {
			fmt.Fprintf(e.stdout, "no change: %s has no routes\n", name)
			return nil
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			changed, err := db.ReplaceKeys(ctx, routes)
			if err != nil {
				return err
			}
			if len(changed) == 0 {
				fmt.Fprintf(e.stdout, "no change: the %d keys of %s already have these hosts\n", len(routes), name)
				return nil
			}
			fmt.Fprintf(e.stdout, "imported %s: %d of %d keys changed%s\n", name, len(changed), len(routes), versionNote(ctx, db))
			return nil
		})
	},
}

var routeExportCmd = &command{
	name:    "route export",
	args:    "",
	summary: "print every route in the route store as a routes file, which route import reads back",
	run: func(e *env, _ any, args []string) error {
		if err := wantArgs(args, 0); err != nil {
			return err
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			routes, err := db.AllRoutes(ctx)
			if err != nil {
				return err
			}
			return writeRoutesFile(e.stdout, routes)
		})
	},
}

// readRoutesFile reads and checks the routes file name ("-": stdin, called "stdin"
// in errors).
func (e *env) readRoutesFile(name string) (map[route.Key][]route.Host, error) {
	r := e.stdin
	if name == "-" {
		name = "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot open routes file: %w", err)
		}
		defer f.Close()
		r = f
	}
	// route.ParseKey takes modid and cmdid in 0..2147483647, as the store keeps them.
	return route.ParseRoutes(r, name)
}

// writeRoutesFile writes routes as a routes file: a comment, then "modid cmdid ip
// port" lines in key, then address order.
func writeRoutesFile(w io.Writer, routes map[route.Key][]route.Host) error {
	bw := bufio.NewWriter(w)
	hosts := 0
	for _, hs := range routes {
		hosts += len(hs)
	}
	fmt.Fprintf(bw, "# Lars routes, one per line: modid cmdid ip port (%d keys, %s)\n", len(routes), countHosts(hosts))
	var line []byte
	for _, k := range route.SortedKeys(routes) {
		for _, h := range sortedHosts(routes[k]) {
			line = append(route.AppendLine(line[:0], k, h), '\n')
			bw.Write(line)
		}
	}
	return bw.Flush()
}

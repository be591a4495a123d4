package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// historyOptions are route history's flags.
type historyOptions struct{ limit int }

var routeHistoryCmd = &command{
	name: "route history",
	args: "[MODID [CMDID]] [-n N]",
	summary: "print the route writes recorded in the store's RouteHistory (by larsctl, lars-console and lars-dns),\n" +
		"newest first: a table \"ID TIME WHO OP KEY BEFORE AFTER\", hosts as IP:PORT separated by spaces;\n" +
		"instances that register themselves show as OP register and deregister (WHO: the agent's identity)\n" +
		"and expire (WHO: \"lease expired\")",
	flags: func(fs *flag.FlagSet) any {
		o := &historyOptions{}
		fs.IntVar(&o.limit, "n", store.DefaultHistoryLimit, "print at most `N` rows")
		return o
	},
	run: func(e *env, opts any, args []string) error {
		if len(args) > 2 {
			return usagef("want at most MODID CMDID, got %d arguments", len(args))
		}
		o := opts.(*historyOptions)
		if o.limit <= 0 {
			return usagef("-n %d: want a positive number of rows", o.limit)
		}
		f := store.HistoryFilter{Limit: o.limit}
		for i, a := range args {
			id, err := arg(route.ParseID([]string{"modid", "cmdid"}[i], a))
			if err != nil {
				return err
			}
			if i == 0 {
				f.Modid = &id
			} else {
				f.Cmdid = &id
			}
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			entries, err := db.History(ctx, f)
			if err != nil {
				return err
			}
			return writeHistoryTable(e.stdout, entries)
		})
	},
}

// writeHistoryTable prints entries as a table, times in UTC, "-" for no hosts.
func writeHistoryTable(w io.Writer, entries []store.HistoryEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tWHO\tOP\tKEY\tBEFORE\tAFTER")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Time.UTC().Format(time.DateTime), e.Who, e.Op,
			e.Key.String(), orDash(route.FormatHostList(e.Before)), orDash(route.FormatHostList(e.After)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	plural := "s"
	if len(entries) == 1 {
		plural = ""
	}
	_, err := fmt.Fprintf(w, "%d write%s\n", len(entries), plural)
	return err
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// larsctlWho is who larsctl's route writes are recorded as: "larsctl USER@HOST".
func larsctlWho() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = fmt.Sprintf("uid%d", os.Getuid())
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return "larsctl " + name + "@" + host
}

package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// statusNow is the clock status measures the age of a report with; tests replace it.
var statusNow = time.Now

// statusOptions are status's flags.
type statusOptions struct{ json bool }

var statusCmd = &command{
	name: "status",
	args: "[MODID [CMDID]] [-json]",
	summary: "print the call status the report services stored (ServerCallStatus), all or that of\n" +
		"MODID (and CMDID): per key, host and reporting agent (caller) the latest counts, newest first:\n" +
		"a table \"KEY HOST CALLER SUCC ERR ERR% OVERLOADED AGE\", then \"N reports, M overloaded\";\n" +
		"exit 4 when MODID (CMDID) has none",
	flags: func(fs *flag.FlagSet) any {
		o := &statusOptions{}
		fs.BoolVar(&o.json, "json", false, "print a JSON array of {\"modid\", \"cmdid\", \"ip\", \"port\", \"caller\", \"succ\", \"err\", \"overloaded\", \"ts\"} instead (ts in Unix seconds)")
		return o
	},
	run: func(e *env, opts any, args []string) error {
		if len(args) > 2 {
			return usagef("want at most MODID CMDID, got %d arguments", len(args))
		}
		var (
			filter store.CallStatusFilter
			ids    []int32
		)
		for i, a := range args {
			id, err := arg(route.ParseID([]string{"modid", "cmdid"}[i], a))
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if len(ids) > 0 {
			filter.Modid = &ids[0]
		}
		if len(ids) > 1 {
			filter.Cmdid = &ids[1]
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			statuses, err := db.CallStatus(ctx, filter)
			if err != nil {
				return err
			}
			if opts.(*statusOptions).json {
				err = writeStatusJSON(e.stdout, statuses)
			} else {
				err = writeStatusTable(e.stdout, statuses, statusNow())
			}
			if err == nil && len(ids) > 0 && len(statuses) == 0 {
				err = noStatusError{ids}
			}
			return err
		})
	},
}

// noStatusError says that the key (or modid) status asked for has no call status; it
// exits 4 as route list does for a key without hosts.
type noStatusError struct{ ids []int32 }

func (e noStatusError) Error() string {
	if len(e.ids) == 1 {
		return fmt.Sprintf("modid %d has no call status", e.ids[0])
	}
	return fmt.Sprintf("%d/%d has no call status", e.ids[0], e.ids[1])
}

func (e noStatusError) Is(target error) bool { return target == api.ErrNoExist }

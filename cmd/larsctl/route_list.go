package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// listOptions are route list's flags.
type listOptions struct{ json bool }

var routeListCmd = &command{
	name: "route list",
	args: "[MODID [CMDID]] [-json]",
	summary: "print the routes in the route store, all or those of MODID (and CMDID): a table\n" +
		"\"MODID CMDID HOST SOURCE OWNER LEASE\", one host per line in key then address order, then\n" +
		"\"N keys, M hosts (R registered)\"; SOURCE is static (written by an operator, never expired) or\n" +
		"registered (by OWNER, an agent's identity, with LEASE left by the database's clock);\n" +
		"exit 4 when MODID (CMDID) has no hosts",
	flags: func(fs *flag.FlagSet) any {
		o := &listOptions{}
		fs.BoolVar(&o.json, "json", false, "print a JSON array of {\"modid\", \"cmdid\", \"hosts\": [{\"ip\", \"port\", \"source\",\n"+
			"\"owner\", \"lease_left_ms\"}]} instead (owner and lease_left_ms only for registered hosts)")
		return o
	},
	run: func(e *env, opts any, args []string) error {
		if len(args) > 2 {
			return usagef("want at most MODID CMDID, got %d arguments", len(args))
		}
		var filter []int32
		for i, a := range args {
			id, err := arg(route.ParseID([]string{"modid", "cmdid"}[i], a))
			if err != nil {
				return err
			}
			filter = append(filter, id)
		}
		return e.withStore(func(ctx context.Context, db *store.DB) error {
			routes, err := readRoutes(ctx, db, filter)
			if err != nil {
				return err
			}
			var keys []route.Key // nil: every key
			if len(filter) > 0 {
				keys = route.SortedKeys(routes)
			}
			leases, err := db.LeasesOf(ctx, keys)
			if err != nil {
				return err
			}
			if opts.(*listOptions).json {
				err = writeRoutesJSON(e.stdout, routes, leases)
			} else {
				err = writeRoutesTable(e.stdout, routes, leases)
			}
			if err == nil && len(filter) > 0 && len(routes) == 0 {
				err = noRoutesError{filter}
			}
			return err
		})
	},
}

// noRoutesError says that the key (or modid) route list asked for has no hosts; it
// exits 4 as a key without hosts does in get-route.
type noRoutesError struct{ ids []int32 }

func (e noRoutesError) Error() string {
	if len(e.ids) == 1 {
		return fmt.Sprintf("modid %d has no hosts", e.ids[0])
	}
	return fmt.Sprintf("%d/%d has no hosts", e.ids[0], e.ids[1])
}

func (e noRoutesError) Is(target error) bool { return target == api.ErrNoExist }

// readRoutes reads every route, those of modid filter[0], or the key filter[0]/filter[1].
func readRoutes(ctx context.Context, db *store.DB, filter []int32) (map[route.Key][]route.Host, error) {
	if len(filter) == 2 {
		return db.Routes(ctx, []route.Key{{Modid: filter[0], Cmdid: filter[1]}})
	}
	routes, err := db.AllRoutes(ctx)
	if err != nil || len(filter) == 0 {
		return routes, err
	}
	maps.DeleteFunc(routes, func(k route.Key, _ []route.Host) bool { return k.Modid != filter[0] })
	return routes, nil
}

// sortedHosts returns hosts in address, then port order (route.CompareAddr).
func sortedHosts(hosts []route.Host) []route.Host {
	return slices.SortedFunc(slices.Values(hosts), route.CompareAddr)
}

// writeRoutesTable writes route list's table.
func writeRoutesTable(w io.Writer, routes map[route.Key][]route.Host, leases map[store.LeaseKey]store.LeaseInfo) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "MODID\tCMDID\tHOST\tSOURCE\tOWNER\tLEASE")
	hosts, registered := 0, 0
	for _, k := range route.SortedKeys(routes) {
		for _, h := range sortedHosts(routes[k]) {
			source, owner, left := "static", "-", "-"
			if l, ok := leases[store.LeaseKey{Key: k, Host: route.HostAt(h.Addr)}]; ok {
				source, owner, left = "registered", l.Owner, formatLeaseLeft(l.Left)
				registered++
			}
			fmt.Fprintf(tw, "%d\t%d\t%v\t%s\t%s\t%s\n", k.Modid, k.Cmdid, h, source, owner, left)
			hosts++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d keys, %s (%d registered)\n", len(routes), countHosts(hosts), registered)
	return err
}

// formatLeaseLeft prints what a lease has left, to the tenth of a second; "ended" for
// a lease past its end, whose host the route service is about to remove.
func formatLeaseLeft(d time.Duration) string {
	if d < 0 {
		return "ended"
	}
	return d.Truncate(100 * time.Millisecond).String()
}

// jsonRoute is one key of route list -json.
type jsonRoute struct {
	Modid int32      `json:"modid"`
	Cmdid int32      `json:"cmdid"`
	Hosts []jsonHost `json:"hosts"`
}

// jsonHost is one host of route list -json.
type jsonHost struct {
	IP     string `json:"ip"` // dotted IPv4, or IPv6
	Port   int32  `json:"port"`
	Weight uint32 `json:"weight,omitempty"` // 0: the default
	Zone   string `json:"zone,omitempty"`
	Source string `json:"source"`          // "static" or "registered"
	Owner  string `json:"owner,omitempty"` // who registered it
	// LeaseLeftMs is what its lease has left, by the database's clock (registered only).
	LeaseLeftMs *int64 `json:"lease_left_ms,omitempty"`
}

// writeRoutesJSON writes route list -json's array, in the table's order.
func writeRoutesJSON(w io.Writer, routes map[route.Key][]route.Host, leases map[store.LeaseKey]store.LeaseInfo) error {
	out := make([]jsonRoute, 0, len(routes))
	for _, k := range route.SortedKeys(routes) {
		r := jsonRoute{Modid: k.Modid, Cmdid: k.Cmdid}
		for _, h := range sortedHosts(routes[k]) {
			jh := jsonHost{IP: h.Addr.Addr().String(), Port: int32(h.Addr.Port()), Weight: h.Weight, Zone: h.Zone, Source: "static"}
			if l, ok := leases[store.LeaseKey{Key: k, Host: route.HostAt(h.Addr)}]; ok {
				left := l.Left.Milliseconds()
				jh.Source, jh.Owner, jh.LeaseLeftMs = "registered", l.Owner, &left
			}
			r.Hosts = append(r.Hosts, jh)
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

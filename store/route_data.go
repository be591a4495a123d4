package store

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/larsgo/lars/route"
)

// RouteData: one row per (key, host).

// keyHost is one RouteData row without its id.
type keyHost struct {
	key  route.Key
	host route.Host
}

// ScanRoutes calls fn with every host: each RouteData row with the weight and zone
// RouteHostAttr gives it, streamed from the database in no particular order,
// duplicates included, then each IPv6 host (RouteHost6). fn must not use db: on MySQL
// the rows hold their connection until the scan ends.
func (db *DB) ScanRoutes(ctx context.Context, fn func(route.Key, route.Host)) error {
	ext := extRows{}
	if err := db.d.readExt(ctx, db.db, nil, false, ext); err != nil {
		return err
	}
	type keyAddr struct {
		k route.Key
		a netip.AddrPort
	}
	attrs := map[keyAddr]route.Host{}
	for k, hosts := range ext {
		for _, h := range hosts {
			if h.Is4() {
				attrs[keyAddr{k, h.Addr}] = h
			}
		}
	}
	rows, err := db.db.QueryContext(ctx, "SELECT modid, cmdid, serverip, serverport FROM RouteData")
	if err != nil {
		return fmt.Errorf("cannot read RouteData: %w", err)
	}
	defer rows.Close()
	var (
		k  route.Key
		hs hostScan
		// The scan targets are built once: Scan then allocates nothing per row.
		dst = []any{wire32{&k.Modid}, wire32{&k.Cmdid}, wire32{&hs.ip}, wire32{&hs.port}}
	)
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return fmt.Errorf("cannot read RouteData: %w", err)
		}
		h := hs.host()
		if len(attrs) > 0 {
			if a, ok := attrs[keyAddr{k, h.Addr}]; ok {
				h = a
			}
		}
		fn(k, h)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read RouteData: %w", err)
	}
	for k, hosts := range ext {
		for _, h := range hosts {
			if !h.Is4() {
				fn(k, h)
			}
		}
	}
	return nil
}

// AllRoutes returns the hosts of every key in RouteData, each key's hosts normalised
// (route.Normalize).
func (db *DB) AllRoutes(ctx context.Context) (map[route.Key][]route.Host, error) {
	routes := make(map[route.Key][]route.Host)
	err := db.ScanRoutes(ctx, func(k route.Key, h route.Host) {
		routes[k] = append(routes[k], h)
	})
	if err != nil {
		return nil, err
	}
	for k, hosts := range routes {
		routes[k] = route.Normalize(hosts)
	}
	return routes, nil
}

// Routes returns the hosts of the given keys, normalised as AllRoutes does: their
// RouteData hosts with their weights and zones, and their IPv6 hosts. A key without
// hosts is absent from the map. Any number of keys may be asked for: they are read in
// batches.
func (db *DB) Routes(ctx context.Context, keys []route.Key) (map[route.Key][]route.Host, error) {
	routes, _, err := db.d.readHosts(ctx, db.db, keys, false)
	return routes, err
}

// readHosts reads the hosts of keys, normalised, in batches of maxTuplesPerIn keys:
// RouteData's with the weights and zones of RouteHostAttr, and RouteHost6's. lock adds
// the engine's locking clause (inside a write transaction). had holds the keys with
// rows in either table of ours, orphans included.
func (d *dialect) readHosts(ctx context.Context, q querier, keys []route.Key, lock bool) (routes map[route.Key][]route.Host, had map[route.Key]bool, err error) {
	routes = make(map[route.Key][]route.Host)
	had = make(map[route.Key]bool)
	if len(keys) == 0 {
		return routes, had, nil
	}
	keys = slices.Clone(keys)
	slices.SortFunc(keys, route.CompareKeys)
	keys = slices.Compact(keys)
	var (
		k    route.Key
		hs   hostScan
		dst  = []any{wire32{&k.Modid}, wire32{&k.Cmdid}, wire32{&hs.ip}, wire32{&hs.port}}
		args = make([]any, 0, 2*maxTuplesPerIn)
	)
	for batch := range slices.Chunk(keys, maxTuplesPerIn) {
		var b strings.Builder
		b.WriteString("SELECT modid, cmdid, serverip, serverport FROM RouteData WHERE ")
		d.appendInTuples(&b, "modid, cmdid", 2, len(batch))
		if lock {
			b.WriteString(d.forUpdate)
		}
		args = args[:0]
		for _, k := range batch {
			args = append(args, col32(k.Modid), col32(k.Cmdid))
		}
		rows, err := q.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read RouteData: %w", err)
		}
		for rows.Next() {
			if err := rows.Scan(dst...); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("cannot read RouteData: %w", err)
			}
			routes[k] = append(routes[k], hs.host())
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read RouteData: %w", err)
		}
	}
	ext := extRows{}
	for batch := range slices.Chunk(keys, maxTuplesPerIn) {
		if err := d.readExt(ctx, q, batch, lock, ext); err != nil {
			return nil, nil, err
		}
	}
	for k, hosts := range routes {
		routes[k] = route.Normalize(hosts)
	}
	for k, e := range ext {
		had[k] = true
		if hosts := withExt(routes[k], e); len(hosts) > 0 {
			routes[k] = hosts
		}
	}
	return routes, had, nil
}

// deleteHosts deletes every RouteData row of each (key, host) in rows, duplicates
// included.
func (d *dialect) deleteHosts(ctx context.Context, q querier, rows []keyHost) error {
	args := make([]any, 0, 4*maxTuplesPerIn)
	for batch := range slices.Chunk(rows, maxTuplesPerIn) {
		var b strings.Builder
		b.WriteString("DELETE FROM RouteData WHERE ")
		d.appendInTuples(&b, "modid, cmdid, serverip, serverport", 4, len(batch))
		args = args[:0]
		for _, r := range batch {
			ip, port, err := wireCols(r.host)
			if err != nil {
				return fmt.Errorf("cannot delete from RouteData: %w", err)
			}
			args = append(args, col32(r.key.Modid), col32(r.key.Cmdid), ip, port)
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("cannot delete from RouteData: %w", err)
		}
	}
	return nil
}

// insertHosts inserts one RouteData row per element of rows, in multi-row INSERTs.
func (d *dialect) insertHosts(ctx context.Context, q querier, rows []keyHost) error {
	args := make([]any, 0, 4*maxRowsPerInsert)
	for batch := range slices.Chunk(rows, maxRowsPerInsert) {
		var b strings.Builder
		b.WriteString("INSERT INTO RouteData (modid, cmdid, serverip, serverport) VALUES ")
		appendPlaceholderRows(&b, 4, len(batch))
		args = args[:0]
		for _, r := range batch {
			ip, port, err := wireCols(r.host)
			if err != nil {
				return fmt.Errorf("cannot insert into RouteData: %w", err)
			}
			args = append(args, col32(r.key.Modid), col32(r.key.Cmdid), ip, port)
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("cannot insert into RouteData: %w", err)
		}
	}
	return nil
}

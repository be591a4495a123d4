package store

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/larsgo/lars/route"
)

// Routes beyond Lars (issue 32): weights, zones and IPv6 hosts. Lars's RouteData keeps
// an IPv4 host and nothing else, and the C++ lars_dns serves it as it is; two tables
// of ours beside it, written in the same transactions, keep the rest:
//
//   - RouteHostAttr: the weight and zone of an IPv4 host that names either, keyed as
//     its RouteData row (modid, cmdid, serverip, serverport). A plain host (no weight,
//     no zone) has no row. A row without its RouteData row (a Lars writer deleted the
//     host) is an orphan: every read ignores it, and the next write of its key deletes
//     it.
//   - RouteHost6: the IPv6 hosts, address (16 bytes) and port, with their weight and
//     zone (0 and "" when they name none).
//
// Open creates both when missing, as it does RouteHistory; on a database whose user
// may not create them (a read-only route service on Lars's database) reads find no
// such table and read Lars's routes alone.

const (
	attrTableName  = "RouteHostAttr"
	host6TableName = "RouteHost6"
)

// extTables returns the statements that create RouteHostAttr and RouteHost6.
func (d *dialect) extTables() []larsTable {
	ip6 := "binary(16)"
	if d.engine == EngineSQLite {
		ip6 = "blob"
	}
	return []larsTable{
		{attrTableName, `CREATE TABLE IF NOT EXISTS RouteHostAttr (
			modid int unsigned NOT NULL,
			cmdid int unsigned NOT NULL,
			serverip int unsigned NOT NULL,
			serverport int unsigned NOT NULL,
			weight int unsigned NOT NULL DEFAULT 0,
			zone varchar(64) NOT NULL DEFAULT '',
			PRIMARY KEY (modid, cmdid, serverip, serverport)
		)` + d.tableOptions},
		{host6TableName, `CREATE TABLE IF NOT EXISTS RouteHost6 (
			modid int unsigned NOT NULL,
			cmdid int unsigned NOT NULL,
			ip6 ` + ip6 + ` NOT NULL,
			port int unsigned NOT NULL,
			weight int unsigned NOT NULL DEFAULT 0,
			zone varchar(64) NOT NULL DEFAULT '',
			PRIMARY KEY (modid, cmdid, ip6, port)
		)` + d.tableOptions},
	}
}

// checkStored returns an error unless h can be written: an IPv4 host without weight
// or zone as Lars writes it (any port its column holds), or any other host that
// route.Host.Check takes.
func checkStored(h route.Host) error {
	if h.Is4() && h.Plain() {
		return nil
	}
	return h.Check()
}

// extRows are the rows of ours of some keys: IPv4 hosts with their weight and zone
// (RouteHostAttr, orphans included), IPv6 hosts (RouteHost6).
type extRows map[route.Key][]route.Host

// extScan scans a row of either table without allocating but for the zone and the
// IPv6 address.
type extScan struct {
	k        route.Key
	ip, port int32
	ip6      []byte
	weight   int64
	zone     string
}

// host returns the scanned host of RouteHostAttr (v6 false) or RouteHost6, and false
// for a row that names no valid host.
func (s *extScan) host(v6 bool) (route.Host, bool) {
	h := route.Host{Weight: uint32(min(max(s.weight, 0), route.MaxWeight)), Zone: s.zone}
	if !v6 {
		h.Addr = route.AddrPortFromWire(s.ip, s.port)
		return h, true
	}
	if len(s.ip6) != 16 {
		return route.Host{}, false
	}
	h.Addr = netip.AddrPortFrom(netip.AddrFrom16([16]byte(s.ip6)), uint16(s.port))
	return h, true
}

// readExt adds the rows of ours of keys (one batch of at most maxTuplesPerIn keys;
// nil: every key) to ext; lock adds the engine's locking clause. A missing table reads
// as empty.
func (d *dialect) readExt(ctx context.Context, q querier, keys []route.Key, lock bool, ext extRows) error {
	for _, v6 := range []bool{false, true} {
		var b strings.Builder
		if v6 {
			b.WriteString("SELECT modid, cmdid, ip6, port, weight, zone FROM " + host6TableName)
		} else {
			b.WriteString("SELECT modid, cmdid, serverip, serverport, weight, zone FROM " + attrTableName)
		}
		var args []any
		if keys != nil {
			b.WriteString(" WHERE ")
			d.appendInTuples(&b, "modid, cmdid", 2, len(keys))
			args = make([]any, 0, 2*len(keys))
			for _, k := range keys {
				args = append(args, col32(k.Modid), col32(k.Cmdid))
			}
		}
		if lock {
			b.WriteString(d.forUpdate)
		}
		if err := d.scanExt(ctx, q, b.String(), args, v6, ext); err != nil {
			return err
		}
	}
	return nil
}

// scanExt runs query on one of our tables and adds its hosts to ext.
func (d *dialect) scanExt(ctx context.Context, q querier, query string, args []any, v6 bool, ext extRows) error {
	table := attrTableName
	if v6 {
		table = host6TableName
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		if isNoSuchTable(err) {
			return nil
		}
		return fmt.Errorf("cannot read %s: %w", table, err)
	}
	defer rows.Close()
	var (
		s   extScan
		dst = []any{wire32{&s.k.Modid}, wire32{&s.k.Cmdid}, wire32{&s.ip}, wire32{&s.port}, &s.weight, &s.zone}
	)
	if v6 {
		dst[2] = &s.ip6
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return fmt.Errorf("cannot read %s: %w", table, err)
		}
		if h, ok := s.host(v6); ok {
			ext[s.k] = append(ext[s.k], h)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read %s: %w", table, err)
	}
	return nil
}

// withExt returns hosts, the normalised RouteData hosts of a key, with the rows of
// ours of that key: the weight and zone of its IPv4 hosts (an orphan, whose host
// RouteData lacks, is ignored) and its IPv6 hosts, normalised. hosts may be modified.
func withExt(hosts, ext []route.Host) []route.Host {
	n := len(hosts)
	for _, e := range ext {
		if !e.Is4() {
			hosts = append(hosts, e)
		} else if i := route.Find(hosts[:n], e); i >= 0 {
			hosts[i].Weight, hosts[i].Zone = e.Weight, e.Zone
		}
	}
	if len(hosts) > n {
		hosts = route.Normalize(hosts)
	}
	return hosts
}

// writeExt writes the rows of ours of the changed keys: it deletes those of the keys
// in had (which had rows, orphans included) and inserts one for every IPv4 host with a
// weight or zone and every IPv6 host of after.
func (d *dialect) writeExt(ctx context.Context, q querier, changed []route.Key, had map[route.Key]bool, after map[route.Key][]route.Host) error {
	var clear []route.Key
	var attrs, v6 []keyHost
	for _, k := range changed {
		if had[k] {
			clear = append(clear, k)
		}
		for _, h := range after[k] {
			switch {
			case !h.Is4():
				v6 = append(v6, keyHost{k, h})
			case !h.Plain():
				attrs = append(attrs, keyHost{k, h})
			}
		}
	}
	for batch := range slices.Chunk(clear, maxTuplesPerIn) {
		args := make([]any, 0, 2*len(batch))
		for _, k := range batch {
			args = append(args, col32(k.Modid), col32(k.Cmdid))
		}
		for _, table := range []string{attrTableName, host6TableName} {
			var b strings.Builder
			b.WriteString("DELETE FROM " + table + " WHERE ")
			d.appendInTuples(&b, "modid, cmdid", 2, len(batch))
			if _, err := q.ExecContext(ctx, b.String(), args...); err != nil && !isNoSuchTable(err) {
				return fmt.Errorf("cannot delete from %s: %w", table, err)
			}
		}
	}
	const width = 6
	for _, t := range []struct {
		table, cols string
		rows        []keyHost
	}{
		{attrTableName, "modid, cmdid, serverip, serverport, weight, zone", attrs},
		{host6TableName, "modid, cmdid, ip6, port, weight, zone", v6},
	} {
		for batch := range slices.Chunk(t.rows, maxRowsPerInsert/2) {
			var b strings.Builder
			b.WriteString("INSERT INTO " + t.table + " (" + t.cols + ") VALUES ")
			appendPlaceholderRows(&b, width, len(batch))
			args := make([]any, 0, width*len(batch))
			for _, r := range batch {
				args = append(args, col32(r.key.Modid), col32(r.key.Cmdid))
				if r.host.Is4() {
					ip, port, err := wireCols(r.host)
					if err != nil {
						return fmt.Errorf("cannot insert into %s: %w", t.table, err)
					}
					args = append(args, ip, port)
				} else {
					a := r.host.Addr.Addr().As16()
					args = append(args, a[:], int64(r.host.Addr.Port()))
				}
				args = append(args, int64(r.host.Weight), r.host.Zone)
			}
			if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
				return fmt.Errorf("cannot insert into %s: %w", t.table, err)
			}
		}
	}
	return nil
}

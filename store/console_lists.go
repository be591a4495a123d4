package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
)

// Reads for lists shown a page at a time (lars-console): each reads what one page
// shows, through an index, whatever the size of the tables.

// ServiceOrder names an order of ServiceKeys.
type ServiceOrder string

// The orders of ServiceKeys; every order breaks ties by key, ascending.
const (
	OrderByKey        ServiceOrder = "key"        // (modid, cmdid)
	OrderByName       ServiceOrder = "name"       // modid's name, then cmdid's name
	OrderByHosts      ServiceOrder = "hosts"      // RouteData and RouteHost6 rows
	OrderByOverloaded ServiceOrder = "overloaded" // route hosts some caller's status says overloaded
	OrderByErrors     ServiceOrder = "errors"     // error rate over the key's call status
	OrderByChanged    ServiceOrder = "changed"    // the key's newest RouteHistory row
)

// serviceMetrics are, per order other than OrderByKey, a query of (modid, cmdid, v)
// rows, v the value the order sorts by; "%s" is where a modid filter goes ("" or
// " AND modid = ?", one argument). Keys absent from it sort as v = 0 (or "").
var serviceMetrics = map[ServiceOrder]string{
	OrderByHosts: "SELECT modid, cmdid, COUNT(*) AS v FROM RouteData WHERE 1 = 1%s GROUP BY modid, cmdid",
	OrderByErrors: `SELECT modid, cmdid, SUM(err_cnt) * 1.0 / (SUM(succ_cnt) + SUM(err_cnt)) AS v FROM ServerCallStatus
		WHERE 1 = 1%s GROUP BY modid, cmdid HAVING SUM(succ_cnt) + SUM(err_cnt) > 0`,
	OrderByChanged: "SELECT modid, cmdid, MAX(id) AS v FROM RouteHistory WHERE 1 = 1%s GROUP BY modid, cmdid",
	OrderByOverloaded: `SELECT o.modid, o.cmdid, COUNT(*) AS v FROM
		(SELECT DISTINCT modid, cmdid, ip, port FROM ServerCallStatus WHERE overload = '1'%s) o
		WHERE EXISTS (SELECT 1 FROM RouteData r WHERE r.modid = o.modid AND r.cmdid = o.cmdid AND r.serverip = o.ip AND r.serverport = o.port)
		GROUP BY o.modid, o.cmdid`,
}

// ServiceQuery selects a page of the keys that have hosts (RouteData, RouteHost6) or
// call status (ServerCallStatus).
type ServiceQuery struct {
	// Modid, if not nil, keeps the keys of this modid only.
	Modid *int32
	// Order is the sort order (OrderByKey when empty); Desc reverses it (ties stay in
	// ascending key order).
	Order ServiceOrder
	Desc  bool
	// Offset is how many keys of the order to skip, Limit the most returned (> 0).
	Offset, Limit int
}

// ServiceKeys returns the page of keys q selects and how many keys there are in all
// (with q's modid filter).
func (db *DB) ServiceKeys(ctx context.Context, q ServiceQuery) ([]route.Key, int, error) {
	if q.Limit <= 0 {
		return nil, 0, fmt.Errorf("cannot list services: limit %d", q.Limit)
	}
	filter, filterArgs := "", []any(nil)
	if q.Modid != nil {
		filter, filterArgs = " AND modid = ?", []any{col32(*q.Modid)}
	}
	union := "SELECT modid, cmdid FROM RouteData WHERE 1 = 1" + filter + " UNION SELECT modid, cmdid FROM ServerCallStatus WHERE 1 = 1" + filter
	unionArgs := slices.Concat(filterArgs, filterArgs)
	if db.host6 {
		union += " UNION SELECT modid, cmdid FROM " + host6TableName + " WHERE 1 = 1" + filter
		unionArgs = append(unionArgs, filterArgs...)
	}
	var total int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+union+") k", unionArgs...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("cannot count the services: %w", err)
	}
	dir := ""
	if q.Desc {
		dir = " DESC"
	}
	var (
		query string
		args  []any
	)
	switch order := cmp.Or(q.Order, OrderByKey); order {
	case OrderByKey:
		query = "SELECT modid, cmdid FROM (" + union + ") k ORDER BY modid" + dir + ", cmdid" + dir + " LIMIT ? OFFSET ?"
		args = unionArgs
	case OrderByName:
		keys, err := db.serviceKeysByName(ctx, union, unionArgs, q)
		return keys, total, err
	default:
		metric, ok := serviceMetrics[order]
		if !ok {
			return nil, 0, fmt.Errorf("cannot list services: unknown order %q", order)
		}
		metricSQL, metricArgs := fmt.Sprintf(metric, filter), filterArgs
		if order == OrderByHosts && db.host6 {
			metricSQL = "SELECT modid, cmdid, SUM(v) AS v FROM (" + metricSQL + " UNION ALL SELECT modid, cmdid, COUNT(*) AS v FROM " +
				host6TableName + " WHERE 1 = 1" + filter + " GROUP BY modid, cmdid) h GROUP BY modid, cmdid"
			metricArgs = slices.Concat(filterArgs, filterArgs)
		}
		query = "SELECT k.modid, k.cmdid FROM (" + union + ") k LEFT JOIN (" + metricSQL +
			") m ON m.modid = k.modid AND m.cmdid = k.cmdid ORDER BY COALESCE(m.v, 0)" + dir + ", k.modid, k.cmdid LIMIT ? OFFSET ?"
		args = slices.Concat(unionArgs, metricArgs)
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot list the services: %w", err)
	}
	defer rows.Close()
	var (
		keys []route.Key
		k    route.Key
	)
	for rows.Next() {
		if err := rows.Scan(wire32{&k.Modid}, wire32{&k.Cmdid}); err != nil {
			return nil, 0, fmt.Errorf("cannot list the services: %w", err)
		}
		// A key stored signed in one table and unsigned in the other comes twice.
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("cannot list the services: %w", err)
	}
	return keys, total, nil
}

// serviceKeysByName returns the page of keys q selects in the order of their names:
// every key of union is read in key order and sorted here by the names of its modid
// and cmdid (byte order, as the console always sorted them). Lars's name tables have
// no index on the id, and a join of 100,000 keys with them took seconds on MariaDB;
// this takes a read of the keys and of the names.
func (db *DB) serviceKeysByName(ctx context.Context, union string, args []any, q ServiceQuery) ([]route.Key, error) {
	names, err := db.ServiceNames(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, "SELECT modid, cmdid FROM ("+union+") k ORDER BY modid, cmdid", args...)
	if err != nil {
		return nil, fmt.Errorf("cannot list the services: %w", err)
	}
	defer rows.Close()
	var (
		keys []route.Key
		k    route.Key
	)
	for rows.Next() {
		if err := rows.Scan(wire32{&k.Modid}, wire32{&k.Cmdid}); err != nil {
			return nil, fmt.Errorf("cannot list the services: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list the services: %w", err)
	}
	keys = slices.Compact(keys) // a key stored signed in one table and unsigned in the other
	slices.SortStableFunc(keys, func(a, b route.Key) int {
		c := cmp.Compare(names.Mod[a.Modid], names.Mod[b.Modid])
		if c == 0 {
			c = cmp.Compare(names.Cmd[a.Cmdid], names.Cmd[b.Cmdid])
		}
		if q.Desc {
			c = -c
		}
		return c
	})
	from := min(max(q.Offset, 0), len(keys))
	return slices.Clone(keys[from:min(from+q.Limit, len(keys))]), nil
}

// HostRows returns how many RouteData rows (and IPv6 hosts, RouteHost6 rows) there
// are, of modid only if it is not nil.
func (db *DB) HostRows(ctx context.Context, modid *int32) (int, error) {
	total := 0
	for _, table := range []string{"RouteData", host6TableName} {
		if table == host6TableName && !db.host6 {
			continue
		}
		query, args := "SELECT COUNT(*) FROM "+table, []any(nil)
		if modid != nil {
			query, args = query+" WHERE modid = ?", []any{col32(*modid)}
		}
		var n int
		if err := db.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("cannot count %s: %w", table, err)
		}
		total += n
	}
	return total, nil
}

// CallStatusOf returns the ServerCallStatus rows of keys, in CallStatus's order within
// each batch of keys (any number of keys may be asked for).
func (db *DB) CallStatusOf(ctx context.Context, keys []route.Key) ([]CallStatus, error) {
	statuses := []CallStatus{}
	for batch := range slices.Chunk(uniqueKeys(keys), maxTuplesPerIn) {
		var b strings.Builder
		b.WriteString("SELECT modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload FROM ServerCallStatus WHERE ")
		db.d.appendInTuples(&b, "modid, cmdid", 2, len(batch))
		b.WriteString(" ORDER BY ts DESC, modid, cmdid, ip, port, caller")
		args := make([]any, 0, 2*len(batch))
		for _, k := range batch {
			args = append(args, int64(k.Modid), int64(k.Cmdid))
		}
		more, err := db.readCallStatus(ctx, b.String(), args)
		if err != nil {
			return nil, err
		}
		statuses = append(statuses, more...)
	}
	return statuses, nil
}

// uniqueKeys returns keys sorted without duplicates, as a new slice.
func uniqueKeys(keys []route.Key) []route.Key {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, route.CompareKeys)
	return slices.Compact(keys)
}

// LastChangesOf returns, for each of keys RouteHistory holds, the time of its newest
// row (the highest id), through the (modid, cmdid, id) index.
func (db *DB) LastChangesOf(ctx context.Context, keys []route.Key) (map[route.Key]time.Time, error) {
	last := make(map[route.Key]time.Time, len(keys))
	for batch := range slices.Chunk(uniqueKeys(keys), maxTuplesPerIn) {
		var b strings.Builder
		b.WriteString("SELECT modid, cmdid, ts FROM RouteHistory WHERE id IN (SELECT MAX(id) FROM RouteHistory WHERE ")
		db.d.appendInTuples(&b, "modid, cmdid", 2, len(batch))
		b.WriteString(" GROUP BY modid, cmdid)")
		args := make([]any, 0, 2*len(batch))
		for _, k := range batch {
			args = append(args, col32(k.Modid), col32(k.Cmdid))
		}
		if err := db.scanLastChanges(ctx, b.String(), args, last); err != nil {
			return nil, err
		}
	}
	return last, nil
}

// scanLastChanges runs query, of (modid, cmdid, ts) rows, into last.
func (db *DB) scanLastChanges(ctx context.Context, query string, args []any, last map[route.Key]time.Time) error {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k  route.Key
			ms int64
		)
		if err := rows.Scan(wire32{&k.Modid}, wire32{&k.Cmdid}, &ms); err != nil {
			return fmt.Errorf("cannot read RouteHistory: %w", err)
		}
		last[k] = time.UnixMilli(ms)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	return nil
}

// ServiceNamesOf returns the names of the modids and cmdids of keys (as ServiceNames
// does, reading only those).
func (db *DB) ServiceNamesOf(ctx context.Context, keys []route.Key) (ServiceNames, error) {
	n := ServiceNames{Mod: map[int32]string{}, Cmd: map[int32]string{}}
	var mods, cmds []int32
	for _, k := range keys {
		mods, cmds = append(mods, k.Modid), append(cmds, k.Cmdid)
	}
	for _, t := range []struct {
		table, column string
		ids           []int32
		dst           map[int32]string
	}{{"ModIDConfig", "modid", mods, n.Mod}, {"CmdIDConfig", "cmdid", cmds, n.Cmd}} {
		slices.Sort(t.ids)
		for batch := range slices.Chunk(slices.Compact(t.ids), maxTuplesPerIn) {
			args := make([]any, len(batch))
			for i, id := range batch {
				args[i] = col32(id)
			}
			where := " WHERE " + t.column + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",") + ")"
			if err := readNamesWhere(ctx, db.db, t.table, t.column, where, args, t.dst); err != nil {
				return ServiceNames{}, err
			}
		}
	}
	return n, nil
}

// NameRow is one modid's or cmdid's name.
type NameRow struct {
	ID   int32
	Name string
}

// NamePage returns the names of modids (cmd false) or cmdids (cmd true) in id order,
// limit of them from offset, and how many ids have a name.
func (db *DB) NamePage(ctx context.Context, cmd bool, offset, limit int) ([]NameRow, int, error) {
	table, column := "ModIDConfig", "modid"
	if cmd {
		table, column = "CmdIDConfig", "cmdid"
	}
	var total int
	if err := db.db.QueryRowContext(ctx, "SELECT COUNT(DISTINCT "+column+") FROM "+table).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("cannot count %s: %w", table, err)
	}
	rows, err := db.db.QueryContext(ctx, "SELECT "+column+", content FROM "+table+
		" WHERE id IN (SELECT MIN(id) FROM "+table+" GROUP BY "+column+") ORDER BY "+column+" LIMIT ? OFFSET ?", limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot read %s: %w", table, err)
	}
	defer rows.Close()
	var names []NameRow
	for rows.Next() {
		var r NameRow
		if err := rows.Scan(wire32{&r.ID}, &r.Name); err != nil {
			return nil, 0, fmt.Errorf("cannot read %s: %w", table, err)
		}
		r.Name = strings.TrimRight(r.Name, " ")
		names = append(names, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("cannot read %s: %w", table, err)
	}
	return names, total, nil
}

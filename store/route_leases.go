package store

import (
	"context"
	"fmt"
	"time"

	"github.com/larsgo/lars/route"
)

// LeaseInfo is what the route views (larsctl route list, the console) show of a
// registered host: who registered it and how long its lease has left, by the
// database's clock.
type LeaseInfo struct {
	Owner string
	Left  time.Duration // negative: ended, the host about to be expired
}

// LeasesOf returns the leases of the hosts of keys (every key when keys is nil), by
// host: a host of the route that is not in it is static. A database where nobody
// registered has no lease table: none then, and no error.
func (db *DB) LeasesOf(ctx context.Context, keys []route.Key) (map[LeaseKey]LeaseInfo, error) {
	tables, err := db.d.tableNames(ctx, db.db)
	if err != nil {
		return nil, fmt.Errorf("cannot list the tables: %w", err)
	}
	out := map[LeaseKey]LeaseInfo{}
	if !tables["LarsLease"] {
		return out, nil
	}
	query := "SELECT modid, cmdid, serverip, serverport, owner, expires_ms - " + db.d.nowMsSQL() + " FROM LarsLease WHERE " + db.liveLeaseSQL()
	var args []any
	if keys != nil {
		if len(keys) == 0 {
			return out, nil
		}
		query += " AND (modid, cmdid) IN " + db.d.valuesList
		for i, k := range keys {
			if i > 0 {
				query += ", "
			}
			query += "(?, ?)"
			args = append(args, col32(k.Modid), col32(k.Cmdid))
		}
		query += ")"
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read LarsLease: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l LeaseKey
		var info LeaseInfo
		var leftMs int64
		var hs hostScan
		if err := rows.Scan(wire32{&l.Key.Modid}, wire32{&l.Key.Cmdid}, wire32{&hs.ip}, wire32{&hs.port}, &info.Owner, &leftMs); err != nil {
			return nil, fmt.Errorf("cannot read LarsLease: %w", err)
		}
		l.Host = hs.host()
		info.Left = time.Duration(leftMs) * time.Millisecond
		out[l] = info
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read LarsLease: %w", err)
	}
	return out, nil
}

// liveLeaseSQL is the condition that keeps the leases of hosts in a route: not the
// tombstones of instances an operator removed.
func (db *DB) liveLeaseSQL() string { return "removed_ms = 0" }

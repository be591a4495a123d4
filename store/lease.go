package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/lb"
)

// LarsLease: our own table beside Lars's, the leases of instances that registered
// themselves (issue 31). A registered instance is a RouteData row like any other,
// written through the one write path (RouteChange, RouteHistory), plus a lease row
// that says until when it stays: expires_ms, Unix milliseconds of the database's
// clock, never an instance's. A RouteData row without a lease is static: written by
// an operator, never expired. Open does not create the table (a route service without
// registration needs none): EnsureLeases does.

// leaseTable returns the statement that creates LarsLease.
func (d *dialect) leaseTable() larsTable {
	return larsTable{"LarsLease", `CREATE TABLE IF NOT EXISTS LarsLease (
		modid int unsigned NOT NULL,
		cmdid int unsigned NOT NULL,
		serverip int unsigned NOT NULL,
		serverport int unsigned NOT NULL,
		owner varchar(255) NOT NULL,
		expires_ms bigint NOT NULL,
		PRIMARY KEY (modid, cmdid, serverip, serverport)
	)` + d.tableOptions}
}

// nowMsSQL is the database's clock in Unix milliseconds, as an SQL expression.
func (d *dialect) nowMsSQL() string {
	if d.engine == EngineSQLite {
		return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
	}
	return "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"
}

// EnsureLeases creates the lease table when missing. Safe to run concurrently from
// several processes.
func (db *DB) EnsureLeases(ctx context.Context) error {
	t := db.d.leaseTable()
	if _, err := db.db.ExecContext(ctx, t.create); err != nil {
		return fmt.Errorf("cannot create table %s: %w", t.name, err)
	}
	return nil
}

// Lease is a registered instance's lease.
type Lease struct {
	Key   lb.Key
	Host  lb.Host
	Owner string    // who registered it: the agent's identity, or what WithWho said
	Until time.Time // when it expires, by the database's clock
}

// Registration says what Register did.
type Registration int

// What Register did.
const (
	// Registered: the instance was added to its service's hosts, with a lease.
	Registered Registration = iota
	// Renewed: it was there with a lease already; the lease now runs for ttl again.
	Renewed
	// Static: an operator wrote that host; it stays as written, with no lease.
	Static
)

// Register registers host h of service k for owner for ttl: in one write transaction
// (Lars's convention, "register", RouteHistory naming owner) h joins k's hosts unless
// there, and its lease runs until the database's clock plus ttl. A host an operator
// wrote (one without a lease) is left static.
func (db *DB) Register(ctx context.Context, k lb.Key, h lb.Host, owner string, ttl time.Duration) (Registration, error) {
	var result Registration
	var leased bool
	hooks := writeHooks{
		locked: func(ctx context.Context, tx querier) (err error) {
			leased, err = db.leased(ctx, tx, k, h)
			return err
		},
		also: func(ctx context.Context, tx querier) error {
			if result == Static {
				return nil
			}
			return db.putLease(ctx, tx, k, h, owner, ttl)
		},
	}
	_, err := db.writeWith(WithWho(ctx, owner), "register", []lb.Key{k}, hooks, func(_ lb.Key, old []lb.Host) []lb.Host {
		if !slices.Contains(old, h) {
			result = Registered
			return normalizeHosts(append(slices.Clone(old), h))
		}
		result = Renewed
		if !leased {
			result = Static
		}
		return old
	})
	return result, err
}

// leased reports whether h of k has a lease row.
func (db *DB) leased(ctx context.Context, q querier, k lb.Key, h lb.Host) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM LarsLease WHERE modid = ? AND cmdid = ? AND serverip = ? AND serverport = ?",
		col32(k.Modid), col32(k.Cmdid), col32(h.IP), col32(h.Port)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("cannot read LarsLease: %w", err)
	}
	return n > 0, nil
}

// putLease writes h of k's lease for owner, until the database's clock plus ttl.
func (db *DB) putLease(ctx context.Context, q querier, k lb.Key, h lb.Host, owner string, ttl time.Duration) error {
	stmt := "INSERT INTO LarsLease (modid, cmdid, serverip, serverport, owner, expires_ms) VALUES (?, ?, ?, ?, ?, " +
		db.d.nowMsSQL() + " + ?)"
	if db.d.upsertStyle == upsertOnConflict {
		stmt += " ON CONFLICT (modid, cmdid, serverip, serverport) DO UPDATE SET owner = excluded.owner, expires_ms = excluded.expires_ms"
	} else {
		stmt += " ON DUPLICATE KEY UPDATE owner = VALUES(owner), expires_ms = VALUES(expires_ms)"
	}
	if _, err := q.ExecContext(ctx, stmt, col32(k.Modid), col32(k.Cmdid), col32(h.IP), col32(h.Port), owner, ttl.Milliseconds()); err != nil {
		return fmt.Errorf("cannot write LarsLease: %w", err)
	}
	return nil
}

// LeaseKey names one lease.
type LeaseKey struct {
	Key  lb.Key
	Host lb.Host
}

// Renew extends the leases named, those that still exist, to the database's clock
// plus ttl, in one statement with no route write, and returns how many it found. A
// lease that is gone (expired, deregistered) is not made again: its instance must
// Register.
func (db *DB) Renew(ctx context.Context, leases []LeaseKey, ttl time.Duration) (int64, error) {
	if len(leases) == 0 {
		return 0, nil
	}
	where, in := db.leaseKeysIn(leases)
	args := append([]any{ttl.Milliseconds()}, in...)
	query := "UPDATE LarsLease SET expires_ms = " + db.d.nowMsSQL() + " + ? WHERE 1 = 1" + where
	res, err := db.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("cannot renew leases: %w", err)
	}
	return res.RowsAffected()
}

// Deregister removes h from k's hosts and its lease, in one write transaction
// ("deregister", RouteHistory naming owner), if h is registered; a static host is
// left alone. It reports whether h was registered.
func (db *DB) Deregister(ctx context.Context, k lb.Key, h lb.Host, owner string) (bool, error) {
	gone, err := db.dropLeases(WithWho(ctx, owner), "deregister", []LeaseKey{{k, h}}, false)
	return len(gone) > 0, err
}

// ExpireLeases removes every instance whose lease ended by the database's clock, at
// most limit of them (all when limit <= 0), in one write transaction ("expire",
// RouteHistory naming "lease expired"), and returns them. The version lock serialises
// it with every other writer and the leases are read again under it, so with several
// route services on one database each lease is removed once.
func (db *DB) ExpireLeases(ctx context.Context, limit int) ([]Lease, error) {
	candidates, err := db.expiredLeases(ctx, db.db, nil, limit)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	keys := make([]LeaseKey, len(candidates))
	for i, l := range candidates {
		keys[i] = LeaseKey{l.Key, l.Host}
	}
	return db.dropLeases(WithWho(ctx, "lease expired"), "expire", keys, true)
}

// dropLeases removes the named leases that exist (only the expired ones, when
// expiredOnly) and their hosts, in one write transaction, and returns those it removed.
func (db *DB) dropLeases(ctx context.Context, op string, named []LeaseKey, expiredOnly bool) ([]Lease, error) {
	var found []Lease
	drop := map[lb.Key][]lb.Host{}
	hooks := writeHooks{
		locked: func(ctx context.Context, tx querier) (err error) {
			if expiredOnly {
				found, err = db.expiredLeases(ctx, tx, named, 0)
			} else {
				found, err = db.leasesOf(ctx, tx, named)
			}
			for _, l := range found {
				drop[l.Key] = append(drop[l.Key], l.Host)
			}
			return err
		},
		also: func(ctx context.Context, tx querier) error { return db.deleteLeases(ctx, tx, found) },
	}
	_, err := db.writeWith(ctx, op, distinctKeys(named), hooks, func(k lb.Key, old []lb.Host) []lb.Host {
		return slices.DeleteFunc(slices.Clone(old), func(h lb.Host) bool { return slices.Contains(drop[k], h) })
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// distinctKeys returns the services of named, sorted, each once.
func distinctKeys(named []LeaseKey) []lb.Key {
	keys := make([]lb.Key, 0, len(named))
	for _, l := range named {
		keys = append(keys, l.Key)
	}
	slices.SortFunc(keys, compareKeys)
	return slices.Compact(keys)
}

// leaseColumns are the columns scanLeases reads.
const leaseColumns = "modid, cmdid, serverip, serverport, owner, expires_ms"

// expiredLeases returns the leases ended by the database's clock, among named (all
// when named is nil), at most limit (all when limit <= 0); inside a write transaction
// on MySQL the rows are locked.
func (db *DB) expiredLeases(ctx context.Context, q querier, named []LeaseKey, limit int) ([]Lease, error) {
	query := "SELECT " + leaseColumns + " FROM LarsLease WHERE expires_ms < " + db.d.nowMsSQL()
	where, args := db.leaseKeysIn(named)
	query += where + " ORDER BY expires_ms"
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	if named != nil {
		query += db.d.forUpdate
	}
	return db.scanLeases(ctx, q, query, args...)
}

// leasesOf returns the leases among named that exist, locked on MySQL.
func (db *DB) leasesOf(ctx context.Context, q querier, named []LeaseKey) ([]Lease, error) {
	where, args := db.leaseKeysIn(named)
	return db.scanLeases(ctx, q, "SELECT "+leaseColumns+" FROM LarsLease WHERE 1 = 1"+where+db.d.forUpdate, args...)
}

// leaseKeysIn is the " AND (...) IN (...)" clause that keeps the leases named, and its
// arguments; nothing for nil.
func (db *DB) leaseKeysIn(named []LeaseKey) (string, []any) {
	if named == nil {
		return "", nil
	}
	var b strings.Builder
	args := make([]any, 0, 4*len(named))
	b.WriteString(" AND (modid, cmdid, serverip, serverport) IN " + db.d.valuesList)
	for i, l := range named {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
		args = append(args, col32(l.Key.Modid), col32(l.Key.Cmdid), col32(l.Host.IP), col32(l.Host.Port))
	}
	b.WriteString(")")
	return b.String(), args
}

// scanLeases runs query and reads its leases.
func (db *DB) scanLeases(ctx context.Context, q querier, query string, args ...any) ([]Lease, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read LarsLease: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		var ms int64
		if err := rows.Scan(wire32{&l.Key.Modid}, wire32{&l.Key.Cmdid}, wire32{&l.Host.IP}, wire32{&l.Host.Port}, &l.Owner, &ms); err != nil {
			return nil, fmt.Errorf("cannot read LarsLease: %w", err)
		}
		l.Until = time.UnixMilli(ms)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read LarsLease: %w", err)
	}
	return out, nil
}

// deleteLeases deletes the lease rows of leases.
func (db *DB) deleteLeases(ctx context.Context, q querier, leases []Lease) error {
	if len(leases) == 0 {
		return nil
	}
	named := make([]LeaseKey, len(leases))
	for i, l := range leases {
		named[i] = LeaseKey{l.Key, l.Host}
	}
	where, args := db.leaseKeysIn(named)
	if _, err := q.ExecContext(ctx, "DELETE FROM LarsLease WHERE 1 = 1"+where, args...); err != nil {
		return fmt.Errorf("cannot delete from LarsLease: %w", err)
	}
	return nil
}

// Leases returns every lease, the soonest to end first.
func (db *DB) Leases(ctx context.Context) ([]Lease, error) {
	return db.scanLeases(ctx, db.db, "SELECT "+leaseColumns+" FROM LarsLease ORDER BY expires_ms")
}

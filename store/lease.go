package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
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
		removed_ms bigint NOT NULL DEFAULT 0,
		PRIMARY KEY (modid, cmdid, serverip, serverport)` + d.leaseIndexInTable() + `
	)` + d.tableOptions}
}

// leaseExpiresIndex is the name of the LarsLease (expires_ms) index: the expiry reads
// the leases that ended without reading them all.
const leaseExpiresIndex = "idx_LarsLease_expires_ms"

// leaseIndexInTable is the index clause inside MySQL's CREATE TABLE (MySQL has no
// CREATE INDEX IF NOT EXISTS); SQLite creates the index apart (leaseIndexSQL).
func (d *dialect) leaseIndexInTable() string {
	if d.engine == EngineSQLite {
		return ""
	}
	return ",\n\t\tKEY " + leaseExpiresIndex + " (expires_ms)"
}

// leaseIndexSQL creates the expires_ms index of a LarsLease table that lacks it.
func (d *dialect) leaseIndexSQL() string {
	if d.engine == EngineSQLite {
		return "CREATE INDEX IF NOT EXISTS " + leaseExpiresIndex + " ON LarsLease (expires_ms)"
	}
	return "CREATE INDEX " + leaseExpiresIndex + " ON LarsLease (expires_ms)"
}

// nowMsSQL is the database's clock in Unix milliseconds, as an SQL expression.
func (d *dialect) nowMsSQL() string {
	if d.engine == EngineSQLite {
		return "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
	}
	return "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"
}

// EnsureLeases creates the lease table and its expires_ms index when missing, and adds
// the removed_ms column (tombstones) to a table made before it. Safe to run
// concurrently from several processes.
func (db *DB) EnsureLeases(ctx context.Context) error {
	t := db.d.leaseTable()
	if _, err := db.db.ExecContext(ctx, t.create); err != nil {
		return fmt.Errorf("cannot create table %s: %w", t.name, err)
	}
	old := false
	if _, err := db.db.ExecContext(ctx, "SELECT removed_ms FROM LarsLease WHERE 1 = 0"); err != nil {
		old = true
		if _, err := db.db.ExecContext(ctx, "ALTER TABLE LarsLease ADD COLUMN removed_ms bigint NOT NULL DEFAULT 0"); err != nil {
			return fmt.Errorf("cannot add column removed_ms to LarsLease: %w", err)
		}
	}
	if db.d.engine == EngineSQLite || old {
		if _, err := db.db.ExecContext(ctx, db.d.leaseIndexSQL()); err != nil && !db.d.isDuplicateIndex(err) {
			return fmt.Errorf("cannot create index %s: %w", leaseExpiresIndex, err)
		}
	}
	return nil
}

// Lease is a registered instance's lease.
type Lease struct {
	Key   route.Key
	Host  route.Host
	Owner string    // who registered it: the agent's identity, or what WithWho said
	Until time.Time // when it expires, by the database's clock
	// Removed is when an operator removed the instance, by the database's clock; zero
	// while it is not removed. A removed lease (a tombstone) keeps the instance out
	// until it registers anew (LeaseNew); it is deleted after TombstoneAge.
	Removed time.Time
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
	// Removed: an operator removed the instance; a LeaseKeep leaves it out, only a
	// LeaseNew registers it again.
	Removed
	// Deregistered: a LeaseDrop removed the instance and its lease, or found none.
	Deregistered
)

// Register registers host h of service k for owner for ttl, as a LeaseNew
// (ApplyLeases): h joins k's hosts unless there, through the one write path
// ("register", RouteHistory naming owner), and its lease runs until the database's
// clock plus ttl; an operator's removal of h is undone. A host an operator wrote (one
// without a lease) is left static.
func (db *DB) Register(ctx context.Context, k route.Key, h route.Host, owner string, ttl time.Duration) (Registration, error) {
	res, err := db.ApplyLeases(ctx, owner, []LeaseRequest{{Key: k, Host: h, TTL: ttl, Op: LeaseNew}})
	if err != nil {
		return 0, err
	}
	return res[0], nil
}

// LeaseKey names one lease.
type LeaseKey struct {
	Key  route.Key
	Host route.Host
}

// Deregister removes h from k's hosts and its lease, in one write transaction
// ("deregister", RouteHistory naming owner), if h is registered (a removed lease is
// deleted too); a static host is left alone. It reports whether h had a lease.
func (db *DB) Deregister(ctx context.Context, k route.Key, h route.Host, owner string) (bool, error) {
	gone, err := db.dropLeases(WithWho(ctx, owner), "deregister", []LeaseKey{{k, h}}, false, nil)
	return len(gone) > 0, err
}

// ExpireLeases removes every instance whose lease ended by the database's clock (a
// removed lease, a tombstone, is not one: its instance is out already), at
// most limit of them (all when limit <= 0), in one write transaction ("expire",
// RouteHistory naming "lease expired"), and returns them. The version lock serialises
// it with every other writer and the leases are read again under it, so with several
// route services on one database each lease is removed once.
// One that loses a deadlock (MySQL) is run again.
func (db *DB) ExpireLeases(ctx context.Context, limit int) (expired []Lease, err error) {
	err = retryDeadlock(ctx, func() (err error) {
		expired, err = db.expireLeases(ctx, limit)
		return err
	})
	return expired, err
}

// expireLeases is one run of ExpireLeases.
func (db *DB) expireLeases(ctx context.Context, limit int) ([]Lease, error) {
	candidates, err := db.expiredLeases(ctx, db.db, nil, limit)
	if err != nil || len(candidates) == 0 {
		return nil, err
	}
	keys := make([]LeaseKey, len(candidates))
	for i, l := range candidates {
		keys[i] = LeaseKey{l.Key, l.Host}
	}
	return db.dropLeases(WithWho(ctx, "lease expired"), "expire", keys, true, nil)
}

// dropLeases removes the named leases that exist (only the expired ones, when
// expiredOnly) and their hosts, in one write transaction, and returns those it removed.
// A changed service's RouteHistory row is by the owners (joinOwners) of the hosts it
// lost, when owners names them, else by WhoFrom(ctx).
func (db *DB) dropLeases(ctx context.Context, op string, named []LeaseKey, expiredOnly bool, owners map[LeaseKey]string) ([]Lease, error) {
	var found []Lease
	drop := map[route.Key][]route.Host{}
	hooks := writeHooks{
		lease: true,
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
	var who []string // the owners of the hosts the last want removed
	if owners != nil {
		hooks.who = func(route.Key) string { return joinOwners(who) }
	}
	_, err := db.writeWith(ctx, op, distinctKeys(named), hooks, func(k route.Key, old []route.Host) []route.Host {
		who = who[:0]
		return slices.DeleteFunc(slices.Clone(old), func(h route.Host) bool {
			if !slices.ContainsFunc(drop[k], func(d route.Host) bool { return d.Addr == h.Addr }) {
				return false
			}
			if o, ok := owners[LeaseKey{k, route.HostAt(h.Addr)}]; ok {
				who = append(who, o)
			}
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// distinctKeys returns the services of named, sorted, each once.
func distinctKeys(named []LeaseKey) []route.Key {
	keys := make([]route.Key, 0, len(named))
	for _, l := range named {
		keys = append(keys, l.Key)
	}
	slices.SortFunc(keys, route.CompareKeys)
	return slices.Compact(keys)
}

// leaseColumns are the columns scanLeases reads.
const leaseColumns = "modid, cmdid, serverip, serverport, owner, expires_ms, removed_ms"

// expiredLeases returns the leases ended by the database's clock, tombstones aside, among named (all
// when named is nil), at most limit (all when limit <= 0); inside a write transaction
// on MySQL the rows are locked.
func (db *DB) expiredLeases(ctx context.Context, q querier, named []LeaseKey, limit int) ([]Lease, error) {
	query := "SELECT " + leaseColumns + " FROM LarsLease WHERE removed_ms = 0 AND expires_ms < " + db.d.nowMsSQL()
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
		ip, port, err := wireCols(l.Host)
		if err != nil {
			ip = -1 // no lease: LarsLease keeps IPv4 hosts in an unsigned column
		}
		args = append(args, col32(l.Key.Modid), col32(l.Key.Cmdid), ip, port)
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
		var hs hostScan
		var ms, removed int64
		if err := rows.Scan(wire32{&l.Key.Modid}, wire32{&l.Key.Cmdid}, wire32{&hs.ip}, wire32{&hs.port}, &l.Owner, &ms, &removed); err != nil {
			return nil, fmt.Errorf("cannot read LarsLease: %w", err)
		}
		l.Host = hs.host()
		l.Until = time.UnixMilli(ms)
		if removed > 0 {
			l.Removed = time.UnixMilli(removed)
		}
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

// Leases returns every lease, removed ones (tombstones) among them, the soonest to
// end first.
func (db *DB) Leases(ctx context.Context) ([]Lease, error) {
	return db.scanLeases(ctx, db.db, "SELECT "+leaseColumns+" FROM LarsLease ORDER BY expires_ms")
}

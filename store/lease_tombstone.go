package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TombstoneAge is how long a removed lease (a tombstone: an instance an operator
// removed, kept out until it registers anew) is kept before PruneTombstones deletes
// it. An agent that still renews it after that registers it again.
const TombstoneAge = 24 * time.Hour

// mysqlErrNoSuchTable is ER_NO_SUCH_TABLE.
const mysqlErrNoSuchTable = 1146

// isNoSuchTable reports whether err says a table does not exist.
func isNoSuchTable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == mysqlErrNoSuchTable
	}
	return strings.Contains(err.Error(), "no such table")
}

// operatorLeases runs, in an operator's write transaction (any write but the leases'
// own), what that write does to leases: the leases of the hosts it removed become
// tombstones (removed now, by the database's clock), and the lease rows of the hosts
// it added (tombstones: a host with a live lease is in the route already) are deleted,
// the hosts being the operator's now (static). A database where nobody registered has
// no LarsLease table: each statement then fails at once, which is ignored.
func (db *DB) operatorLeases(ctx context.Context, tx querier, removed, added []keyHost) error {
	if len(removed) > 0 {
		if err := db.execLeaseKeys(ctx, tx, "UPDATE LarsLease SET removed_ms = "+db.d.nowMsSQL()+" WHERE removed_ms = 0", removed); err != nil {
			return fmt.Errorf("cannot mark the removed hosts' leases: %w", err)
		}
	}
	if len(added) > 0 {
		if err := db.execLeaseKeys(ctx, tx, "DELETE FROM LarsLease WHERE 1 = 1", added); err != nil {
			return fmt.Errorf("cannot clear the added hosts' leases: %w", err)
		}
	}
	return nil
}

// execLeaseKeys runs stmt (ending in a WHERE condition) for the leases of hosts, in
// chunks of maxTuplesPerIn; a missing LarsLease table is no error.
func (db *DB) execLeaseKeys(ctx context.Context, tx querier, stmt string, hosts []keyHost) error {
	for len(hosts) > 0 {
		chunk := hosts[:min(len(hosts), maxTuplesPerIn)]
		hosts = hosts[len(chunk):]
		named := make([]LeaseKey, len(chunk))
		for i, kh := range chunk {
			named[i] = LeaseKey{kh.key, kh.host}
		}
		where, args := db.leaseKeysIn(named)
		if _, err := tx.ExecContext(ctx, stmt+where, args...); err != nil {
			if isNoSuchTable(err) {
				return nil
			}
			return err
		}
	}
	return nil
}

// PruneTombstones deletes the removed leases older than age by the database's clock
// and returns how many.
func (db *DB) PruneTombstones(ctx context.Context, age time.Duration) (int64, error) {
	res, err := db.db.ExecContext(ctx, "DELETE FROM LarsLease WHERE removed_ms > 0 AND removed_ms < "+db.d.nowMsSQL()+" - ?", age.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("cannot delete old tombstones from LarsLease: %w", err)
	}
	return res.RowsAffected()
}

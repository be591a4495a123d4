package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
)

// callStatusColumns are ServerCallStatus's columns in the order a row's values are
// bound; callStatusKey is its primary key.
var (
	callStatusColumns = []string{"modid", "cmdid", "ip", "port", "caller", "succ_cnt", "err_cnt", "ts", "overload"}
	callStatusKey     = []string{"modid", "cmdid", "ip", "port", "caller"}
)

// callStatusChunk is the rows of one prepared upsert statement: batches are written in
// chunks of this size through one statement prepared once (250 rows of 9 columns are
// 2,250 placeholders, under every engine's limit), the rest in one statement of its
// own. Preparing a statement of a few hundred rows costs about as much as running it,
// so reusing it halves the cost of a batch on SQLite.
const callStatusChunk = 250

// UpsertCallStatus stores rows in ServerCallStatus, each replacing the row with its
// (modid, cmdid, ip, port, caller), in multi-row upsert statements of callStatusChunk
// rows (MySQL ON DUPLICATE KEY UPDATE, SQLite ON CONFLICT DO UPDATE). Statements are
// not grouped in a transaction: each commits on its own, so an error may leave the
// earlier chunks written. Counts above the column's int range are stored as its
// maximum, 2147483647, rather than failing the whole statement.
func (db *DB) UpsertCallStatus(ctx context.Context, rows []CallStatus) error {
	args := make([]any, 0, min(len(rows), callStatusChunk)*len(callStatusColumns))
	for len(rows) > 0 {
		n := min(len(rows), callStatusChunk)
		args = args[:0]
		var err error
		for i := range rows[:n] {
			if args, err = appendCallStatusArgs(args, &rows[i]); err != nil {
				return fmt.Errorf("cannot upsert a ServerCallStatus row of %s: %w", rows[i].Key, err)
			}
		}
		if n == callStatusChunk {
			var st *sql.Stmt
			if st, err = db.prepared(ctx, "upsert ServerCallStatus chunk", upsertCallStatusSQL(db, n)); err == nil {
				_, err = st.ExecContext(ctx, args...)
			}
		} else {
			_, err = db.db.ExecContext(ctx, upsertCallStatusSQL(db, n)(), args...)
		}
		if err != nil {
			return fmt.Errorf("cannot upsert %d ServerCallStatus rows: %w", n, err)
		}
		rows = rows[n:]
	}
	return nil
}

// upsertCallStatusSQL returns the builder of the upsert of n rows.
func upsertCallStatusSQL(db *DB, n int) func() string {
	return func() string { return db.UpsertSQL("ServerCallStatus", callStatusColumns, callStatusKey, n) }
}

// UpsertCallStatusOne stores one row in ServerCallStatus with a statement of its own,
// as Lars's reporter does for every host: the baseline UpsertCallStatus is measured
// against.
func (db *DB) UpsertCallStatusOne(ctx context.Context, row CallStatus) error {
	args, err := appendCallStatusArgs(make([]any, 0, len(callStatusColumns)), &row)
	if err != nil {
		return fmt.Errorf("cannot upsert a ServerCallStatus row of %s: %w", row.Key, err)
	}
	query := db.UpsertSQL("ServerCallStatus", callStatusColumns, callStatusKey, 1)
	if _, err := db.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("cannot upsert a ServerCallStatus row: %w", err)
	}
	return nil
}

// appendCallStatusArgs appends r's values in callStatusColumns order: ip, port and
// caller as the unsigned numbers of their wire int32, overload as Lars's "1" or "0".
// A host that is not IPv4 is an error: the table keeps an IPv4 ip.
func appendCallStatusArgs(args []any, r *CallStatus) ([]any, error) {
	ip, port, err := wireCols(r.Host)
	if err != nil {
		return args, err
	}
	return append(args,
		int64(r.Key.Modid), int64(r.Key.Cmdid),
		ip, port, int64(uint32(r.Caller)),
		clampInt32(r.Succ), clampInt32(r.Err),
		r.TS, overloadText(r.Overload)), nil
}

// clampInt32 is v, or the largest int column value when v does not fit: succ_cnt and
// err_cnt are signed int columns, and MySQL in strict mode rejects a statement holding
// a value out of range.
func clampInt32(v uint32) int64 {
	return int64(min(v, math.MaxInt32))
}

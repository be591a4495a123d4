package store

import (
	"context"
	"fmt"
	"math"
)

// callStatusColumns are ServerCallStatus's columns in the order a row's values are
// bound; callStatusKey is its primary key.
var (
	callStatusColumns = []string{"modid", "cmdid", "ip", "port", "caller", "succ_cnt", "err_cnt", "ts", "overload"}
	callStatusKey     = []string{"modid", "cmdid", "ip", "port", "caller"}
)

// maxCallStatusRowsPerUpsert bounds one upsert statement: 2000 rows of 9 columns are
// 18,000 placeholders, under SQLite's 32766 and MySQL's 65535, and about 120 KB of SQL
// once MySQL parameters are interpolated, far under max_allowed_packet.
const maxCallStatusRowsPerUpsert = 2000

// UpsertCallStatus stores rows in ServerCallStatus, each replacing the row with its
// (modid, cmdid, ip, port, caller), in one multi-row upsert statement per
// maxCallStatusRowsPerUpsert rows (MySQL ON DUPLICATE KEY UPDATE, SQLite ON CONFLICT DO
// UPDATE). Statements are not grouped in a transaction: each commits on its own, so an
// error may leave the earlier chunks written. Counts above the column's int range are
// stored as its maximum, 2147483647, rather than failing the whole statement.
func (db *DB) UpsertCallStatus(ctx context.Context, rows []CallStatus) error {
	for len(rows) > 0 {
		n := min(len(rows), maxCallStatusRowsPerUpsert)
		args := make([]any, 0, n*len(callStatusColumns))
		for i := range rows[:n] {
			args = appendCallStatusArgs(args, &rows[i])
		}
		query := db.UpsertSQL("ServerCallStatus", callStatusColumns, callStatusKey, n)
		if _, err := db.db.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("cannot upsert %d ServerCallStatus rows: %w", n, err)
		}
		rows = rows[n:]
	}
	return nil
}

// UpsertCallStatusOne stores one row in ServerCallStatus with a statement of its own,
// as Lars's reporter does for every host: the baseline UpsertCallStatus is measured
// against.
func (db *DB) UpsertCallStatusOne(ctx context.Context, row CallStatus) error {
	args := appendCallStatusArgs(make([]any, 0, len(callStatusColumns)), &row)
	query := db.UpsertSQL("ServerCallStatus", callStatusColumns, callStatusKey, 1)
	if _, err := db.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("cannot upsert a ServerCallStatus row: %w", err)
	}
	return nil
}

// appendCallStatusArgs appends r's values in callStatusColumns order: ip, port and
// caller as the unsigned numbers of their wire int32, overload as Lars's "1" or "0".
func appendCallStatusArgs(args []any, r *CallStatus) []any {
	return append(args,
		int64(r.Key.Modid), int64(r.Key.Cmdid),
		int64(uint32(r.Host.IP)), int64(uint32(r.Host.Port)), int64(uint32(r.Caller)),
		clampInt32(r.Succ), clampInt32(r.Err),
		r.TS, overloadText(r.Overload))
}

// clampInt32 is v, or the largest int column value when v does not fit: succ_cnt and
// err_cnt are signed int columns, and MySQL in strict mode rejects a statement holding
// a value out of range.
func clampInt32(v uint32) int64 {
	return int64(min(v, math.MaxInt32))
}

package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Retention: the report service deletes ServerCallStatus rows nobody updated for a
// while, and RouteHistory rows past their age or count, in bounded batches: a sweep
// reads its table once, a batch of rows per statement, and deletes what it may of
// each batch with one statement more.

// CallStatusSweep deletes the ServerCallStatus rows whose ts is before a cutoff. It
// walks the table once in primary-key order; each Next reads one batch after the last
// row read and deletes the stale rows of it (checking ts again, so a row updated
// meanwhile stays). A sweep is used by one goroutine.
type CallStatusSweep struct {
	db     *DB
	before int64 // Unix seconds
	after  []any // the primary key of the last row read; nil before the first batch
	done   bool
}

// NewCallStatusSweep returns a sweep of the rows whose ts (Unix seconds) is before
// before.
func (db *DB) NewCallStatusSweep(before time.Time) *CallStatusSweep {
	return &CallStatusSweep{db: db, before: before.Unix()}
}

// Next reads up to batch rows after the last one read and deletes the stale ones. It
// returns how many it deleted and whether the table was read to its end (Next then
// does nothing more).
func (s *CallStatusSweep) Next(ctx context.Context, batch int) (deleted int64, done bool, err error) {
	if s.done {
		return 0, true, nil
	}
	var b strings.Builder
	b.WriteString("SELECT modid, cmdid, ip, port, caller, ts FROM ServerCallStatus")
	args := make([]any, 0, 2*len(callStatusKey)+1)
	if s.after != nil {
		b.WriteString(" WHERE ")
		args = s.db.d.appendAfterKey(&b, args, callStatusKey, s.after)
	}
	b.WriteString(" ORDER BY modid, cmdid, ip, port, caller LIMIT ?")
	args = append(args, batch)
	rows, err := s.db.db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return 0, false, fmt.Errorf("cannot read ServerCallStatus: %w", err)
	}
	var (
		stale [][5]int64
		read  int
		key   [5]int64
		ts    int64
	)
	for rows.Next() {
		if err := rows.Scan(&key[0], &key[1], &key[2], &key[3], &key[4], &ts); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("cannot read ServerCallStatus: %w", err)
		}
		read++
		if ts < s.before {
			stale = append(stale, key)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, false, fmt.Errorf("cannot read ServerCallStatus: %w", err)
	}
	if read > 0 {
		s.after = []any{key[0], key[1], key[2], key[3], key[4]}
	}
	s.done = read < batch
	for chunk := range slices.Chunk(stale, maxTuplesPerIn) {
		var b strings.Builder
		b.WriteString("DELETE FROM ServerCallStatus WHERE ts < ? AND ")
		s.db.d.appendInTuples(&b, "modid, cmdid, ip, port, caller", len(callStatusKey), len(chunk))
		args := make([]any, 0, 1+len(callStatusKey)*len(chunk))
		args = append(args, s.before)
		for _, k := range chunk {
			args = append(args, k[0], k[1], k[2], k[3], k[4])
		}
		res, err := s.db.db.ExecContext(ctx, b.String(), args...)
		if err != nil {
			return deleted, false, fmt.Errorf("cannot delete stale ServerCallStatus rows: %w", err)
		}
		n, _ := res.RowsAffected()
		deleted += n
	}
	return deleted, s.done, nil
}

// appendAfterKey appends the condition "the row's cols come after values in the
// columns' order" and its arguments. SQLite compares row values and walks the index
// with them; MySQL is given the expanded form its range optimiser reads
// (c1 > ? OR (c1 = ? AND (c2 > ? OR ...))).
func (d *dialect) appendAfterKey(b *strings.Builder, args []any, cols []string, values []any) []any {
	if d.engine == EngineSQLite {
		b.WriteString("(" + strings.Join(cols, ", ") + ") > (")
		for i := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
		return append(args, values...)
	}
	b.WriteByte('(')
	for i, c := range cols {
		if i > 0 {
			b.WriteString(" OR (" + cols[i-1] + " = ? AND (")
			args = append(args, values[i-1])
		}
		b.WriteString(c + " > ?")
		args = append(args, values[i])
	}
	for range len(cols) - 1 {
		b.WriteString("))")
	}
	b.WriteByte(')')
	return args
}

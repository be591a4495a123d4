package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/larsgo/lars/route"
)

// RouteChange: one row per changed key per write.

// Change is one RouteChange row: Key's host set changed in the write that set the
// route version to Version.
type Change struct {
	ID      uint64
	Key     route.Key
	Version uint64
}

// ChangesAfter returns the RouteChange rows with id > afterID in id order, at most
// limit of them (all of them if limit <= 0).
func (db *DB) ChangesAfter(ctx context.Context, afterID uint64, limit int) ([]Change, error) {
	query := "SELECT id, modid, cmdid, version FROM RouteChange WHERE id > ? ORDER BY id"
	args := []any{afterID}
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read RouteChange: %w", err)
	}
	defer rows.Close()
	var (
		changes []Change
		c       Change
		dst     = []any{&c.ID, wire32{&c.Key.Modid}, wire32{&c.Key.Cmdid}, &c.Version}
	)
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("cannot read RouteChange: %w", err)
		}
		changes = append(changes, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read RouteChange: %w", err)
	}
	return changes, nil
}

// DeleteChangesBefore deletes the RouteChange rows whose version is below version
// (retention) and returns how many it deleted. The newest row is always kept, so
// Stamp.LastChange never moves backwards and a server that forgets its
// auto-increment counter on restart (MySQL before 8.0) cannot reuse an id.
func (db *DB) DeleteChangesBefore(ctx context.Context, version uint64) (int64, error) {
	var newest uint64
	if err := db.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM RouteChange").Scan(&newest); err != nil {
		return 0, fmt.Errorf("cannot read RouteChange: %w", err)
	}
	res, err := db.db.ExecContext(ctx, "DELETE FROM RouteChange WHERE version < ? AND id < ?", version, newest)
	if err != nil {
		return 0, fmt.Errorf("cannot delete from RouteChange: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("cannot delete from RouteChange: %w", err)
	}
	return n, nil
}

// insertChanges inserts one RouteChange row per key, all with version.
func insertChanges(ctx context.Context, q querier, keys []route.Key, version uint64) error {
	args := make([]any, 0, 3*maxRowsPerInsert)
	for batch := range slices.Chunk(keys, maxRowsPerInsert) {
		var b strings.Builder
		b.WriteString("INSERT INTO RouteChange (modid, cmdid, version) VALUES ")
		appendPlaceholderRows(&b, 3, len(batch))
		args = args[:0]
		for _, k := range batch {
			args = append(args, col32(k.Modid), col32(k.Cmdid), version)
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("cannot insert into RouteChange: %w", err)
		}
	}
	return nil
}

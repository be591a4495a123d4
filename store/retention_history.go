package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
)

// HistoryRetention says which RouteHistory rows a HistorySweep deletes: those written
// before Before, and those older than their key's KeepPerKey newest. The newest row of
// every key is always kept, whatever its age: it tells who set the key's current
// hosts.
type HistoryRetention struct {
	// Before, if not zero, deletes the rows written (ts) before it.
	Before time.Time
	// KeepPerKey, if positive, deletes each key's rows older than its KeepPerKey
	// newest. It needs window functions (SQLite 3.25, MariaDB 10.2, MySQL 8.0).
	KeepPerKey int
}

// HistorySweep deletes RouteHistory rows as a HistoryRetention says. It decides from
// a snapshot taken when it starts (each key's newest row id and, with KeepPerKey, the
// id of its KeepPerKey-th newest) and walks the rows up to the newest id of the
// snapshot in id order, a batch per Next: rows written after the snapshot are never
// touched, so a key's newest row is never deleted. A sweep is used by one goroutine.
type HistorySweep struct {
	db       *DB
	before   int64 // Unix milliseconds; 0: no age bound
	newest   map[route.Key]uint64
	keepFrom map[route.Key]uint64 // rows of the key below this id are past its count
	last     uint64               // the newest id of the snapshot
	after    uint64               // the last id read
	done     bool
}

// NewHistorySweep reads the snapshot of a sweep by r: one grouped read of the table,
// and a ranked one with KeepPerKey.
func (db *DB) NewHistorySweep(ctx context.Context, r HistoryRetention) (*HistorySweep, error) {
	s := &HistorySweep{db: db, newest: make(map[route.Key]uint64), keepFrom: make(map[route.Key]uint64)}
	if !r.Before.IsZero() {
		s.before = r.Before.UnixMilli()
	}
	if err := s.readIDs(ctx, "SELECT modid, cmdid, MAX(id) FROM RouteHistory GROUP BY modid, cmdid", s.newest); err != nil {
		return nil, err
	}
	for _, id := range s.newest {
		s.last = max(s.last, id)
	}
	if r.KeepPerKey > 0 {
		err := s.readIDs(ctx, `SELECT modid, cmdid, id FROM (SELECT modid, cmdid, id,
			ROW_NUMBER() OVER (PARTITION BY modid, cmdid ORDER BY id DESC) AS newer
			FROM RouteHistory) ranked WHERE newer = ?`, s.keepFrom, r.KeepPerKey)
		if err != nil {
			return nil, err
		}
	}
	s.done = s.last == 0 || (s.before == 0 && len(s.keepFrom) == 0)
	return s, nil
}

// readIDs reads rows of (modid, cmdid, id) into ids.
func (s *HistorySweep) readIDs(ctx context.Context, query string, ids map[route.Key]uint64, args ...any) error {
	rows, err := s.db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("cannot read RouteHistory for retention: %w", err)
	}
	defer rows.Close()
	var (
		k  route.Key
		id uint64
	)
	for rows.Next() {
		if err := rows.Scan(wire32{&k.Modid}, wire32{&k.Cmdid}, &id); err != nil {
			return fmt.Errorf("cannot read RouteHistory for retention: %w", err)
		}
		ids[k] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read RouteHistory for retention: %w", err)
	}
	return nil
}

// Next reads up to batch rows after the last one read and deletes those the retention
// allows. It returns how many it deleted and whether the sweep is over (Next then
// does nothing more). Rows are judged by their ts, whatever their order: a writer's
// lagging clock does not hide an old row behind newer ones.
func (s *HistorySweep) Next(ctx context.Context, batch int) (deleted int64, done bool, err error) {
	if s.done {
		return 0, true, nil
	}
	rows, err := s.db.db.QueryContext(ctx,
		"SELECT id, modid, cmdid, ts FROM RouteHistory WHERE id > ? AND id <= ? ORDER BY id LIMIT ?", s.after, s.last, batch)
	if err != nil {
		return 0, false, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	var (
		ids  []any
		read int
		id   uint64
		k    route.Key
		ts   int64
	)
	for rows.Next() {
		if err := rows.Scan(&id, wire32{&k.Modid}, wire32{&k.Cmdid}, &ts); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("cannot read RouteHistory: %w", err)
		}
		read++
		s.after = id
		tooOld := s.before != 0 && ts < s.before
		from, counted := s.keepFrom[k]
		if id < s.newest[k] && (tooOld || (counted && id < from)) {
			ids = append(ids, id)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return 0, false, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	s.done = read < batch || s.after >= s.last
	for chunk := range slices.Chunk(ids, maxTuplesPerIn) {
		var b strings.Builder
		b.WriteString("DELETE FROM RouteHistory WHERE id IN (")
		for i := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
		res, err := s.db.db.ExecContext(ctx, b.String(), chunk...)
		if err != nil {
			return deleted, false, fmt.Errorf("cannot delete RouteHistory rows: %w", err)
		}
		n, _ := res.RowsAffected()
		deleted += n
	}
	return deleted, s.done, nil
}

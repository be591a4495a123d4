package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RouteVersion: one row, id 1, bumped by every writer after a change.

// Stamp is what a reader polls to learn that routes changed.
type Stamp struct {
	// Version is RouteVersion.version of row id 1 (0 if the row is missing). Lars's
	// writers set it to the Unix time, so two writes within one second may leave it
	// unchanged.
	Version uint64
	// LastChange is the newest RouteChange id, 0 if there is none. It grows with every
	// write that changed a key, including those Version does not show.
	LastChange uint64
	// FirstChange is the oldest RouteChange id left, 0 if there is none. When it is
	// past the id after the last one a reader applied, rows were deleted before it read
	// them (the C++ lars_dns deletes every row it has seen after each of its polls).
	FirstChange uint64
}

// Stamp reads the version and the newest and oldest change ids in one statement
// (each an index lookup).
func (db *DB) Stamp(ctx context.Context) (Stamp, error) {
	var s Stamp
	err := db.db.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT version FROM RouteVersion WHERE id = 1), 0),
		COALESCE((SELECT MAX(id) FROM RouteChange), 0),
		COALESCE((SELECT MIN(id) FROM RouteChange), 0)`).Scan(&s.Version, &s.LastChange, &s.FirstChange)
	if err != nil {
		return Stamp{}, fmt.Errorf("cannot read the route version: %w", err)
	}
	return s, nil
}

// errNoVersionRow is returned by a write when RouteVersion has no row id 1 (someone
// deleted it after Open created it).
var errNoVersionRow = errors.New("RouteVersion has no row id 1")

// lockVersion reads RouteVersion.version inside a write transaction, locking the row
// on MySQL so concurrent writers run one after another.
func (d *dialect) lockVersion(ctx context.Context, q querier) (uint64, error) {
	var v uint64
	err := q.QueryRowContext(ctx, "SELECT version FROM RouteVersion WHERE id = 1"+d.forUpdate).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNoVersionRow
	}
	if err != nil {
		return 0, fmt.Errorf("cannot read the route version: %w", err)
	}
	return v, nil
}

// setVersion sets RouteVersion.version.
func setVersion(ctx context.Context, q querier, v uint64) error {
	if _, err := q.ExecContext(ctx, "UPDATE RouteVersion SET version = ? WHERE id = 1", v); err != nil {
		return fmt.Errorf("cannot set the route version: %w", err)
	}
	return nil
}

// nextVersion is the version a write sets: the Unix time, as Lars's writers do, but
// never less than current+1, so the version never moves backwards and two writes
// within one second differ.
func nextVersion(current uint64, now time.Time) uint64 {
	return max(uint64(max(now.Unix(), 0)), current+1)
}

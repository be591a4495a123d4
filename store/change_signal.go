package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ChangeSignal is a cheap test of whether the store may have changed: a reader checks
// it often (every millisecond, say) and reads the Stamp, which costs more, only when it
// fires. It is used by one goroutine.
type ChangeSignal struct {
	conn *sql.Conn
	stmt *sql.Stmt // PRAGMA data_version, prepared once on conn
	last int64
	seen bool
	// writes is told of writes to the database's files (Linux), nil where it cannot be.
	writes *fileWrites
}

// OpenChangeSignal returns the store's change signal, or nil on MySQL/MariaDB, which
// has nothing as cheap (its readers poll the Stamp). On SQLite it is the file's change
// counter, PRAGMA data_version, read on a connection of its own: it moves whenever
// another connection, of this process or another, commits to the file, and costs a
// few microseconds to read. Close it when done: it holds that connection.
func (db *DB) OpenChangeSignal(ctx context.Context) (*ChangeSignal, error) {
	if db.d.engine != EngineSQLite {
		return nil, nil
	}
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot open the change signal: %w", err)
	}
	stmt, err := conn.PrepareContext(ctx, "PRAGMA data_version")
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot open the change signal: %w", err)
	}
	return &ChangeSignal{conn: conn, stmt: stmt, writes: watchWrites(db.path)}, nil
}

// Writes returns a channel that receives (coalesced) soon after any process wrote to
// the database's files, or nil where that cannot be watched (then only reading Changed
// often finds commits). A write comes a few microseconds before its commit is
// visible, so after one a reader reads Changed for a short while, not once.
func (c *ChangeSignal) Writes() <-chan struct{} {
	if c.writes == nil {
		return nil
	}
	return c.writes.ch
}

// Changed reports whether the store may have changed since the previous call: true
// at the first call, then whenever the counter moved. A false is certain for every
// commit made before the call; a true may be a commit that changed no route.
//
// The read takes microseconds and is not cancelled: database/sql watches a context
// that can end with a goroutine for each query, which would cost more than the read.
func (c *ChangeSignal) Changed(context.Context) (bool, error) {
	var v int64
	if err := c.stmt.QueryRowContext(context.Background()).Scan(&v); err != nil {
		return false, fmt.Errorf("cannot read the change counter: %w", err)
	}
	changed := !c.seen || v != c.last
	c.last, c.seen = v, true
	return changed, nil
}

// Close gives the signal's connection back.
func (c *ChangeSignal) Close() error {
	c.writes.close()
	c.stmt.Close()
	return c.conn.Close()
}

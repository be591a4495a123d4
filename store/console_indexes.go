package store

import (
	"context"
	"fmt"
)

// consoleIndex is an index the console's page reads need beyond Lars's schema.
type consoleIndex struct {
	name, table, columns string
}

// consoleIndexes: RouteHistory (modid, cmdid, id) serves a key's or a modid's changes
// newest first, a key's newest change and the services ordered by last change, each
// without reading the whole table.
var consoleIndexes = []consoleIndex{
	{"idx_RouteHistory_modid_cmdid_id", "RouteHistory", "modid, cmdid, id"},
}

// EnsureConsoleIndexes creates the indexes the console's paged lists read through,
// when missing (on a large RouteHistory the first run takes seconds). Safe to run
// concurrently from several processes. A user without the right to create an index
// gets an error; the pages then still work, more slowly.
func (db *DB) EnsureConsoleIndexes(ctx context.Context) error {
	for _, ix := range consoleIndexes {
		if db.d.engine == EngineSQLite {
			if _, err := db.db.ExecContext(ctx, "CREATE INDEX IF NOT EXISTS "+ix.name+" ON "+ix.table+" ("+ix.columns+")"); err != nil {
				return fmt.Errorf("cannot create index %s: %w", ix.name, err)
			}
			continue
		}
		var n int
		err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?`, ix.table, ix.name).Scan(&n)
		if err != nil {
			return fmt.Errorf("cannot look up index %s: %w", ix.name, err)
		}
		if n > 0 {
			continue
		}
		if _, err := db.db.ExecContext(ctx, "CREATE INDEX "+ix.name+" ON "+ix.table+" ("+ix.columns+")"); err != nil && !db.d.isDuplicateIndex(err) {
			return fmt.Errorf("cannot create index %s: %w", ix.name, err)
		}
	}
	return nil
}

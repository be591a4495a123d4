package store

import (
	"context"
	"fmt"

	"github.com/larsgo/lars/route"
)

// RouteKeys returns every key RouteData holds a host for, each once, in no particular
// order. The (modid, cmdid) index Open creates answers it without reading the table's
// rows; a reader that polls it should poll Stamp first and call it only when the stamp
// changed.
func (db *DB) RouteKeys(ctx context.Context) ([]route.Key, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT DISTINCT modid, cmdid FROM RouteData")
	if err != nil {
		return nil, fmt.Errorf("cannot read the RouteData keys: %w", err)
	}
	defer rows.Close()
	var (
		keys []route.Key
		k    route.Key
		dst  = []any{wire32{&k.Modid}, wire32{&k.Cmdid}}
	)
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("cannot read the RouteData keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the RouteData keys: %w", err)
	}
	return keys, nil
}

package main

import (
	"context"
	"fmt"

	"github.com/larsgo/lars/store"
)

// routeCmd administers the routes in the route store that -db (or -config) names.
var routeCmd = &command{
	name:        "route",
	subcommands: []*command{routeListCmd, routeAddCmd, routeDelCmd, routeSetCmd, routeDropCmd, routeImportCmd, routeExportCmd, routeHistoryCmd},
}

// withStore opens the route store, runs fn with it and closes it. Writes through fn's
// context are recorded in RouteHistory as larsctlWho's.
func (e *env) withStore(fn func(ctx context.Context, db *store.DB) error) error {
	ctx := store.WithWho(context.Background(), larsctlWho())
	db, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return storeError(fn(ctx, db))
}

// versionNote returns " (version N)", the route version after a write, or "" if it
// cannot be read: the write itself succeeded.
func versionNote(ctx context.Context, db *store.DB) string {
	s, err := db.Stamp(ctx)
	if err != nil {
		return ""
	}
	return fmt.Sprintf(" (version %d)", s.Version)
}

// arg returns what one of the route package's parsers returned for an argument, its
// error as a usage error.
func arg[T any](v T, err error) (T, error) {
	if err != nil {
		return v, usageError{err.Error()}
	}
	return v, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"
)

// routeDataIndex is the name of the RouteData (modid, cmdid) index Open adds.
const routeDataIndex = "idx_RouteData_modid_cmdid"

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// larsTable is one of Lars's tables and the statement that creates it.
type larsTable struct {
	name, create string
}

// schema returns Lars's lars_dns tables, with Lars's column names and types.
func (d *dialect) schema() []larsTable {
	return []larsTable{
		{"RouteData", `CREATE TABLE IF NOT EXISTS RouteData (
			id ` + d.autoID + `,
			modid int unsigned NOT NULL,
			cmdid int unsigned NOT NULL,
			serverip int unsigned NOT NULL,
			serverport int unsigned NOT NULL
		)` + d.tableOptions},
		{"RouteVersion", `CREATE TABLE IF NOT EXISTS RouteVersion (
			id ` + d.autoID + `,
			version int unsigned NOT NULL
		)` + d.tableOptions},
		{"RouteChange", `CREATE TABLE IF NOT EXISTS RouteChange (
			id ` + d.autoID + `,
			modid int unsigned NOT NULL,
			cmdid int unsigned NOT NULL,
			version bigint unsigned NOT NULL
		)` + d.tableOptions},
		{"ServerCallStatus", `CREATE TABLE IF NOT EXISTS ServerCallStatus (
			modid int NOT NULL,
			cmdid int NOT NULL,
			ip int unsigned NOT NULL,
			port int unsigned NOT NULL,
			caller int unsigned NOT NULL,
			succ_cnt int NOT NULL,
			err_cnt int NOT NULL,
			ts bigint NOT NULL,
			overload char(1) NOT NULL,
			PRIMARY KEY (modid, cmdid, ip, port, caller)
		)` + d.tableOptions},
		{"ModIDConfig", `CREATE TABLE IF NOT EXISTS ModIDConfig (
			id ` + d.autoID + `,
			modid int unsigned NOT NULL,
			content char(255) NOT NULL DEFAULT ''
		)` + d.tableOptions},
		{"CmdIDConfig", `CREATE TABLE IF NOT EXISTS CmdIDConfig (
			id ` + d.autoID + `,
			cmdid int unsigned NOT NULL,
			content char(255) NOT NULL DEFAULT ''
		)` + d.tableOptions},
	}
}

// ensureSchema creates what is missing: the tables (Lars's and ours), the RouteData (modid, cmdid)
// index and the RouteVersion row id 1 (version 0). It only reads when nothing is
// missing, so a database user without CREATE or INSERT rights can open a complete
// database. Safe to run concurrently from several processes on one database.
func (d *dialect) ensureSchema(ctx context.Context, q querier) error {
	existing, err := d.tableNames(ctx, q)
	if err != nil {
		return fmt.Errorf("cannot list the tables: %w", err)
	}
	for _, table := range d.schema() {
		if existing[table.name] {
			continue
		}
		if _, err := q.ExecContext(ctx, table.create); err != nil {
			return fmt.Errorf("cannot create table %s: %w", table.name, err)
		}
	}
	// Our own tables (RouteHistory, and RouteHostAttr and RouteHost6: route_ext.go). On
	// an existing Lars database, a user who may not create them can still read routes
	// (a route service), Lars's alone; its writes then fail on the missing table,
	// saying so.
	for _, own := range append([]larsTable{d.historyTable()}, d.extTables()...) {
		if existing[own.name] {
			continue
		}
		if _, err := q.ExecContext(ctx, own.create); err != nil && !existing["RouteData"] {
			return fmt.Errorf("cannot create table %s: %w", own.name, err)
		}
	}
	missing, err := d.routeDataIndexMissing(ctx, q)
	if err != nil {
		return fmt.Errorf("cannot look up the RouteData indexes: %w", err)
	}
	if missing {
		if _, err := q.ExecContext(ctx, d.createIndexSQL()); err != nil && !d.isDuplicateIndex(err) {
			return fmt.Errorf("cannot create index %s: %w", routeDataIndex, err)
		}
	}
	var rows int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM RouteVersion WHERE id = 1").Scan(&rows); err != nil {
		return fmt.Errorf("cannot read RouteVersion: %w", err)
	}
	if rows == 0 {
		if _, err := q.ExecContext(ctx, d.insertIgnore+" INTO RouteVersion (id, version) VALUES (1, 0)"); err != nil {
			return fmt.Errorf("cannot create the RouteVersion row: %w", err)
		}
	}
	return nil
}

// tableNames returns the names of the database's tables.
func (d *dialect) tableNames(ctx context.Context, q querier) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, d.tableNamesSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names[name] = true
	}
	return names, rows.Err()
}

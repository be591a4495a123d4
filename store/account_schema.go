package store

import (
	"context"
	"fmt"
)

// ConsoleAccount and ConsoleSession: our own tables beside Lars's, the console's
// accounts and their server-side sessions. Lars has neither; Open does not create
// them (a route service needs no accounts): EnsureAccounts does.

// accountTables returns the statements that create the accounts' tables. name is
// the account's name, role its role (see Role), hash its password's slow salted hash
// (bcrypt's text form), created and changed Unix milliseconds. A session's id_hash
// is the hex SHA-256 of its id (the id itself is never stored); created and seen are
// Unix milliseconds.
func (d *dialect) accountTables() []larsTable {
	return []larsTable{
		{"ConsoleAccount", `CREATE TABLE IF NOT EXISTS ConsoleAccount (
			name varchar(64) NOT NULL PRIMARY KEY,
			role varchar(16) NOT NULL,
			hash varchar(255) NOT NULL,
			created bigint NOT NULL,
			changed bigint NOT NULL
		)` + d.tableOptions},
		{"ConsoleSession", `CREATE TABLE IF NOT EXISTS ConsoleSession (
			id_hash char(64) NOT NULL PRIMARY KEY,
			account varchar(64) NOT NULL,
			created bigint NOT NULL,
			seen bigint NOT NULL
		)` + d.tableOptions},
	}
}

// EnsureAccounts creates the console's account and session tables when missing. Safe
// to run concurrently from several processes.
func (db *DB) EnsureAccounts(ctx context.Context) error {
	for _, t := range db.d.accountTables() {
		if _, err := db.db.ExecContext(ctx, t.create); err != nil {
			return fmt.Errorf("cannot create table %s: %w", t.name, err)
		}
	}
	return nil
}

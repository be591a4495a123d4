package store

import (
	"context"
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MySQL server error numbers the package reacts to.
const (
	mysqlErrDupKeyName = 1061 // ER_DUP_KEYNAME: the index exists (another process made it)
	mysqlErrBadDB      = 1049 // ER_BAD_DB_ERROR: unknown database
)

// dialect holds every difference between the engines; the rest of the package is one
// database/sql code path.
type dialect struct {
	engine Engine
	// autoID is the type of an auto-increment primary key column. SQLite needs
	// AUTOINCREMENT so that ids are never reused after the newest rows are deleted
	// (RouteChange ids order every change; a reused id would hide one).
	autoID string
	// tableOptions ends every CREATE TABLE.
	tableOptions string
	// insertIgnore starts an INSERT that skips rows whose primary key exists.
	insertIgnore string
	// forUpdate ends a SELECT inside a write transaction that must lock what it reads.
	// SQLite needs none: a write transaction holds the database's write lock from BEGIN
	// (the DSN sets _txlock=immediate).
	forUpdate string
	// valuesList starts a parenthesised row list on the right of a row-value IN: MySQL
	// takes "((1,2),(3,4))", SQLite needs a subquery "(VALUES (1,2),(3,4))".
	valuesList string
	// tableNamesSQL lists the names of the database's tables.
	tableNamesSQL string
	// upsertStyle is the clause that turns an INSERT into an upsert; see appendUpsert.
	upsertStyle upsertStyle
}

// upsertStyle names an engine's upsert syntax.
type upsertStyle int

const (
	upsertOnDuplicateKey upsertStyle = iota // MySQL: ON DUPLICATE KEY UPDATE c = VALUES(c)
	upsertOnConflict                        // SQLite: ON CONFLICT (pk) DO UPDATE SET c = excluded.c
)

var (
	sqliteDialect = &dialect{
		engine:        EngineSQLite,
		autoID:        "INTEGER PRIMARY KEY AUTOINCREMENT",
		tableOptions:  "",
		insertIgnore:  "INSERT OR IGNORE",
		forUpdate:     "",
		valuesList:    "(VALUES ",
		tableNamesSQL: "SELECT name FROM sqlite_master WHERE type = 'table'",
		upsertStyle:   upsertOnConflict,
	}
	mysqlDialect = &dialect{
		engine:        EngineMySQL,
		autoID:        "int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY",
		tableOptions:  " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
		insertIgnore:  "INSERT IGNORE",
		forUpdate:     " FOR UPDATE",
		valuesList:    "(",
		tableNamesSQL: "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
		upsertStyle:   upsertOnDuplicateKey,
	}
)

// maxRowsPerInsert bounds a multi-row INSERT: 5000 rows of at most 4 columns (20,000
// placeholders) stay under both engines' placeholder limits (SQLite 32766, MySQL 65535)
// and, at about 200 KB of SQL, far under MySQL's max_allowed_packet. Measured on
// 100,000 keys x 10 hosts, 5000 loads 30% faster than 1000 on both engines.
const maxRowsPerInsert = 5000

// maxTuplesPerIn bounds the row list of one "(cols) IN (...)" condition.
const maxTuplesPerIn = 500

// appendInTuples appends "(cols) IN ((?,?),(?,?))" (MySQL) or "(cols) IN (VALUES
// (?,?),(?,?))" (SQLite) with n tuples of width placeholders each.
func (d *dialect) appendInTuples(b *strings.Builder, cols string, width, n int) {
	b.WriteString("(")
	b.WriteString(cols)
	b.WriteString(") IN ")
	b.WriteString(d.valuesList)
	appendPlaceholderRows(b, width, n)
	b.WriteString(")")
}

// appendUpsert appends the clause that makes a preceding "INSERT INTO t (...) VALUES
// ..." update the columns update of a row whose key columns conflict.
func (d *dialect) appendUpsert(b *strings.Builder, key, update []string) {
	switch d.upsertStyle {
	case upsertOnConflict:
		b.WriteString(" ON CONFLICT (")
		b.WriteString(strings.Join(key, ", "))
		b.WriteString(") DO UPDATE SET ")
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = excluded." + c)
		}
	default:
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = VALUES(" + c + ")")
		}
	}
}

// routeDataIndexMissing reports whether RouteData lacks an index that starts with
// (modid, cmdid). SQLite creates it with IF NOT EXISTS, so only MySQL asks; MySQL has
// no CREATE INDEX IF NOT EXISTS, and an existing Lars database may carry such an index
// under another name.
func (d *dialect) routeDataIndexMissing(ctx context.Context, q querier) (bool, error) {
	if d.engine == EngineSQLite {
		return true, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'RouteData'
		AND ((SEQ_IN_INDEX = 1 AND COLUMN_NAME = 'modid') OR INDEX_NAME = ?)`, routeDataIndex).Scan(&n)
	return n == 0, err
}

// createIndexSQL is the statement that creates the RouteData (modid, cmdid) index.
func (d *dialect) createIndexSQL() string {
	ifNotExists := ""
	if d.engine == EngineSQLite {
		ifNotExists = "IF NOT EXISTS "
	}
	return "CREATE INDEX " + ifNotExists + routeDataIndex + " ON RouteData (modid, cmdid)"
}

// appendPlaceholderRows appends n rows "(?,?,...)" of width placeholders, comma
// separated.
func appendPlaceholderRows(b *strings.Builder, width, n int) {
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range width {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
}

// isDuplicateIndex reports whether err says the index being created exists, which
// happens when two processes open a new database at once.
func (d *dialect) isDuplicateIndex(err error) bool {
	return isMySQLError(err, mysqlErrDupKeyName)
}

// isMySQLError reports whether err is the MySQL server error number.
func isMySQLError(err error, number uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == number
}

// isSQLiteBusy reports whether err is SQLite's SQLITE_BUSY (any extended code).
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

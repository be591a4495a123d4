package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// DB is an open route store. It is safe for concurrent use; several processes may use
// one database at once.
type DB struct {
	db *sql.DB
	d  *dialect
	// now is the clock a write's version is taken from (time.Now).
	now func() time.Time
	// stmts are the statements prepared once and reused (see prepared).
	stmts stmtCache
	// path is the SQLite file ("" on MySQL), whose writes the change signal watches.
	path string
	// host6 says RouteHost6 (IPv6 hosts, route_ext.go) existed once Open had made
	// what it could: the console's lists then count its keys and hosts too.
	host6 bool
}

// Open connects to the database dsn names and creates what is missing of the schema
// (Lars's tables, an index on RouteData (modid, cmdid), the RouteVersion row id 1).
//
// dsn is "sqlite:PATH" (the file is created if missing; its directory must exist) or a
// MySQL DSN in go-sql-driver form "user:pass@tcp(host:port)/dbname[?params]",
// optionally prefixed "mysql:". A missing MySQL database is created when the user may.
// On MySQL, Open turns on interpolateParams and a 10 s connect timeout unless the DSN
// sets them. Errors never contain the password.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	var (
		db  *DB
		err error
		o   = openOptions{fileMode: PrivateFileMode}
	)
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case dsn == "":
		return nil, errNoDSN
	case strings.HasPrefix(dsn, sqlitePrefix):
		db, err = openSQLite(ctx, dsn[len(sqlitePrefix):], o.fileMode)
	default:
		db, err = openMySQL(ctx, strings.TrimPrefix(dsn, mysqlPrefix))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open database %s: %w", Redact(dsn), err)
	}
	if err := db.d.ensureSchema(ctx, db.db); err != nil {
		db.db.Close()
		return nil, fmt.Errorf("cannot prepare database %s: %w", Redact(dsn), err)
	}
	tables, err := db.d.tableNames(ctx, db.db)
	if err != nil {
		db.db.Close()
		return nil, fmt.Errorf("cannot prepare database %s: cannot list the tables: %w", Redact(dsn), err)
	}
	db.host6 = tables[host6TableName]
	return db, nil
}

// openSQLite opens the SQLite file at path, creating it with mode if missing.
func openSQLite(ctx context.Context, path string, mode fs.FileMode) (*DB, error) {
	driverDSN, err := sqliteDriverDSN(path)
	if err != nil {
		return nil, err
	}
	if err := createPrivate(path, mode); err != nil {
		return nil, err
	}
	sdb, err := sql.Open("sqlite", driverDSN)
	if err != nil {
		return nil, err
	}
	// Each new connection runs the DSN's pragmas; keep a few idle ones.
	sdb.SetMaxIdleConns(8)
	if err := setWAL(ctx, sdb); err != nil {
		sdb.Close()
		return nil, err
	}
	return &DB{db: sdb, d: sqliteDialect, now: time.Now, path: path}, nil
}

// createPrivate creates the empty file path with exactly mode, whatever the umask,
// unless it exists (SQLite takes an empty file for a new database).
func createPrivate(path string, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// setWAL puts the SQLite database in WAL mode (readers never block the writer; the
// mode is stored in the file). Switching needs a moment of exclusive access, which
// SQLite does not wait for, so a busy database (another process opening it at the same
// time) is retried until sqliteBusyTimeout.
func setWAL(ctx context.Context, sdb *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		var mode string
		err := sdb.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("cannot switch to WAL mode: journal mode is %s", mode)
		case !isSQLiteBusy(err) || time.Now().After(deadline):
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// openMySQL connects to the MySQL database of dsn (without a "mysql:" prefix),
// creating the database if the server says it does not exist.
func openMySQL(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := mysqlConfig(dsn)
	if err != nil {
		return nil, err
	}
	sdb, err := openMySQLConfig(ctx, cfg)
	if isMySQLError(err, mysqlErrBadDB) {
		if err = createMySQLDatabase(ctx, cfg); err == nil {
			sdb, err = openMySQLConfig(ctx, cfg)
		}
	}
	if err != nil {
		return nil, err
	}
	return &DB{db: sdb, d: mysqlDialect, now: time.Now}, nil
}

// openMySQLConfig opens a pool for cfg and checks that the server answers.
func openMySQLConfig(ctx context.Context, cfg *mysql.Config) (*sql.DB, error) {
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	sdb := sql.OpenDB(conn)
	// Recycle connections now and then, so a server-side wait_timeout or a failover
	// behind a proxy does not leave dead ones in the pool.
	sdb.SetConnMaxLifetime(5 * time.Minute)
	sdb.SetMaxIdleConns(8)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return sdb, nil
}

// createMySQLDatabase creates cfg.DBName on cfg's server.
func createMySQLDatabase(ctx context.Context, cfg *mysql.Config) error {
	server := cfg.Clone()
	server.DBName = ""
	sdb, err := openMySQLConfig(ctx, server)
	if err != nil {
		return err
	}
	defer sdb.Close()
	// A database name cannot be a placeholder; quote it as an identifier.
	name := "`" + strings.ReplaceAll(cfg.DBName, "`", "``") + "`"
	if _, err := sdb.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+name); err != nil {
		return fmt.Errorf("database %s does not exist and cannot be created: %w", cfg.DBName, err)
	}
	return nil
}

// Close closes the connections.
func (db *DB) Close() error {
	db.stmts.close()
	return db.db.Close()
}

// Engine returns the engine of the database.
func (db *DB) Engine() Engine { return db.d.engine }

// SQL returns the database/sql handle, for tests and for other packages' own tables.
func (db *DB) SQL() *sql.DB { return db.db }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database does not answer: %w", err)
	}
	return nil
}

// UpsertSQL returns a multi-row upsert of rows rows into table: "INSERT INTO table
// (columns) VALUES (?,...),... " and the engine's clause that updates every column not
// in key when a row with the same key exists (MySQL ON DUPLICATE KEY UPDATE, SQLite ON
// CONFLICT DO UPDATE). key must be the table's primary key. table and the column names
// are trusted identifiers written by the caller, never user input; the values are
// placeholders, len(columns)*rows arguments in row order.
func (db *DB) UpsertSQL(table string, columns, key []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
	appendPlaceholderRows(&b, len(columns), rows)
	var update []string
	for _, c := range columns {
		inKey := false
		for _, k := range key {
			inKey = inKey || k == c
		}
		if !inKey {
			update = append(update, c)
		}
	}
	db.d.appendUpsert(&b, key, update)
	return b.String()
}

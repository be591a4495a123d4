package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Engine names a database engine.
type Engine string

const (
	// EngineSQLite is the embedded engine (modernc.org/sqlite): DSN "sqlite:PATH".
	EngineSQLite Engine = "sqlite"
	// EngineMySQL is MySQL, MariaDB or a MySQL-compatible server: DSN
	// "user:pass@tcp(host:port)/dbname", optionally prefixed "mysql:".
	EngineMySQL Engine = "mysql"
)

const (
	sqlitePrefix = "sqlite:"
	mysqlPrefix  = "mysql:"
	// redacted replaces a password in Redact's output.
	redacted = "xxxxx"

	// sqliteBusyTimeout is how long a SQLite statement waits for another connection's
	// (or process's) write lock: long enough for a large import by another writer.
	sqliteBusyTimeout = 30 * time.Second
	// sqliteCacheKiB is each SQLite connection's page cache; a full scan of a large
	// RouteData reads faster with it.
	sqliteCacheKiB = 64 << 10
	// mysqlDialTimeout is the connect timeout used when the DSN sets none, so an
	// unreachable server fails a call instead of hanging on the OS default.
	mysqlDialTimeout = 10 * time.Second
)

// errNoDSN is returned by Open for an empty DSN.
var errNoDSN = errors.New("empty database address: want sqlite:PATH or user:pass@tcp(host:port)/dbname")

// Redact returns dsn with any password replaced by "xxxxx", for logs and errors. A
// "sqlite:" DSN has no password and is returned unchanged.
func Redact(dsn string) string {
	if strings.HasPrefix(dsn, sqlitePrefix) {
		return dsn
	}
	prefix := ""
	if strings.HasPrefix(dsn, mysqlPrefix) {
		prefix, dsn = mysqlPrefix, dsn[len(mysqlPrefix):]
	}
	// The password is located the way the MySQL driver locates it: the last '/'
	// separates the database name, the last '@' before it ends the user information,
	// and the first ':' in that starts the password.
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		// Not a valid DSN; hide everything that could be a password anyway.
		if at := strings.LastIndexByte(dsn, '@'); at >= 0 {
			if colon := strings.IndexByte(dsn[:at], ':'); colon >= 0 {
				return prefix + dsn[:colon+1] + redacted + dsn[at:]
			}
		}
		return prefix + dsn
	}
	at := strings.LastIndexByte(dsn[:slash], '@')
	if at < 0 {
		return prefix + dsn
	}
	colon := strings.IndexByte(dsn[:at], ':')
	if colon < 0 || colon+1 == at {
		return prefix + dsn
	}
	return prefix + dsn[:colon+1] + redacted + dsn[at:]
}

// sqliteDriverDSN turns the PATH of "sqlite:PATH" into the driver's DSN: a busy
// timeout so several processes can write, immediate write transactions (a writer takes
// the lock at BEGIN, so concurrent writers queue instead of failing), a larger cache.
func sqliteDriverDSN(path string) (string, error) {
	if path == "" {
		return "", errors.New("sqlite database address names no file: want sqlite:PATH")
	}
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("sqlite database path %q contains '?' or '#', which the driver cannot open", path)
	}
	if strings.HasPrefix(path, "file:") {
		return "", fmt.Errorf("sqlite database path %q: give a plain path, not a file: URI", path)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("sqlite database directory %s: %w", dir, err)
	} else if !st.IsDir() {
		return "", fmt.Errorf("sqlite database directory %s is not a directory", dir)
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(sqliteBusyTimeout.Milliseconds()))
	// NORMAL is durable across process crashes in WAL mode; only a power loss can drop
	// the last commits.
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", sqliteCacheKiB))
	return path + "?" + q.Encode(), nil
}

// mysqlConfig parses a go-sql-driver DSN (without the "mysql:" prefix) and fills in
// the defaults Open relies on: client-side parameter interpolation (one round trip per
// statement instead of prepare, execute, close) unless the DSN sets interpolateParams,
// and a connect timeout unless the DSN sets timeout.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	if strings.Contains(dsn, "://") {
		return nil, errors.New("is a URL: want sqlite:PATH or user:pass@tcp(host:port)/dbname")
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	switch cfg.Net {
	case "tcp", "tcp4", "tcp6", "unix":
	default:
		return nil, fmt.Errorf("unknown network %q: want tcp(host:port) or unix(/path/to/socket)", cfg.Net)
	}
	if cfg.DBName == "" {
		return nil, errors.New("names no database: want user:pass@tcp(host:port)/dbname")
	}
	if !strings.Contains(dsn, "interpolateParams=") {
		cfg.InterpolateParams = true
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = mysqlDialTimeout
	}
	return cfg, nil
}

// CheckDSN reports whether dsn has a form Open accepts, without connecting: the
// mistakes of configuration, as opposed to a server that is down. Its errors hold no
// password.
func CheckDSN(dsn string) error {
	var err error
	switch {
	case dsn == "":
		return errNoDSN
	case strings.HasPrefix(dsn, sqlitePrefix):
		_, err = sqliteDriverDSN(dsn[len(sqlitePrefix):])
	default:
		_, err = mysqlConfig(strings.TrimPrefix(dsn, mysqlPrefix))
	}
	if err != nil {
		return fmt.Errorf("invalid database address %s: %w", Redact(dsn), err)
	}
	return nil
}

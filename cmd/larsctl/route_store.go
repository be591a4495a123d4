package main

import (
	"context"
	"flag"
	"strings"

	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/store"
)

// defaultDB is the -db default: the embedded store beside the working directory.
const defaultDB = "sqlite:lars.db"

// storeDSN returns the route store's DSN: -db when given on the command line, else
// the [mysql] section of the -config file when given, else the -db default. A bad
// -config file or a -db value that is no DSN is a usage error.
func storeDSN(fs *flag.FlagSet, db, config string) (string, error) {
	explicitDB := false
	fs.Visit(func(f *flag.Flag) { explicitDB = explicitDB || f.Name == "db" })
	if config != "" {
		c, err := larsconf.Load(config)
		if err != nil {
			return "", usagef("-config: %v", err)
		}
		dsn, ok := c.DSN()
		if !explicitDB {
			if !ok {
				return "", usagef("-config %s: no [mysql] section to name the route store; give -db", config)
			}
			db = dsn
		}
	}
	if err := store.CheckDSN(db); err != nil {
		return "", usagef("-db: %v", err)
	}
	return db, nil
}

// openStore opens the route store. Its errors hold no password.
func (e *env) openStore(ctx context.Context) (*store.DB, error) {
	db, err := store.Open(ctx, e.db, store.GroupReadable(e.groupReadable))
	if err != nil {
		return nil, storeError(err)
	}
	return db, nil
}

// storeError returns err, an error of the store (which holds no password), as one
// line: a server's message may span several.
func storeError(err error) error {
	if err == nil || !strings.ContainsAny(err.Error(), "\r\n") {
		return err
	}
	return oneLineError{err}
}

// oneLineError is an error whose message is its cause's on one line.
type oneLineError struct{ err error }

func (o oneLineError) Error() string { return strings.Join(strings.Fields(o.err.Error()), " ") }
func (o oneLineError) Unwrap() error { return o.err }

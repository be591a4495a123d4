package main

import (
	"context"
	"flag"
	"strings"

	"github.com/larsgo/lars/internal/larsconf"
	"github.com/larsgo/lars/internal/secretsrc"
	"github.com/larsgo/lars/store"
)

// defaultDB is the -db default: the embedded store beside the working directory.
const defaultDB = "sqlite:lars.db"

// storeDSN returns the route store's DSN: -db when given on the command line, else
// the first line of -db-file (dbFile) when given, else the [mysql] section of the
// -config file when given, else $LARS_DB (getenv), else the -db default. A bad -config
// file, -db with -db-file, an unreadable -db-file or a value that is no DSN is a usage
// error.
func storeDSN(fs *flag.FlagSet, db, dbFile, config string, getenv func(string) string) (string, error) {
	src := secretsrc.DB{Flag: db, DBFile: dbFile, Getenv: getenv}
	fs.Visit(func(f *flag.Flag) { src.FlagSet = src.FlagSet || f.Name == "db" })
	if config != "" {
		c, err := larsconf.Load(config)
		if err != nil {
			return "", usagef("-config: %v", err)
		}
		src.Conf, src.ConfOK = c.DSN()
		if !src.ConfOK && !src.FlagSet && dbFile == "" {
			return "", usagef("-config %s: no [mysql] section to name the route store; give -db", config)
		}
	}
	db, _, err := src.DSN()
	if err != nil {
		return "", usagef("%v", err)
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

// Package secretsrc reads the secrets a Lars command needs from where other local
// users cannot see them: a file or an environment variable, not the command line (the
// process list shows every argument to every user).
package secretsrc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvDB names the environment variable a store's DSN is read from when no flag or
// conf file names one.
const EnvDB = "LARS_DB"

// maxLine bounds the line FirstLine reads.
const maxLine = 64 << 10

// DBHelp is the help of a -db flag's danger and of its alternatives.
const DBHelp = "; a password given here is visible to every local user (ps, /proc): give it with -db-file or $" + EnvDB + " instead"

// FirstLine returns the first line of the file at path, without surrounding spaces:
// an error when it cannot be read or the line is empty.
func FirstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return "", fmt.Errorf("%s is empty", path)
	}
	line := strings.TrimSpace(sc.Text())
	if line == "" {
		return "", fmt.Errorf("%s: the first line is empty", path)
	}
	return line, nil
}

// Token returns the token in the first line of the file at path, at least minLen
// characters long; what is wrong names the flag.
func Token(flag, path string, minLen int) (string, error) {
	t, err := FirstLine(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	if len(t) < minLen {
		return "", fmt.Errorf("%s %s: the token is %d characters long, want at least %d", flag, path, len(t), minLen)
	}
	return t, nil
}

// DB says where a command's store DSN may come from, strongest first: the -db flag
// given on the command line (FlagSet), the first line of DBFile (-db-file), the conf
// file's (Conf, when ConfOK), the environment variable EnvDB, the default (Flag when
// not set).
type DB struct {
	Flag    string
	FlagSet bool
	DBFile  string
	Conf    string
	ConfOK  bool
	Getenv  func(string) string
}

// errBoth is the error of -db and -db-file given together.
var errBoth = errors.New("-db and -db-file both name the store: give one")

// DSN returns the DSN and where it came from ("-db", "-db-file", "conf", EnvDB,
// "default").
func (d DB) DSN() (dsn, from string, err error) {
	switch {
	case d.FlagSet && d.DBFile != "":
		return "", "", errBoth
	case d.FlagSet:
		return d.Flag, "-db", nil
	case d.DBFile != "":
		dsn, err := FirstLine(d.DBFile)
		if err != nil {
			return "", "", fmt.Errorf("-db-file: %w", err)
		}
		return dsn, "-db-file", nil
	case d.ConfOK:
		return d.Conf, "conf", nil
	}
	if d.Getenv != nil {
		if v := strings.TrimSpace(d.Getenv(EnvDB)); v != "" {
			return v, EnvDB, nil
		}
	}
	return d.Flag, "default", nil
}

package console

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/larsgo/lars/store"
)

// InitialAdmin is the account a first start creates.
const InitialAdmin = "admin"

// InitialPasswordFileName is the initial password file's name beside a SQLite store.
const InitialPasswordFileName = "lars-console-initial-password"

// DefaultInitialPasswordFile returns where the initial password goes for the store
// dsn: beside a SQLite file, else in the working directory.
func DefaultInitialPasswordFile(dsn string) string {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return filepath.Join(filepath.Dir(path), InitialPasswordFileName)
	}
	return InitialPasswordFileName
}

// EnsureAdmin makes the accounts' tables and, when there is no account, the account
// InitialAdmin with a random password, written to path with mode 0600 exactly (the
// password is never logged). It reports whether it created the account. Of two
// consoles starting at once on an empty store, one creates it.
func EnsureAdmin(ctx context.Context, db *store.DB, path string, cost int) (bool, error) {
	if err := db.EnsureAccounts(ctx); err != nil {
		return false, err
	}
	if n, err := db.CountAccounts(ctx); err != nil || n > 0 {
		return false, err
	}
	pw, err := RandomPassword()
	if err != nil {
		return false, err
	}
	hash, err := HashPassword(pw, cost)
	if err != nil {
		return false, err
	}
	tmp, err := writePrivateTemp(path, pw+"\n")
	if err != nil {
		return false, fmt.Errorf("cannot write the initial password file: %w", err)
	}
	defer os.Remove(tmp) // renamed away on success
	if err := db.AddAccount(ctx, store.Account{Name: InitialAdmin, Role: store.RoleAdmin, Hash: hash}); err != nil {
		if errors.Is(err, store.ErrAccountExists) {
			return false, nil
		}
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = db.DeleteAccount(ctx, InitialAdmin)
		return false, fmt.Errorf("cannot write the initial password file: %w", err)
	}
	return true, nil
}

// writePrivateTemp writes text to a new file of mode 0600 in path's directory and
// returns its name. A new file (not path itself) is written so that a file or link
// an attacker left at path is replaced, never written through.
func writePrivateTemp(path, text string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(text)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

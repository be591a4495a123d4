package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Role is what an account of the console may do.
type Role string

// The roles, each allowed what the one before it is.
const (
	RoleViewer Role = "viewer" // reads every page
	RoleEditor Role = "editor" // and changes routes and names
	RoleAdmin  Role = "admin"  // and manages the accounts
)

// Roles lists the roles, weakest first.
var Roles = []Role{RoleViewer, RoleEditor, RoleAdmin}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: want viewer, editor or admin", s)
}

// CanWrite reports whether r may change routes and names.
func (r Role) CanWrite() bool { return r == RoleEditor || r == RoleAdmin }

// MaxAccountNameLen is the longest account name.
const MaxAccountNameLen = 64

// CheckAccountName returns an error unless name is 1 to MaxAccountNameLen letters,
// digits, '.', '_', '-' or '@', starting with a letter or digit.
func CheckAccountName(name string) error {
	if name == "" || len(name) > MaxAccountNameLen {
		return fmt.Errorf("an account name has 1 to %d characters", MaxAccountNameLen)
	}
	for i, c := range name {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || !(c == '.' || c == '_' || c == '-' || c == '@')) {
			return fmt.Errorf("account name %q: letters, digits, '.', '_', '-' and '@' only, starting with a letter or digit", name)
		}
	}
	return nil
}

// Account is one account of the console.
type Account struct {
	Name    string
	Role    Role
	Hash    string    // the password's slow salted hash
	Created time.Time // when it was added
	Changed time.Time // when its password or role last changed
}

// Errors of the account functions.
var (
	ErrAccountExists = errors.New("the account exists")
	ErrNoAccount     = errors.New("no such account")
)

// AddAccount adds a, or returns ErrAccountExists.
func (db *DB) AddAccount(ctx context.Context, a Account) error {
	if err := CheckAccountName(a.Name); err != nil {
		return err
	}
	if _, err := ParseRole(string(a.Role)); err != nil {
		return err
	}
	if a.Hash == "" {
		return errors.New("an account needs a password hash")
	}
	now := db.now().UnixMilli()
	res, err := db.db.ExecContext(ctx, db.d.insertIgnore+" INTO ConsoleAccount (name, role, hash, created, changed) VALUES (?, ?, ?, ?, ?)",
		a.Name, string(a.Role), a.Hash, now, now)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("account %s: %w", a.Name, ErrAccountExists)
	}
	return nil
}

// Account returns the account named name, or ErrNoAccount.
func (db *DB) Account(ctx context.Context, name string) (Account, error) {
	var (
		a                Account
		role             string
		created, changed int64
	)
	err := db.db.QueryRowContext(ctx, "SELECT name, role, hash, created, changed FROM ConsoleAccount WHERE name = ?", name).
		Scan(&a.Name, &role, &a.Hash, &created, &changed)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("account %s: %w", name, ErrNoAccount)
	}
	if err != nil {
		return Account{}, err
	}
	a.Role, a.Created, a.Changed = Role(role), time.UnixMilli(created), time.UnixMilli(changed)
	return a, nil
}

// Accounts returns every account by name, without their hashes.
func (db *DB) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT name, role, created, changed FROM ConsoleAccount ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var (
			a                Account
			role             string
			created, changed int64
		)
		if err := rows.Scan(&a.Name, &role, &created, &changed); err != nil {
			return nil, err
		}
		a.Role, a.Created, a.Changed = Role(role), time.UnixMilli(created), time.UnixMilli(changed)
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountAccounts returns how many accounts there are.
func (db *DB) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ConsoleAccount").Scan(&n)
	return n, err
}

// SetPassword sets the password hash of the account named name and ends every one of
// its sessions, in one transaction; ErrNoAccount if there is none.
func (db *DB) SetPassword(ctx context.Context, name, hash string) error {
	if hash == "" {
		return errors.New("an account needs a password hash")
	}
	return db.changeAccount(ctx, name, "UPDATE ConsoleAccount SET hash = ?, changed = ? WHERE name = ?", hash, db.now().UnixMilli(), name)
}

// SetRole sets the role of the account named name and ends its sessions (they carried
// the old role); ErrNoAccount if there is none.
func (db *DB) SetRole(ctx context.Context, name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return db.changeAccount(ctx, name, "UPDATE ConsoleAccount SET role = ?, changed = ? WHERE name = ?", string(role), db.now().UnixMilli(), name)
}

// DeleteAccount deletes the account named name and its sessions; ErrNoAccount if
// there is none.
func (db *DB) DeleteAccount(ctx context.Context, name string) error {
	return db.changeAccount(ctx, name, "DELETE FROM ConsoleAccount WHERE name = ?", name)
}

// changeAccount runs query on one account row and deletes the account's sessions, in
// one transaction.
func (db *DB) changeAccount(ctx context.Context, name, query string, args ...any) (err error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("account %s: %w", name, ErrNoAccount)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM ConsoleSession WHERE account = ?", name); err != nil {
		return err
	}
	return tx.Commit()
}

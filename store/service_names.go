package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ModIDConfig and CmdIDConfig: Lars's service names for humans (id, modid or cmdid,
// content char(255)). Lars's web admin writes them too; a modid or cmdid may have
// several rows there, and the lowest id is the name.

// MaxNameLen is the longest service name, in characters, Lars's content char(255) holds.
const MaxNameLen = 255

// ServiceNames are the names of modids and cmdids.
type ServiceNames struct {
	Mod map[int32]string // modid -> ModIDConfig.content
	Cmd map[int32]string // cmdid -> CmdIDConfig.content
}

// ServiceNames reads every ModIDConfig and CmdIDConfig row. The maps are never nil.
func (db *DB) ServiceNames(ctx context.Context) (ServiceNames, error) {
	n := ServiceNames{Mod: map[int32]string{}, Cmd: map[int32]string{}}
	for _, t := range []struct {
		table, column string
		dst           map[int32]string
	}{{"ModIDConfig", "modid", n.Mod}, {"CmdIDConfig", "cmdid", n.Cmd}} {
		if err := readNames(ctx, db.db, t.table, t.column, t.dst); err != nil {
			return ServiceNames{}, err
		}
	}
	return n, nil
}

// readNames reads table's (column, content) rows into dst, the row of the lowest id
// winning. table and column are trusted identifiers.
func readNames(ctx context.Context, q querier, table, column string, dst map[int32]string) error {
	return readNamesWhere(ctx, q, table, column, "", nil, dst)
}

// readNamesWhere is readNames of the rows the condition where (with args) selects:
// "" or " WHERE ...".
func readNamesWhere(ctx context.Context, q querier, table, column, where string, args []any, dst map[int32]string) error {
	rows, err := q.QueryContext(ctx, "SELECT "+column+", content FROM "+table+where+" ORDER BY id DESC", args...)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id      int32
			content string
		)
		if err := rows.Scan(wire32{&id}, &content); err != nil {
			return fmt.Errorf("cannot read %s: %w", table, err)
		}
		dst[id] = strings.TrimRight(content, " ")
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read %s: %w", table, err)
	}
	return nil
}

// ErrBadName is wrapped by SetModName and SetCmdName for a name that is too long or not
// UTF-8.
var ErrBadName = errors.New("bad service name")

// SetModName sets the name of modid (ModIDConfig); an empty name deletes it.
func (db *DB) SetModName(ctx context.Context, modid int32, name string) error {
	return db.setName(ctx, "ModIDConfig", "modid", modid, name)
}

// SetCmdName sets the name of cmdid (CmdIDConfig); an empty name deletes it.
func (db *DB) SetCmdName(ctx context.Context, cmdid int32, name string) error {
	return db.setName(ctx, "CmdIDConfig", "cmdid", cmdid, name)
}

// CheckName returns an error wrapping ErrBadName unless name fits Lars's content
// column: valid UTF-8 of at most MaxNameLen characters.
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("%w: not UTF-8", ErrBadName)
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLen {
		return fmt.Errorf("%w: %d characters, at most %d", ErrBadName, n, MaxNameLen)
	}
	return nil
}

// setName updates the lowest-id row of id in table, inserting one if there is none, or
// deletes every row of id when name is empty, in one transaction.
func (db *DB) setName(ctx context.Context, table, column string, id int32, name string) (err error) {
	name = strings.TrimSpace(name)
	if err := CheckName(name); err != nil {
		return err
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("cannot write %s: cannot begin a transaction: %w", table, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if name == "" {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE "+column+" = ?", col32(id)); err != nil {
			return fmt.Errorf("cannot delete from %s: %w", table, err)
		}
		return tx.Commit()
	}
	var rowID uint64
	err = tx.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE "+column+" = ? ORDER BY id LIMIT 1"+db.d.forUpdate, col32(id)).Scan(&rowID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, "INSERT INTO "+table+" ("+column+", content) VALUES (?, ?)", col32(id), name)
	case err == nil:
		_, err = tx.ExecContext(ctx, "UPDATE "+table+" SET content = ? WHERE id = ?", name, rowID)
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", table, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cannot write %s: cannot commit: %w", table, err)
	}
	return nil
}

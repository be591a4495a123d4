package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Session is a console session as stored: the hash of its id, never the id.
type Session struct {
	IDHash  string // hex SHA-256 of the session id
	Account string
	Role    Role      // the account's role (read with the session)
	Created time.Time // when the account logged in
	Seen    time.Time // the last request the session made (updated at most so often)
}

// ErrNoSession is returned for a session that does not exist (or whose account was
// deleted).
var ErrNoSession = errors.New("no such session")

// AddSession stores a new session of s.Account made at s.Created.
func (db *DB) AddSession(ctx context.Context, s Session) error {
	_, err := db.db.ExecContext(ctx, "INSERT INTO ConsoleSession (id_hash, account, created, seen) VALUES (?, ?, ?, ?)",
		s.IDHash, s.Account, s.Created.UnixMilli(), s.Created.UnixMilli())
	return err
}

// Session returns the session whose id hashes to idHash, with its account's role, or
// ErrNoSession.
func (db *DB) Session(ctx context.Context, idHash string) (Session, error) {
	var (
		s             Session
		role          string
		created, seen int64
	)
	err := db.db.QueryRowContext(ctx, `SELECT s.id_hash, s.account, a.role, s.created, s.seen
		FROM ConsoleSession s JOIN ConsoleAccount a ON a.name = s.account WHERE s.id_hash = ?`, idHash).
		Scan(&s.IDHash, &s.Account, &role, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	s.Role, s.Created, s.Seen = Role(role), time.UnixMilli(created), time.UnixMilli(seen)
	return s, nil
}

// TouchSession records that the session whose id hashes to idHash made a request at t.
func (db *DB) TouchSession(ctx context.Context, idHash string, t time.Time) error {
	_, err := db.db.ExecContext(ctx, "UPDATE ConsoleSession SET seen = ? WHERE id_hash = ? AND seen < ?", t.UnixMilli(), idHash, t.UnixMilli())
	return err
}

// DeleteSession ends the session whose id hashes to idHash.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	_, err := db.db.ExecContext(ctx, "DELETE FROM ConsoleSession WHERE id_hash = ?", idHash)
	return err
}

// DeleteExpiredSessions deletes the sessions last seen before seenBefore or created
// before createdBefore, and returns how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context, seenBefore, createdBefore time.Time) (int64, error) {
	res, err := db.db.ExecContext(ctx, "DELETE FROM ConsoleSession WHERE seen < ? OR created < ?", seenBefore.UnixMilli(), createdBefore.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

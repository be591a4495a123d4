package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
)

// TestAccountsAndSessions: accounts are added once, a password change or a delete
// ends the account's sessions, expired sessions are swept.
func TestAccountsAndSessions(t *testing.T) {
	storetest.Each(t, testAccountsAndSessions)
}

func testAccountsAndSessions(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.EnsureAccounts(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureAccounts(ctx); err != nil {
		t.Fatalf("a second EnsureAccounts: %v", err)
	}
	if err := db.AddAccount(ctx, Account{Name: "alice", Role: RoleEditor, Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddAccount(ctx, Account{Name: "alice", Role: RoleAdmin, Hash: "h2"}); !errors.Is(err, ErrAccountExists) {
		t.Fatalf("adding alice again: %v, want ErrAccountExists", err)
	}
	for _, bad := range []Account{{Name: "", Role: RoleAdmin, Hash: "h"}, {Name: "b", Role: "root", Hash: "h"}, {Name: "-x", Role: RoleAdmin, Hash: "h"}, {Name: "c", Role: RoleAdmin}} {
		if err := db.AddAccount(ctx, bad); err == nil {
			t.Errorf("AddAccount(%+v) accepted", bad)
		}
	}
	a, err := db.Account(ctx, "alice")
	if err != nil || a.Role != RoleEditor || a.Hash != "h1" {
		t.Fatalf("Account(alice) = %+v, %v", a, err)
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	if err := db.AddSession(ctx, Session{IDHash: "aa", Account: "alice", Created: t0}); err != nil {
		t.Fatal(err)
	}
	s, err := db.Session(ctx, "aa")
	if err != nil || s.Account != "alice" || s.Role != RoleEditor || !s.Seen.Equal(t0) {
		t.Fatalf("Session = %+v, %v", s, err)
	}
	if err := db.TouchSession(ctx, "aa", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Session(ctx, "aa"); !s.Seen.Equal(t0.Add(time.Minute)) {
		t.Errorf("seen after touch = %v", s.Seen)
	}
	if err := db.SetPassword(ctx, "alice", "h3"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "aa"); !errors.Is(err, ErrNoSession) {
		t.Errorf("a session after its password changed: %v, want ErrNoSession", err)
	}
	if err := db.SetPassword(ctx, "bob", "h"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("SetPassword(bob) = %v, want ErrNoAccount", err)
	}
	_ = db.AddSession(ctx, Session{IDHash: "old", Account: "alice", Created: t0})
	_ = db.AddSession(ctx, Session{IDHash: "new", Account: "alice", Created: t0.Add(time.Hour)})
	if n, err := db.DeleteExpiredSessions(ctx, t0.Add(time.Minute), t0.Add(-time.Hour)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if err := db.DeleteAccount(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "new"); !errors.Is(err, ErrNoSession) {
		t.Errorf("a session of a deleted account: %v", err)
	}
	if n, _ := db.CountAccounts(ctx); n != 0 {
		t.Errorf("%d accounts after the delete", n)
	}
}

// FuzzCheckAccountName: an accepted name is short and never holds a space or a
// character that would need quoting in a log line.
func FuzzCheckAccountName(f *testing.F) {
	for _, s := range []string{"admin", "a.b@c", "-x", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckAccountName(s) != nil {
			return
		}
		if len(s) > MaxAccountNameLen {
			t.Fatalf("accepted %d bytes", len(s))
		}
		for _, c := range s {
			if c <= ' ' || c > '~' || c == '"' || c == '=' {
				t.Fatalf("accepted %q", s)
			}
		}
	})
}

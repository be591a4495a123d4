package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/larsgo/lars/console"
	"github.com/larsgo/lars/store"
)

// TestUserCommands: user add reads the password from stdin and stores its hash with
// the role; passwd changes it and ends the sessions; list shows the accounts without
// hashes; del removes; bad input is a usage error.
func TestUserCommands(t *testing.T) {
	dsn := "sqlite:" + t.TempDir() + "/lars.db"
	if code, out, errOut := routectl(dsn, strings.NewReader("alice-password-1\n"), "user", "add", "-role", "editor", "alice"); code != 0 || out != "added alice (editor)\n" {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	db := openStore(t, dsn)
	ctx := context.Background()
	a, err := db.Account(ctx, "alice")
	if err != nil || a.Role != store.RoleEditor || !console.PasswordMatches(a.Hash, "alice-password-1") || strings.Contains(a.Hash, "alice-password-1") {
		t.Fatalf("alice: %+v, %v", a, err)
	}
	if err := db.AddSession(ctx, store.Session{IDHash: "s1", Account: "alice", Created: a.Created}); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := routectl(dsn, strings.NewReader("alice-password-2\n"), "user", "passwd", "alice"); code != 0 {
		t.Fatalf("user passwd: %d %q", code, errOut)
	}
	if a, _ := db.Account(ctx, "alice"); !console.PasswordMatches(a.Hash, "alice-password-2") {
		t.Error("the password did not change")
	}
	if _, err := db.Session(ctx, "s1"); !errors.Is(err, store.ErrNoSession) {
		t.Errorf("a session after passwd: %v", err)
	}
	routectl(dsn, strings.NewReader("viewer-password-1\n"), "user", "add", "vic")
	code, out, _ := routectl(dsn, nil, "user", "list")
	if code != 0 || !strings.Contains(out, "alice  editor") || !strings.Contains(out, "vic    viewer") || !strings.HasSuffix(out, "2 accounts\n") || strings.Contains(out, "$2") {
		t.Errorf("user list: %d\n%s", code, out)
	}
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{"short\n", []string{"user", "add", "bob"}},
		{"", []string{"user", "add", "bob"}},
		{"bob-password-123\n", []string{"user", "add", "-role", "root", "bob"}},
		{"bob-password-123\n", []string{"user", "add", "-bob"}},
		{"bob-password-123\n", []string{"user", "add", "-password", "x", "bob"}},
	} {
		if code, _, _ := routectl(dsn, strings.NewReader(c.stdin), c.args...); code != exitUsage {
			t.Errorf("%q with stdin %q: exit %d, want %d", c.args, c.stdin, code, exitUsage)
		}
	}
	if code, _, errOut := routectl(dsn, strings.NewReader("alice-password-3\n"), "user", "add", "alice"); code == 0 || !strings.Contains(errOut, "exists") {
		t.Errorf("adding alice again: %d %q", code, errOut)
	}
	if code, out, _ := routectl(dsn, nil, "user", "del", "vic"); code != 0 || out != "deleted vic\n" {
		t.Errorf("user del: %d %q", code, out)
	}
	if code, _, errOut := routectl(dsn, nil, "user", "del", "vic"); code == 0 || !strings.Contains(errOut, "no such account") {
		t.Errorf("deleting vic again: %d %q", code, errOut)
	}
}

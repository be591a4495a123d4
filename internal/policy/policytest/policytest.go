// Package policytest writes policy files for tests.
package policytest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/larsgo/lars/internal/policy"
)

// File writes text as a policy file in a new directory and returns its path and the
// policy loaded from it (reload it after Rewrite).
func File(t testing.TB, text string) (string, *policy.Live) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy")
	Rewrite(t, path, text)
	live, err := policy.LoadLive(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, live
}

// Rewrite replaces the policy file at path with text.
func Rewrite(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

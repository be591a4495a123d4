package store

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/larsgo/lars/lb"
)

// TestSQLiteFileIsPrivate: a new SQLite store and the -wal and -shm files SQLite
// makes beside it are readable by their owner only; a store that exists keeps the
// mode its operator gave it.
func TestSQLiteFileIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix file modes")
	}
	path := filepath.Join(t.TempDir(), "lars.db")
	db := openT(t, sqlitePrefix+path)
	if _, err := db.AddHost(testContext(t), lb.Key{Modid: 1, Cmdid: 1}, host("10.0.0.1", 80)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != sqliteFileMode {
			t.Errorf("%s has mode %o, want %o", filepath.Base(f), mode, sqliteFileMode)
		}
	}

	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	openT(t, sqlitePrefix+shared)
	if st, err := os.Stat(shared); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("an existing store's mode changed: %v %v", st.Mode(), err)
	}
}

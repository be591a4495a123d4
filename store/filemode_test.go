package store

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/larsgo/lars/route"
)

// TestSQLiteFileModeWhateverTheUmask: a new SQLite store and the -wal and -shm files
// SQLite makes beside it are readable by their owner only, or by its group too with
// GroupReadable, under a permissive and a strict umask alike.
func TestSQLiteFileModeWhateverTheUmask(t *testing.T) {
	for _, umask := range []int{0o000, 0o077} {
		for _, c := range []struct {
			group bool
			want  fs.FileMode
		}{{false, PrivateFileMode}, {true, GroupFileMode}} {
			t.Run(fmt.Sprintf("umask %03o group %v", umask, c.group), func(t *testing.T) {
				old := syscall.Umask(umask)
				defer syscall.Umask(old)
				path := filepath.Join(t.TempDir(), "lars.db")
				db, err := Open(testContext(t), sqlitePrefix+path, GroupReadable(c.group))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.AddHost(testContext(t), route.Key{Modid: 1, Cmdid: 1}, host("10.0.0.1", 80)); err != nil {
					t.Fatal(err)
				}
				for _, f := range []string{path, path + "-wal", path + "-shm"} {
					st, err := os.Stat(f)
					if err != nil {
						t.Fatal(err)
					}
					if mode := st.Mode().Perm(); mode != c.want {
						t.Errorf("%s has mode %o, want %o", filepath.Base(f), mode, c.want)
					}
				}
			})
		}
	}
}

// TestExistingSQLiteFileKeepsItsMode: a store that exists keeps the mode its operator
// gave it.
func TestExistingSQLiteFileKeepsItsMode(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared.db")
	if err := os.WriteFile(shared, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	openT(t, sqlitePrefix+shared)
	if st, err := os.Stat(shared); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("an existing store's mode changed: %v %v", st.Mode(), err)
	}
}

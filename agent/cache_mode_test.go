//go:build unix

package agent

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCacheFileModeWhateverTheUmask: the route cache is its owner's alone, or its
// group's too when asked, under a permissive and a strict umask, first written and
// rewritten alike.
func TestCacheFileModeWhateverTheUmask(t *testing.T) {
	for _, umask := range []int{0o000, 0o077} {
		for _, mode := range []fs.FileMode{CacheFileMode, CacheGroupFileMode} {
			old := syscall.Umask(umask)
			path := filepath.Join(t.TempDir(), "routes.cache")
			for range 2 {
				if err := WriteCache(path, cacheRoutes(), mode); err != nil {
					syscall.Umask(old)
					t.Fatal(err)
				}
				st, err := os.Stat(path)
				if err != nil {
					syscall.Umask(old)
					t.Fatal(err)
				}
				if st.Mode().Perm() != mode {
					t.Errorf("umask %03o: cache mode %o, want %o", umask, st.Mode().Perm(), mode)
				}
			}
			syscall.Umask(old)
		}
	}
	c := Config{}
	if c.cacheMode() != CacheFileMode {
		t.Errorf("default cache mode %o", c.cacheMode())
	}
	c.CacheGroupReadable = true
	if c.cacheMode() != CacheGroupFileMode {
		t.Errorf("group-readable cache mode %o", c.cacheMode())
	}
}

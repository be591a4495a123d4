package policy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/larsgo/lars/route"
)

// TestLiveReload: a reload changes what an open connection's grant allows at its next
// request; a bad file leaves the policy in force and is counted.
func TestLiveReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("report agent/* 1\n")
	l, err := LoadLive(path)
	if err != nil {
		t.Fatal(err)
	}
	g := l.For(Report, agent("a"))
	one, two := route.Key{Modid: 1, Cmdid: 1}, route.Key{Modid: 2, Cmdid: 1}
	if !g.Allows(one) || g.Allows(two) {
		t.Fatal("before the reload: want 1 allowed, 2 refused")
	}
	write("report agent/* 2\n")
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if g.Allows(one) || !g.Allows(two) {
		t.Error("after the reload: want 1 refused, 2 allowed")
	}
	write("report nonsense\n")
	if err := l.Reload(); err == nil {
		t.Fatal("a bad file reloaded")
	}
	if !g.Allows(two) {
		t.Error("a failed reload changed the policy in force")
	}
	if ok, failed := l.Reloads(); ok != 1 || failed != 1 {
		t.Errorf("reloads ok %d failed %d, want 1 and 1", ok, failed)
	}
	write("")
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if g.Any() || g.Allows(two) {
		t.Error("an emptied policy still allows")
	}
	var none *Live
	if ng := none.For(Pull, agent("a")); !ng.Any() || !ng.Allows(two) {
		t.Error("no policy refuses")
	}
	if n := testing.AllocsPerRun(1000, func() { _ = g.Allows(one) }); n != 0 {
		t.Errorf("PeerGrant.Allows allocates %v times", n)
	}
}

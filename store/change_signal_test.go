package store

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// TestChangeSignal: on SQLite the signal fires at its first read, then after every
// commit by another connection (another DB on the same file: another process's view),
// and only then; on MySQL/MariaDB there is none.
func TestChangeSignal(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lars.db")
	reader, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	writer, err := Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	sig, err := reader.OpenChangeSignal(ctx)
	if err != nil || sig == nil {
		t.Fatalf("no signal on SQLite: %v", err)
	}
	defer sig.Close()
	changed := func() bool {
		t.Helper()
		c, err := sig.Changed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if !changed() {
		t.Fatal("the first read did not fire")
	}
	for range 2 {
		if changed() {
			t.Fatal("fired with no commit")
		}
	}
	for i := range 3 {
		if _, err := writer.AddHost(ctx, route.Key{Modid: 1, Cmdid: 1}, route.FromWire(int32(i+1), 80)); err != nil {
			t.Fatal(err)
		}
		if !changed() {
			t.Fatalf("write %d by another connection not seen", i)
		}
		if changed() {
			t.Fatalf("write %d seen twice", i)
		}
	}
	// Where the files' writes can be watched (Linux), a write by another process is told
	// without reading the counter: drain what the writes above left, write, wait.
	if w := sig.Writes(); w != nil {
		for len(w) > 0 {
			<-w
		}
		if _, err := writer.AddHost(ctx, route.Key{Modid: 3, Cmdid: 1}, route.FromWire(7, 80)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w:
		case <-time.After(30 * time.Second): // generous: only a watch that does not work reaches it
			t.Fatal("a write by another connection was not told")
		}
		if !changed() {
			t.Fatal("told of a write, but the counter did not move")
		}
	} else if runtime.GOOS == "linux" {
		t.Fatal("no watch of the files' writes on Linux")
	}
	// A write through the reader's own pool (another connection of it) is seen too.
	if _, err := reader.AddHost(ctx, route.Key{Modid: 2, Cmdid: 1}, route.FromWire(9, 80)); err != nil {
		t.Fatal(err)
	}
	if !changed() {
		t.Fatal("a write through the reader's own pool not seen")
	}
	if dsn, ok := storetest.MySQLDSN(t); ok {
		db, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if s, err := db.OpenChangeSignal(ctx); s != nil || err != nil {
			t.Fatalf("a signal on MySQL: %v, %v", s, err)
		}
	}
}

// BenchmarkChangeSignal: the cost of one read of the change counter (SQLite), beside
// one read of the Stamp on each engine: what a watch every millisecond costs.
func BenchmarkChangeSignal(b *testing.B) {
	ctx := context.Background()
	storetest.EachB(b, func(b *testing.B, dsn string) {
		db, err := Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if sig, _ := db.OpenChangeSignal(ctx); sig != nil {
			defer sig.Close()
			b.Run("data_version", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := sig.Changed(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run("stamp", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.Stamp(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

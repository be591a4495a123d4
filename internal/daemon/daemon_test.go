package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/larsgo/lars/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestOpenStoreRetriesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// Nothing listens on port 1: refused at once, retried until ctx ends.
	if db := OpenStore(ctx, "lars:secret@tcp(127.0.0.1:1)/lars", time.Second, quiet); db != nil {
		t.Fatal("opened a store that does not exist")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("returned %v after its context ended", d)
	}
}

// fakeService runs until its context ends.
type fakeService struct{ running chan struct{} }

func (f fakeService) Run(ctx context.Context) error {
	close(f.running)
	<-ctx.Done()
	return nil
}

func (fakeService) AdminHandler() http.Handler { return http.NotFoundHandler() }

func TestMainRunsUntilSignal(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	sig := make(chan os.Signal, 1)
	svc := fakeService{running: make(chan struct{})}
	done := make(chan int, 1)
	set := Settings{Name: "test service", DSN: dsn, Admin: "127.0.0.1:0", Logger: quiet, StopLimit: time.Second}
	go func() {
		done <- Main(set, sig, func(db *store.DB) (Service, error) { return svc, nil })
	}()
	select {
	case <-svc.running:
	case <-time.After(10 * time.Second):
		t.Fatal("the service did not start")
	}
	sig <- os.Interrupt
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no exit after the signal")
	}
	failing := func(*store.DB) (Service, error) { return nil, errors.New("bad settings") }
	if code := Main(set, sig, failing); code != 2 {
		t.Fatalf("a service that cannot be built: exit %d, want 2", code)
	}
}

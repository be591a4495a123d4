package daemon

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// eventWithin bounds every wait of these tests for something that must happen: on a
// working build each comes in milliseconds, and the bound is far beyond that, so that
// a machine stalled for seconds never reaches it.
const eventWithin = 30 * time.Second

// unreachable is a store nothing listens for: port 1 refuses at once.
const unreachable = "lars:secret@tcp(127.0.0.1:1)/lars"

// retryLog is a logger that counts the failed attempts OpenStore logs.
type retryLog struct {
	slog.Handler
	retries atomic.Int64
}

func newRetryLog() *retryLog {
	return &retryLog{Handler: slog.NewTextHandler(io.Discard, nil)}
}

func (l *retryLog) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "retrying") {
		l.retries.Add(1)
	}
	return l.Handler.Handle(ctx, r)
}

func (l *retryLog) WithAttrs(attrs []slog.Attr) slog.Handler { return l }

// openAsync runs openStore in a goroutine; the channel gets what it returned.
func openAsync(ctx context.Context, retryMin, retryMax time.Duration, log *retryLog) <-chan *store.DB {
	done := make(chan *store.DB, 1)
	go func() { done <- openStore(ctx, unreachable, retryMin, retryMax, slog.New(log)) }()
	return done
}

// waitRetries waits until log counted n failed attempts.
func waitRetries(t *testing.T, log *retryLog, n int64) {
	t.Helper()
	deadline := time.Now().Add(eventWithin)
	for log.retries.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d failed attempts within %v, want %d", log.retries.Load(), eventWithin, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitReturn waits for openStore to return, and checks it returned no store.
func waitReturn(t *testing.T, done <-chan *store.DB) {
	t.Helper()
	select {
	case db := <-done:
		if db != nil {
			db.Close()
			t.Fatal("opened a store that does not exist")
		}
	case <-time.After(eventWithin):
		t.Fatalf("OpenStore did not return within %v of its context ending", eventWithin)
	}
}

func TestOpenStoreRetriesUntilCancelled(t *testing.T) {
	log := newRetryLog()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := openAsync(ctx, time.Millisecond, time.Millisecond, log)
	waitRetries(t, log, 3)
	cancel()
	waitReturn(t, done)
}

// TestOpenStoreCancelEndsTheWait: cancelling ends the wait between two attempts, here
// at least half an hour (EqualJitter), far beyond eventWithin.
func TestOpenStoreCancelEndsTheWait(t *testing.T) {
	log := newRetryLog()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := openAsync(ctx, time.Hour, time.Hour, log)
	waitRetries(t, log, 1) // the first attempt failed: the wait began
	cancel()
	waitReturn(t, done)
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
	// A stop limit no working build reaches: the fake service returns at once, and
	// the limit is not under test here.
	set := Settings{Name: "test service", DSN: dsn, Admin: "127.0.0.1:0", Logger: quiet, StopLimit: eventWithin}
	go func() {
		done <- Main(set, sig, func(db *store.DB) (Service, error) { return svc, nil })
	}()
	select {
	case <-svc.running:
	case <-time.After(eventWithin):
		t.Fatal("the service did not start")
	}
	sig <- os.Interrupt
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(2 * eventWithin):
		t.Fatal("no exit after the signal")
	}
	failing := func(*store.DB) (Service, error) { return nil, errors.New("bad settings") }
	var log bytes.Buffer
	set.Logger = slog.New(slog.NewTextHandler(&log, nil))
	set.note(slog.LevelInfo, "a note from the flags", "max_conns", 7)
	if code := Main(set, sig, failing); code != 2 {
		t.Fatalf("a service that cannot be built: exit %d, want 2", code)
	}
	if !strings.Contains(log.String(), `msg="a note from the flags" max_conns=7`) {
		t.Errorf("the start notes are not logged: %q", log.String())
	}
}

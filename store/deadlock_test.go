package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestRetryDeadlock: a write that loses a deadlock is run again until it passes, at
// most deadlockRetries more times, counted; any other error is returned at once.
func TestRetryDeadlock(t *testing.T) {
	deadlock := fmt.Errorf("cannot renew leases: %w", &mysql.MySQLError{Number: errDeadlock, Message: "Deadlock found"})
	before := deadlocks.Load()
	runs := 0
	err := retryDeadlock(context.Background(), func() error {
		if runs++; runs < 3 {
			return deadlock
		}
		return nil
	})
	if err != nil || runs != 3 || deadlocks.Load()-before != 2 {
		t.Errorf("two deadlocks then success: err %v, %d runs, %d counted; want nil, 3, 2", err, runs, deadlocks.Load()-before)
	}

	runs = 0
	err = retryDeadlock(context.Background(), func() error { runs++; return deadlock })
	if !isDeadlock(err) || runs != deadlockRetries+1 {
		t.Errorf("deadlocks every time: err %v after %d runs, want the deadlock after %d", err, runs, deadlockRetries+1)
	}

	runs = 0
	other := errors.New("connection refused")
	if err := retryDeadlock(context.Background(), func() error { runs++; return other }); err != other || runs != 1 {
		t.Errorf("another error: %v after %d runs, want it after 1", err, runs)
	}
	if err := retryDeadlock(context.Background(), func() error { runs++; return &mysql.MySQLError{Number: 1062} }); isDeadlock(err) {
		t.Errorf("a duplicate key (1062) taken for a deadlock: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	runs = 0
	if err := retryDeadlock(ctx, func() error { runs++; return deadlock }); !isDeadlock(err) || runs != 1 {
		t.Errorf("a done context: %v after %d runs, want the deadlock after 1", err, runs)
	}
}

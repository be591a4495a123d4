package store

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL and MariaDB end one of two transactions that wait for each other's row locks
// with error 1213 and roll it back whole: the lease writes (a frame's registrations,
// the loop's renewals and expiries, each taking LarsLease rows in its own order) meet
// that way under load. Such a transaction is run again, a few times, briefly apart.

// errDeadlock is MySQL's "Deadlock found when trying to get lock".
const errDeadlock = 1213

// deadlockRetries is how many times a write that lost a deadlock is run again.
const deadlockRetries = 4

// deadlocks counts the writes run again after a deadlock, for every DB of the process.
var deadlocks atomic.Uint64

// Deadlocks returns how many lease writes were run again after losing a deadlock.
func (db *DB) Deadlocks() uint64 { return deadlocks.Load() }

// isDeadlock reports whether err is a deadlock the server rolled back.
func isDeadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == errDeadlock
}

// retryDeadlock runs fn, and again while it loses a deadlock (at most deadlockRetries
// more times, 1, 2, 4 and 8 ms apart), and returns its last error.
func retryDeadlock(ctx context.Context, fn func() error) error {
	err := fn()
	pause := time.Millisecond
	for i := 0; i < deadlockRetries && isDeadlock(err); i++ {
		deadlocks.Add(1)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause *= 2
		err = fn()
	}
	return err
}

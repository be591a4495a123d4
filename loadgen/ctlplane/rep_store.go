package ctlplane

import (
	"context"
	"fmt"
	"math"

	"github.com/larsgo/lars/store"
)

// resultCounter counts the results of a run that the report service's store holds.
// Each row (key, host, caller) of a run holds in succ_cnt the round number of the last
// result written to it, counted from base: a row at base+r holds r+1 results (a result
// the service coalesced into a newer one is held by it). Rows of earlier runs, below
// base, are not counted.
type resultCounter struct {
	db     *store.DB
	lo, hi int64 // the run's callers
	base   int64 // the first round's succ_cnt
}

// newResultCounter reads where the run's rounds start: above every succ_cnt its callers
// already have in the store.
func newResultCounter(ctx context.Context, db *store.DB, lo, hi int32) (*resultCounter, error) {
	c := &resultCounter{db: db, lo: int64(lo), hi: int64(hi)}
	var top int64
	err := db.SQL().QueryRowContext(ctx,
		"SELECT COALESCE(MAX(succ_cnt), 0) FROM ServerCallStatus WHERE caller >= ? AND caller <= ?", c.lo, c.hi).Scan(&top)
	if err != nil {
		return nil, fmt.Errorf("cannot read ServerCallStatus: %w", err)
	}
	c.base = max(top, 0) + 1
	if c.base > math.MaxInt32/2 {
		// succ_cnt is a signed int column: start over rather than overflow it.
		return nil, fmt.Errorf("ServerCallStatus succ_cnt of callers %d-%d reaches %d: delete those rows first", lo, hi, top)
	}
	return c, nil
}

// count returns the run's rows in the store and the results they hold.
func (c *resultCounter) count(ctx context.Context) (rows, results uint64, err error) {
	var n, sum int64
	err = c.db.SQL().QueryRowContext(ctx,
		"SELECT COUNT(*), COALESCE(SUM(succ_cnt - ?), 0) FROM ServerCallStatus WHERE caller >= ? AND caller <= ? AND succ_cnt >= ?",
		c.base-1, c.lo, c.hi, c.base).Scan(&n, &sum)
	if err != nil {
		return 0, 0, fmt.Errorf("cannot count ServerCallStatus rows: %w", err)
	}
	return uint64(max(n, 0)), uint64(max(sum, 0)), nil
}

package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Renewal extends one lease to the database's clock plus Extend.
type Renewal struct {
	LeaseKey
	Extend time.Duration
}

// RenewReport says what Renew did.
type RenewReport struct {
	Renewed    int        // leases extended
	Statements int        // statements run: UPDATEs, and the SELECTs that looked for the rest
	Gone       []LeaseKey // leases that do not exist (expired, deregistered): register them again
	Removed    []LeaseKey // leases an operator removed: not extended
}

// renewGrain is what Renew rounds each extension down to, so that leases renewed
// about together share one statement.
const renewGrain = 100 * time.Millisecond

// maxRowsPerRenew bounds the leases one renewing UPDATE names.
const maxRowsPerRenew = 1000

// Renew extends each lease named that exists and is not removed to the database's
// clock plus its Extend, rounded down to 100 ms (an extension under 100 ms is not
// written): grouped by extension, in UPDATEs of at most 1,000 leases each, with no
// route write and no route lock. It reports the leases it found missing or removed
// (one SELECT after each UPDATE that did not extend all it named).
func (db *DB) Renew(ctx context.Context, renewals []Renewal) (RenewReport, error) {
	var rep RenewReport
	groups := map[time.Duration][]LeaseKey{}
	for _, r := range renewals {
		ext := r.Extend.Truncate(renewGrain)
		if ext <= 0 {
			continue
		}
		groups[ext] = append(groups[ext], r.LeaseKey)
	}
	exts := make([]time.Duration, 0, len(groups))
	for ext := range groups {
		exts = append(exts, ext)
	}
	slices.SortFunc(exts, cmp.Compare)
	for _, ext := range exts {
		named := groups[ext]
		for len(named) > 0 {
			chunk := named[:min(len(named), maxRowsPerRenew)]
			named = named[len(chunk):]
			if err := retryDeadlock(ctx, func() error { return db.renewChunk(ctx, chunk, ext, &rep) }); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// renewChunk extends the leases of chunk by ext, adding to rep.
func (db *DB) renewChunk(ctx context.Context, chunk []LeaseKey, ext time.Duration, rep *RenewReport) error {
	where, in := db.leaseKeysIn(chunk)
	query := "UPDATE LarsLease SET expires_ms = " + db.d.nowMsSQL() + " + ? WHERE removed_ms = 0" + where
	res, err := db.db.ExecContext(ctx, query, append([]any{ext.Milliseconds()}, in...)...)
	rep.Statements++
	if err != nil {
		return fmt.Errorf("cannot renew leases: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("cannot renew leases: %w", err)
	}
	if n == int64(len(chunk)) {
		rep.Renewed += len(chunk)
		return nil
	}
	// Some are missing or removed (or, on MySQL, renewed to the same millisecond,
	// which counts as unchanged): look.
	found, err := db.leasesOf(ctx, db.db, chunk)
	rep.Statements++
	if err != nil {
		return err
	}
	state := make(map[LeaseKey]bool, len(found)) // true: removed
	for _, l := range found {
		state[LeaseKey{l.Key, l.Host}] = !l.Removed.IsZero()
	}
	seen := make(map[LeaseKey]bool, len(chunk))
	for _, k := range chunk {
		if seen[k] {
			continue
		}
		seen[k] = true
		removed, ok := state[k]
		switch {
		case !ok:
			rep.Gone = append(rep.Gone, k)
		case removed:
			rep.Removed = append(rep.Removed, k)
		default:
			rep.Renewed++
		}
	}
	return nil
}

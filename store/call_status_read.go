package store

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// ServerCallStatus: reading what the report service stored.

// CallStatusFilter selects ServerCallStatus rows. Its zero value selects every row.
type CallStatusFilter struct {
	// Modid, if not nil, keeps the rows of this modid only.
	Modid *int32
	// Cmdid, if not nil, keeps the rows of this cmdid only (with Modid: of one key).
	Cmdid *int32
}

// CallStatus returns the ServerCallStatus rows f selects, newest report (ts) first,
// rows of the same ts in (modid, cmdid, ip, port, caller) order. It returns an empty,
// non-nil slice when no row matches.
func (db *DB) CallStatus(ctx context.Context, f CallStatusFilter) ([]CallStatus, error) {
	var (
		where []string
		args  []any
	)
	if f.Modid != nil {
		where, args = append(where, "modid = ?"), append(args, int64(*f.Modid))
	}
	if f.Cmdid != nil {
		where, args = append(where, "cmdid = ?"), append(args, int64(*f.Cmdid))
	}
	var b strings.Builder
	b.WriteString("SELECT modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload FROM ServerCallStatus")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY ts DESC, modid, cmdid, ip, port, caller")
	return db.readCallStatus(ctx, b.String(), args)
}

// readCallStatus runs query, a SELECT of ServerCallStatus's columns in table order,
// and returns its rows (an empty, non-nil slice when none).
func (db *DB) readCallStatus(ctx context.Context, query string, args []any) ([]CallStatus, error) {
	rows, err := db.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read ServerCallStatus: %w", err)
	}
	defer rows.Close()
	var (
		s          CallStatus
		hs         hostScan
		succ, errs int64
		overload   string
		dst        = []any{wire32{&s.Key.Modid}, wire32{&s.Key.Cmdid}, wire32{&hs.ip}, wire32{&hs.port},
			wire32{&s.Caller}, &succ, &errs, &s.TS, &overload}
		statuses = []CallStatus{}
	)
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("cannot read ServerCallStatus: %w", err)
		}
		s.Host = hs.host()
		if s.Succ, err = callCount("succ_cnt", succ); err == nil {
			s.Err, err = callCount("err_cnt", errs)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read ServerCallStatus row %d/%d %v: %w", s.Key.Modid, s.Key.Cmdid, s.Host, err)
		}
		s.Overload = strings.TrimSpace(overload) == overloadYes
		statuses = append(statuses, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read ServerCallStatus: %w", err)
	}
	return statuses, nil
}

// callCount checks a succ_cnt or err_cnt value (a signed column) and returns it.
func callCount(column string, v int64) (uint32, error) {
	if v < 0 || v > math.MaxUint32 {
		return 0, fmt.Errorf("%s %d is not a count in 0..%d", column, v, uint32(math.MaxUint32))
	}
	return uint32(v), nil
}

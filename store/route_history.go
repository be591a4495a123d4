package store

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/larsgo/lars/lb"
)

// RouteHistory: our own table beside Lars's, one row per changed key per write, written
// in the write's transaction. Lars keeps no history; its writers do not write here.

// historyTable creates RouteHistory: version is the route version the write set, ts
// the write's time in Unix milliseconds, who the writer (WithWho), op the store
// operation; hosts_before and hosts_after hold the key's hosts as "IP:PORT" separated
// by spaces, sorted (see FormatHosts).
func (d *dialect) historyTable() larsTable {
	return larsTable{"RouteHistory", `CREATE TABLE IF NOT EXISTS RouteHistory (
			id ` + d.autoID + `,
			version bigint unsigned NOT NULL,
			ts bigint NOT NULL,
			who varchar(255) NOT NULL,
			op varchar(32) NOT NULL,
			modid int unsigned NOT NULL,
			cmdid int unsigned NOT NULL,
			hosts_before mediumtext NOT NULL,
			hosts_after mediumtext NOT NULL
		)` + d.tableOptions}
}

// MaxWhoLen is the longest "who" RouteHistory keeps; longer ones are cut.
const MaxWhoLen = 255

// UnknownWho is the "who" of a write whose context names nobody (see WithWho).
const UnknownWho = "unknown"

// whoKey is the context key of WithWho.
type whoKey struct{}

// WithWho returns a context whose route writes are recorded in RouteHistory as done by
// who (for example "larsctl alice@build1" or "console 10.0.0.5"). Writes through a
// context without one are recorded as UnknownWho.
func WithWho(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, whoKey{}, who)
}

// WhoFrom returns the who WithWho put in ctx, or UnknownWho.
func WhoFrom(ctx context.Context) string {
	who, _ := ctx.Value(whoKey{}).(string)
	who = strings.TrimSpace(who)
	if who == "" {
		return UnknownWho
	}
	if len(who) > MaxWhoLen {
		who = strings.ToValidUTF8(who[:MaxWhoLen], "")
	}
	return who
}

// HistoryEntry is one RouteHistory row: one key's hosts before and after one write.
type HistoryEntry struct {
	ID      uint64
	Version uint64    // the route version the write set
	Time    time.Time // when the write committed (the writer's clock, millisecond precision)
	Who     string    // who wrote, as WithWho named it
	Op      string    // the store operation: "add host", "delete host", "set hosts", "drop key", "replace keys"
	Key     lb.Key
	Before  []lb.Host // sorted, no duplicates
	After   []lb.Host
}

// HistoryFilter selects RouteHistory rows. Its zero value selects the newest
// DefaultHistoryLimit rows.
type HistoryFilter struct {
	// Modid, if not nil, keeps the rows of this modid only.
	Modid *int32
	// Cmdid, if not nil, keeps the rows of this cmdid only.
	Cmdid *int32
	// BeforeID, if not 0, keeps the rows with an id below it (the next page).
	BeforeID uint64
	// Limit is the most rows returned (DefaultHistoryLimit when <= 0).
	Limit int
}

// DefaultHistoryLimit is the number of rows History returns when the filter sets none.
const DefaultHistoryLimit = 100

// History returns the RouteHistory rows f selects, newest first. It returns an empty,
// non-nil slice when no row matches.
func (db *DB) History(ctx context.Context, f HistoryFilter) ([]HistoryEntry, error) {
	var (
		where []string
		args  []any
	)
	if f.Modid != nil {
		where, args = append(where, "modid = ?"), append(args, col32(*f.Modid))
	}
	if f.Cmdid != nil {
		where, args = append(where, "cmdid = ?"), append(args, col32(*f.Cmdid))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	var b strings.Builder
	b.WriteString("SELECT id, version, ts, who, op, modid, cmdid, hosts_before, hosts_after FROM RouteHistory")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	b.WriteString(" ORDER BY id DESC LIMIT ?")
	args = append(args, limit)
	rows, err := db.db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	defer rows.Close()
	entries := []HistoryEntry{}
	for rows.Next() {
		var (
			e             HistoryEntry
			ms            int64
			before, after string
		)
		if err := rows.Scan(&e.ID, &e.Version, &ms, &e.Who, &e.Op, wire32{&e.Key.Modid}, wire32{&e.Key.Cmdid}, &before, &after); err != nil {
			return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
		}
		e.Time = time.UnixMilli(ms)
		if e.Before, err = ParseHosts(before); err == nil {
			e.After, err = ParseHosts(after)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read RouteHistory row %d: %w", e.ID, err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	return entries, nil
}

// historyRow is one RouteHistory row to insert.
type historyRow struct {
	key           lb.Key
	before, after []lb.Host
}

// insertHistory inserts one RouteHistory row per element of rows, all of one write.
func insertHistory(ctx context.Context, q querier, rows []historyRow, version uint64, at time.Time, who, op string) error {
	const width = 8
	args := make([]any, 0, width*min(len(rows), maxRowsPerInsert/2))
	for batch := range slices.Chunk(rows, maxRowsPerInsert/2) {
		var b strings.Builder
		b.WriteString("INSERT INTO RouteHistory (version, ts, who, op, modid, cmdid, hosts_before, hosts_after) VALUES ")
		appendPlaceholderRows(&b, width, len(batch))
		args = args[:0]
		for _, r := range batch {
			args = append(args, version, at.UnixMilli(), who, op, col32(r.key.Modid), col32(r.key.Cmdid),
				FormatHosts(r.before), FormatHosts(r.after))
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("cannot insert into RouteHistory: %w", err)
		}
	}
	return nil
}

// FormatHost returns h as "IP:PORT" with the IP dotted.
func FormatHost(h lb.Host) string {
	ip := uint32(h.IP)
	a := netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)})
	return a.String() + ":" + strconv.FormatUint(uint64(uint32(h.Port)), 10)
}

// FormatHosts returns hosts as FormatHost strings separated by single spaces.
func FormatHosts(hosts []lb.Host) string {
	var b strings.Builder
	for i, h := range hosts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(FormatHost(h))
	}
	return b.String()
}

// ParseHosts parses what FormatHosts writes: "IP:PORT" separated by white space (a
// port is any 32-bit unsigned number, as the int unsigned column allows).
func ParseHosts(s string) ([]lb.Host, error) {
	var hosts []lb.Host
	for _, f := range strings.Fields(s) {
		i := strings.LastIndexByte(f, ':')
		if i < 0 {
			return nil, fmt.Errorf("host %q is not IPv4:PORT", f)
		}
		a, err := netip.ParseAddr(f[:i])
		port, perr := strconv.ParseUint(f[i+1:], 10, 32)
		if err != nil || perr != nil || !a.Is4() {
			return nil, fmt.Errorf("host %q is not IPv4:PORT", f)
		}
		b := a.As4()
		hosts = append(hosts, lb.Host{
			IP:   int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])),
			Port: int32(uint32(port)),
		})
	}
	return hosts, nil
}

// LastChanges returns, for every key RouteHistory holds, the time of its newest row.
func (db *DB) LastChanges(ctx context.Context) (map[lb.Key]time.Time, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT modid, cmdid, MAX(ts) FROM RouteHistory GROUP BY modid, cmdid")
	if err != nil {
		return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	defer rows.Close()
	last := make(map[lb.Key]time.Time)
	for rows.Next() {
		var (
			k  lb.Key
			ms int64
		)
		if err := rows.Scan(wire32{&k.Modid}, wire32{&k.Cmdid}, &ms); err != nil {
			return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
		}
		last[k] = time.UnixMilli(ms)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	return last, nil
}

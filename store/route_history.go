package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
)

// RouteHistory: our own table beside Lars's, one row per changed key per write, written
// in the write's transaction. Lars keeps no history; its writers do not write here.

// historyTable creates RouteHistory: version is the route version the write set, ts
// the write's time in Unix milliseconds, who the writer (WithWho), op the store
// operation; hosts_before and hosts_after hold the key's hosts in their text form
// (route.FormatHostList: "IP:PORT[;weight=N][;zone=NAME]") separated by spaces,
// normalised (route.Normalize).
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
	return cleanWho(who)
}

// cleanWho is who as RouteHistory keeps it: trimmed, UnknownWho if empty, cut to
// MaxWhoLen.
func cleanWho(who string) string {
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
	Key     route.Key
	Before  []route.Host // sorted, no duplicates
	After   []route.Host
	// BeforeCount and AfterCount are how many hosts the row holds before and after:
	// len(Before) and len(After) unless HistoryFilter.MaxHosts cut them.
	BeforeCount, AfterCount int
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
	// AfterID, if not 0, keeps the rows with an id above it (the previous page): the
	// Limit rows just above it, still returned newest first.
	AfterID uint64
	// Limit is the most rows returned (DefaultHistoryLimit when <= 0).
	Limit int
	// MaxHosts, if > 0, cuts each row's Before and After to their first MaxHosts hosts,
	// read as a bounded prefix of the column (BeforeCount and AfterCount still count
	// them all): a page of rows of 10,000-host routes reads kilobytes, not megabytes.
	MaxHosts int
}

// maxHostText is the longest host text (route.Host.AppendText): "[IPv6]:PORT" (47
// bytes), ";weight=10000" (13) and ";zone=" with the longest zone (6 + 64).
const maxHostText = len("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535;weight=10000;zone=") + route.MaxZoneLen

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
	if f.AfterID > 0 {
		where, args = append(where, "id > ?"), append(args, f.AfterID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	hostCols := "hosts_before, hosts_after, 0, 0"
	if f.MaxHosts > 0 {
		// A prefix of each list, and the lengths that tell whether it was cut and how
		// many hosts (spaces + 1) the whole list holds.
		hostCols = fmt.Sprintf("SUBSTR(hosts_before, 1, %[1]d), SUBSTR(hosts_after, 1, %[1]d), "+
			"LENGTH(hosts_before) - LENGTH(REPLACE(hosts_before, ' ', '')) + SIGN(LENGTH(hosts_before)), "+
			"LENGTH(hosts_after) - LENGTH(REPLACE(hosts_after, ' ', '')) + SIGN(LENGTH(hosts_after))", f.MaxHosts*(maxHostText+1))
	}
	var b strings.Builder
	b.WriteString("SELECT id, version, ts, who, op, modid, cmdid, " + hostCols + " FROM RouteHistory")
	if len(where) > 0 {
		b.WriteString(" WHERE " + strings.Join(where, " AND "))
	}
	order := " ORDER BY id DESC LIMIT ?"
	if f.AfterID > 0 {
		order = " ORDER BY id LIMIT ?"
	}
	b.WriteString(order)
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
		if err := rows.Scan(&e.ID, &e.Version, &ms, &e.Who, &e.Op, wire32{&e.Key.Modid}, wire32{&e.Key.Cmdid}, &before, &after, &e.BeforeCount, &e.AfterCount); err != nil {
			return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
		}
		e.Time = time.UnixMilli(ms)
		if e.Before, err = parseHostsPrefix(before, e.BeforeCount, f.MaxHosts); err == nil {
			e.After, err = parseHostsPrefix(after, e.AfterCount, f.MaxHosts)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read RouteHistory row %d: %w", e.ID, err)
		}
		if f.MaxHosts <= 0 {
			e.BeforeCount, e.AfterCount = len(e.Before), len(e.After)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	if f.AfterID > 0 {
		slices.Reverse(entries)
	}
	return entries, nil
}

// parseHostsPrefix parses s, a host list of count hosts or, when limit > 0, a prefix of
// one, and returns its first limit hosts (all when limit <= 0). A prefix that ends inside
// a host drops that host.
func parseHostsPrefix(s string, count, limit int) ([]route.Host, error) {
	if limit <= 0 {
		return parseHistoryHosts(s)
	}
	if count > strings.Count(s, " ")+1 { // cut: the last field may be partial
		if i := strings.LastIndexByte(s, ' '); i >= 0 {
			s = s[:i]
		} else {
			s = ""
		}
	}
	hosts, err := parseHistoryHosts(s)
	if len(hosts) > limit {
		hosts = hosts[:limit]
	}
	return hosts, err
}

// HistoryCount returns how many RouteHistory rows f's Modid and Cmdid select, and of
// those how many have an id above newerThan (0: none counted).
func (db *DB) HistoryCount(ctx context.Context, f HistoryFilter, newerThan uint64) (total, newer int, err error) {
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
	count := func(where []string, args []any) (int, error) {
		query := "SELECT COUNT(*) FROM RouteHistory"
		if len(where) > 0 {
			query += " WHERE " + strings.Join(where, " AND ")
		}
		var n int
		if err := db.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("cannot count RouteHistory: %w", err)
		}
		return n, nil
	}
	if total, err = count(where, args); err != nil || newerThan == 0 {
		return total, 0, err
	}
	newer, err = count(append(where, "id > ?"), append(args, newerThan))
	return total, newer, err
}

// historyRow is one RouteHistory row to insert.
type historyRow struct {
	key           route.Key
	before, after []route.Host
	who           string // the writer of this row; empty: the write's
}

// insertHistory inserts one RouteHistory row per element of rows, all of one write,
// by who unless a row names its own.
func insertHistory(ctx context.Context, q querier, rows []historyRow, version uint64, at time.Time, who, op string) error {
	const width = 8
	args := make([]any, 0, width*min(len(rows), maxRowsPerInsert/2))
	for batch := range slices.Chunk(rows, maxRowsPerInsert/2) {
		var b strings.Builder
		b.WriteString("INSERT INTO RouteHistory (version, ts, who, op, modid, cmdid, hosts_before, hosts_after) VALUES ")
		appendPlaceholderRows(&b, width, len(batch))
		args = args[:0]
		for _, r := range batch {
			by := who
			if r.who != "" {
				by = cleanWho(r.who)
			}
			args = append(args, version, at.UnixMilli(), by, op, col32(r.key.Modid), col32(r.key.Cmdid),
				route.FormatHostList(r.before), route.FormatHostList(r.after))
		}
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("cannot insert into RouteHistory: %w", err)
		}
	}
	return nil
}

// parseHistoryHosts parses a RouteHistory host list: hosts in their text form
// (route.Host.AppendText: "IP:PORT", "[IPv6]:PORT", then ";weight=N", ";zone=NAME")
// separated by white space. Rows written before hosts had weights hold "IPv4:PORT"
// with any port the int unsigned column allows (0 included); such a host reads as
// RouteData's do, its port cut to 16 bits.
func parseHistoryHosts(s string) ([]route.Host, error) {
	var hosts []route.Host
	for _, f := range strings.Fields(s) {
		h, err := route.ParseHostText(f)
		if err != nil {
			var ok bool
			if h, ok = parseWireHost(f); !ok {
				return nil, err
			}
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// parseWireHost parses "IPv4:PORT" with PORT any 32-bit unsigned number, as the
// host of a wire (ip, port) pair.
func parseWireHost(s string) (route.Host, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return route.Host{}, false
	}
	ip, err := route.ParseWireIP(s[:i])
	port, perr := strconv.ParseUint(s[i+1:], 10, 32)
	if err != nil || perr != nil {
		return route.Host{}, false
	}
	return route.FromWire(ip, int32(uint32(port))), true
}

// LastChanges returns, for every key RouteHistory holds, the time of its newest row.
func (db *DB) LastChanges(ctx context.Context) (map[route.Key]time.Time, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT modid, cmdid, MAX(ts) FROM RouteHistory GROUP BY modid, cmdid")
	if err != nil {
		return nil, fmt.Errorf("cannot read RouteHistory: %w", err)
	}
	defer rows.Close()
	last := make(map[route.Key]time.Time)
	for rows.Next() {
		var (
			k  route.Key
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

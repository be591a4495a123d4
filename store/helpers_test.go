package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/route"
)

// testTimeout bounds every test's database work.
const testTimeout = 60 * time.Second

// testContext returns a context that ends with the test or after testTimeout.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openT opens dsn and closes it when t ends.
func openT(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(testContext(t), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rawOpenT opens dsn with the bare driver, without Open's schema work.
func rawOpenT(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	driver, name := "mysql", strings.TrimPrefix(dsn, "mysql:")
	if strings.HasPrefix(dsn, sqlitePrefix) {
		driver, name = "sqlite", dsn[len(sqlitePrefix):]
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// host builds a host from a dotted IPv4 address and a port.
func host(addr string, port int32) route.Host {
	return route.FromWire(wireIP(addr), port)
}

// wireIP returns the wire form of IPv4 addr.
func wireIP(addr string) int32 {
	a := netip.MustParseAddr(addr).As4()
	return int32(binary.BigEndian.Uint32(a[:]))
}

// wireOf returns h's wire (ip, port), which must be IPv4.
func wireOf(h route.Host) (ip, port int32) {
	ip, port, ok := h.Wire()
	if !ok {
		panic("not IPv4: " + h.String())
	}
	return ip, port
}

// mustStamp returns db's stamp.
func mustStamp(t testing.TB, db *DB) Stamp {
	t.Helper()
	s, err := db.Stamp(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustChanges returns every change after afterID.
func mustChanges(t testing.TB, db *DB, afterID uint64) []Change {
	t.Helper()
	c, err := db.ChangesAfter(testContext(t), afterID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustRoutes returns the hosts of k (nil if none).
func mustRoutes(t testing.TB, db *DB, k route.Key) []route.Host {
	t.Helper()
	r, err := db.Routes(testContext(t), []route.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return r[k]
}

// countRows returns the number of rows of table.
func countRows(t testing.TB, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(testContext(t), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

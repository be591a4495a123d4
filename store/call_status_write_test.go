package store

import (
	"math"
	"slices"
	"testing"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// storedCallStatus is a ServerCallStatus row as stored, columns in table order.
type storedCallStatus struct {
	Modid, Cmdid     int64
	IP, Port, Caller int64
	Succ, Err        int64
	TS               int64
	Overload         string
}

// scanStoredCallStatus returns every ServerCallStatus row in primary-key order.
func scanStoredCallStatus(t *testing.T, db *DB) []storedCallStatus {
	t.Helper()
	rows, err := db.SQL().QueryContext(testContext(t), `SELECT modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload
		FROM ServerCallStatus ORDER BY modid, cmdid, ip, port, caller`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedCallStatus
	for rows.Next() {
		var r storedCallStatus
		if err := rows.Scan(&r.Modid, &r.Cmdid, &r.IP, &r.Port, &r.Caller, &r.Succ, &r.Err, &r.TS, &r.Overload); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUpsertCallStatusInsertsAndReplaces(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		high := host("200.1.2.3", 9000) // a negative wire IP: stored as its unsigned number
		caller := wireIP("192.168.0.7")
		rows := []CallStatus{
			{Key: route.Key{Modid: 1, Cmdid: 1}, Host: host("10.0.0.1", 80), Caller: caller, Succ: 10, Err: 2, TS: 1700000000},
			{Key: route.Key{Modid: 1, Cmdid: 1}, Host: high, Caller: caller, Succ: 0, Err: 9, TS: 1700000000, Overload: true},
			{Key: route.Key{Modid: 1, Cmdid: 1}, Host: high, Caller: 2130706433, Succ: math.MaxUint32, Err: 1, TS: 1700000001},
		}
		if err := db.UpsertCallStatus(ctx, rows); err != nil {
			t.Fatal(err)
		}
		want := []storedCallStatus{
			{1, 1, 167772161, 80, 3232235527, 10, 2, 1700000000, "0"},
			{1, 1, 3355509251, 9000, 2130706433, math.MaxInt32, 1, 1700000001, "0"},
			{1, 1, 3355509251, 9000, 3232235527, 0, 9, 1700000000, "1"},
		}
		if got := scanStoredCallStatus(t, db); !slices.Equal(got, want) {
			t.Fatalf("after the first upsert:\n got %v\nwant %v", got, want)
		}
		// The latest counts replace the row; the other rows stay.
		rows[1].Succ, rows[1].Err, rows[1].TS, rows[1].Overload = 7, 0, 1700000005, false
		if err := db.UpsertCallStatus(ctx, rows[1:2]); err != nil {
			t.Fatal(err)
		}
		want[2] = storedCallStatus{1, 1, 3355509251, 9000, 3232235527, 7, 0, 1700000005, "0"}
		if got := scanStoredCallStatus(t, db); !slices.Equal(got, want) {
			t.Fatalf("after the replacing upsert:\n got %v\nwant %v", got, want)
		}
		// One row at a time gives the same rows.
		rows[0].Succ = 99
		if err := db.UpsertCallStatusOne(ctx, rows[0]); err != nil {
			t.Fatal(err)
		}
		want[0].Succ = 99
		if got := scanStoredCallStatus(t, db); !slices.Equal(got, want) {
			t.Fatalf("after UpsertCallStatusOne:\n got %v\nwant %v", got, want)
		}
		if err := db.UpsertCallStatus(ctx, nil); err != nil {
			t.Fatalf("no rows: %v", err)
		}
	})
}

func TestUpsertCallStatusChunksLargeBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		n := 2*callStatusChunk + 17 // three statements
		rows := make([]CallStatus, n)
		for i := range rows {
			rows[i] = CallStatus{Key: route.Key{Modid: int32(i % 7), Cmdid: 1}, Host: route.FromWire(int32(i), 1),
				Caller: 1, Succ: uint32(i), TS: 1}
		}
		if err := db.UpsertCallStatus(testContext(t), rows); err != nil {
			t.Fatal(err)
		}
		got := scanStoredCallStatus(t, db)
		if len(got) != n {
			t.Fatalf("%d rows stored, want %d", len(got), n)
		}
		for _, r := range got {
			if r.Succ != r.IP {
				t.Fatalf("row %+v: succ_cnt is not the row's own", r)
			}
		}
	})
}

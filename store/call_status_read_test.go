package store

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// insertCallStatus inserts ServerCallStatus rows with plain SQL, each row its nine
// column values in table order.
func insertCallStatus(t *testing.T, db *DB, rows ...[]any) {
	t.Helper()
	var args []any
	for _, r := range rows {
		args = append(args, r...)
	}
	var b strings.Builder
	b.WriteString("INSERT INTO ServerCallStatus (modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload) VALUES ")
	appendPlaceholderRows(&b, 9, len(rows))
	if _, err := db.SQL().ExecContext(testContext(t), b.String(), args...); err != nil {
		t.Fatal(err)
	}
}

// formatStatuses returns one line per status, for comparison.
func formatStatuses(statuses []CallStatus) string {
	var b strings.Builder
	for _, s := range statuses {
		fmt.Fprintf(&b, "%d/%d %v caller=%d succ=%d err=%d ts=%d overload=%t\n",
			s.Key.Modid, s.Key.Cmdid, s.Host, s.Caller, s.Succ, s.Err, s.TS, s.Overload)
	}
	return b.String()
}

func TestCallStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		got, err := db.CallStatus(ctx, CallStatusFilter{})
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("empty table: %v, %v; want an empty non-nil slice", got, err)
		}

		insertCallStatus(t, db,
			// modid cmdid ip port caller succ err ts overload
			[]any{1, 1, 167772417, 8001, 2130706433, 0, 120, 1700000005, "1"},          // 10.0.1.1:8001
			[]any{1, 1, 167772418, 8002, 2130706433, 300, 2, 1700000005, "0"},          // 10.0.1.2:8002
			[]any{1, 2, 4294967295, 65535, 4294967295, 2147483647, 0, 1700000009, "0"}, // 255.255.255.255, caller too
			[]any{2, 1, 167772673, 8001, 167772161, 7, 7, 1600000000, "1"},             // 10.0.2.1:8001, old
			[]any{1, 1, 167772417, 8001, 167772162, 9, 1, 1700000001, "0"},             // same host, another caller
		)
		const (
			row12    = "1/2 255.255.255.255:65535 caller=-1 succ=2147483647 err=0 ts=1700000009 overload=false\n"
			row11a   = "1/1 10.0.1.1:8001 caller=2130706433 succ=0 err=120 ts=1700000005 overload=true\n"
			row11b   = "1/1 10.0.1.2:8002 caller=2130706433 succ=300 err=2 ts=1700000005 overload=false\n"
			row11old = "1/1 10.0.1.1:8001 caller=167772162 succ=9 err=1 ts=1700000001 overload=false\n"
			row21    = "2/1 10.0.2.1:8001 caller=167772161 succ=7 err=7 ts=1600000000 overload=true\n"
		)
		for _, tc := range []struct {
			name         string
			modid, cmdid *int32
			want         string
		}{
			{"all", nil, nil, row12 + row11a + row11b + row11old + row21},
			{"modid", new(int32(1)), nil, row12 + row11a + row11b + row11old},
			{"key", new(int32(1)), new(int32(1)), row11a + row11b + row11old},
			{"cmdid", nil, new(int32(1)), row11a + row11b + row11old + row21},
			{"other modid", new(int32(2)), nil, row21},
			{"unknown key", new(int32(2)), new(int32(2)), ""},
			{"unknown modid", new(int32(3)), nil, ""},
		} {
			got, err := db.CallStatus(ctx, CallStatusFilter{Modid: tc.modid, Cmdid: tc.cmdid})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if got == nil || formatStatuses(got) != tc.want {
				t.Errorf("%s:\n%s\nwant:\n%s", tc.name, formatStatuses(got), tc.want)
			}
		}
		all, _ := db.CallStatus(ctx, CallStatusFilter{})
		if want := (route.Key{Modid: 1, Cmdid: 2}); all[0].Key != want || all[0].Host.Addr.Addr() != netip.MustParseAddr("255.255.255.255") {
			t.Errorf("first row %+v: want key %v, IP 255.255.255.255 as -1", all[0], want)
		}
	})
}

// TestCallStatusBadCount: a count no agent can report (a negative err_cnt, written by
// some other tool) is an error naming the row, not a wrapped-around number.
func TestCallStatusBadCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		insertCallStatus(t, db, []any{3, 4, 167772417, 80, 1, 5, -1, 1700000000, "0"})
		_, err := db.CallStatus(testContext(t), CallStatusFilter{})
		want := "cannot read ServerCallStatus row 3/4 10.0.1.1:80: err_cnt -1 is not a count in 0..4294967295"
		if err == nil || err.Error() != want {
			t.Errorf("error %v, want %q", err, want)
		}
	})
}

// TestCallStatusReadsWhatUpsertWrites: rows stored by UpsertCallStatus (the report
// service's write) read back unchanged, the latest upsert of a row winning.
func TestCallStatusReadsWhatUpsertWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		old := CallStatus{Key: route.Key{Modid: 7, Cmdid: 8}, Host: host("10.0.1.1", 8001), Caller: -2, Succ: 1, Err: 0, TS: 100}
		rows := []CallStatus{
			old,
			{Key: route.Key{Modid: 7, Cmdid: 8}, Host: host("255.255.255.254", 65535), Caller: 2130706433, Succ: 0, Err: 2147483647, TS: 200, Overload: true},
			{Key: route.Key{Modid: 0, Cmdid: 2147483647}, Host: host("0.0.0.0", 1), Caller: 0, Succ: 5, Err: 5, TS: 150},
		}
		if err := db.UpsertCallStatus(ctx, rows); err != nil {
			t.Fatal(err)
		}
		newer := old
		newer.Err, newer.TS, newer.Overload = 40, 300, true
		if err := db.UpsertCallStatus(ctx, []CallStatus{newer}); err != nil {
			t.Fatal(err)
		}
		got, err := db.CallStatus(ctx, CallStatusFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if want := formatStatuses([]CallStatus{newer, rows[1], rows[2]}); formatStatuses(got) != want {
			t.Errorf("read back:\n%s\nwant:\n%s", formatStatuses(got), want)
		}
	})
}

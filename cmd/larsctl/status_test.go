package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// fixedNow makes status measure ages from the Unix time now until the test ends.
func fixedNow(t *testing.T, now int64) {
	t.Helper()
	statusNow = func() time.Time { return time.Unix(now, 0) }
	t.Cleanup(func() { statusNow = time.Now })
}

// insertStatus writes ServerCallStatus rows with plain SQL, as a report service (ours
// or Lars's) leaves them: each row "modid cmdid ip port caller succ err ts overload",
// ip and caller dotted.
func insertStatus(t *testing.T, db *store.DB, rows ...string) {
	t.Helper()
	for _, r := range rows {
		f := strings.Fields(r)
		ip, err1 := route.ParseWireIP(f[2])
		caller, err2 := route.ParseWireIP(f[4])
		if err1 != nil || err2 != nil {
			t.Fatalf("row %q: %v %v", r, err1, err2)
		}
		_, err := db.SQL().ExecContext(context.Background(),
			"INSERT INTO ServerCallStatus (modid, cmdid, ip, port, caller, succ_cnt, err_cnt, ts, overload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			f[0], f[1], uint32(ip), f[3], uint32(caller), f[5], f[6], f[7], f[8])
		if err != nil {
			t.Fatalf("row %q: %v", r, err)
		}
	}
}

func TestStatus(t *testing.T) {
	const now = 1700000000
	fixedNow(t, now)
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		code, out, errOut := routectl(dsn, nil, "status")
		check(t, code, out, errOut, 0, "KEY  HOST  CALLER  SUCC  ERR  ERR%  OVERLOADED  AGE\n0 reports, 0 overloaded\n")
		code, out, errOut = routectl(dsn, nil, "status", "-json")
		check(t, code, out, errOut, 0, "[]\n")

		insertStatus(t, db,
			fmt.Sprintf("1 1 10.0.1.1 8001 10.0.0.5 0 120 %d 1", now-2),
			fmt.Sprintf("1 1 10.0.1.2 8002 10.0.0.5 297 3 %d 0", now-2),
			fmt.Sprintf("1 1 10.0.1.1 8001 10.0.0.6 9 1 %d 0", now-185),
			fmt.Sprintf("1 2 255.255.255.255 65535 10.0.0.5 0 0 %d 0", now+3),
			fmt.Sprintf("2 1 10.0.2.1 8001 10.0.0.5 7 7 %d 1", now-7500),
			fmt.Sprintf("2147483647 7 10.0.2.1 8001 10.0.0.5 1 0 %d 0", now-3*86400-3600),
		)
		code, out, errOut = routectl(dsn, nil, "status")
		check(t, code, out, errOut, 0, ""+
			"KEY           HOST                   CALLER    SUCC  ERR  ERR%    OVERLOADED  AGE\n"+
			"1/2           255.255.255.255:65535  10.0.0.5  0     0    -       no          -3s\n"+
			"1/1           10.0.1.1:8001          10.0.0.5  0     120  100.0%  yes         2s\n"+
			"1/1           10.0.1.2:8002          10.0.0.5  297   3    1.0%    no          2s\n"+
			"1/1           10.0.1.1:8001          10.0.0.6  9     1    10.0%   no          3m05s\n"+
			"2/1           10.0.2.1:8001          10.0.0.5  7     7    50.0%   yes         2h05m\n"+
			"2147483647/7  10.0.2.1:8001          10.0.0.5  1     0    0.0%    no          3d01h\n"+
			"6 reports, 2 overloaded\n")
		code, out, errOut = routectl(dsn, nil, "status", "1", "1")
		check(t, code, out, errOut, 0, ""+
			"KEY  HOST           CALLER    SUCC  ERR  ERR%    OVERLOADED  AGE\n"+
			"1/1  10.0.1.1:8001  10.0.0.5  0     120  100.0%  yes         2s\n"+
			"1/1  10.0.1.2:8002  10.0.0.5  297   3    1.0%    no          2s\n"+
			"1/1  10.0.1.1:8001  10.0.0.6  9     1    10.0%   no          3m05s\n"+
			"3 reports, 1 overloaded\n")
		code, out, errOut = routectl(dsn, nil, "status", "2")
		check(t, code, out, errOut, 0, ""+
			"KEY  HOST           CALLER    SUCC  ERR  ERR%   OVERLOADED  AGE\n"+
			"2/1  10.0.2.1:8001  10.0.0.5  7     7    50.0%  yes         2h05m\n"+
			"1 report, 1 overloaded\n")

		code, out, errOut = routectl(dsn, nil, "status", "-json", "1")
		check(t, code, out, errOut, 0, "-")
		var got []jsonStatus
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("-json output %q: %v", out, err)
		}
		want := []jsonStatus{
			{1, 2, "255.255.255.255", 65535, "10.0.0.5", 0, 0, false, now + 3},
			{1, 1, "10.0.1.1", 8001, "10.0.0.5", 0, 120, true, now - 2},
			{1, 1, "10.0.1.2", 8002, "10.0.0.5", 297, 3, false, now - 2},
			{1, 1, "10.0.1.1", 8001, "10.0.0.6", 9, 1, false, now - 185},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("-json: %+v, want %+v", got, want)
		}
		for _, field := range []string{`"modid": 1`, `"ip": "10.0.1.1"`, `"caller": "10.0.0.6"`, `"overloaded": true`, `"succ": 297`, `"err": 120`, `"ts": 1699999998`} {
			if !strings.Contains(out, field) {
				t.Errorf("-json lacks %s:\n%s", field, out)
			}
		}

		code, out, errOut = routectl(dsn, nil, "status", "1", "3")
		check(t, code, out, errOut, exitNoExist, "KEY  HOST  CALLER  SUCC  ERR  ERR%  OVERLOADED  AGE\n0 reports, 0 overloaded\n")
		if errOut != "larsctl: status: 1/3 has no call status\n" {
			t.Errorf("stderr %q", errOut)
		}
		code, out, errOut = routectl(dsn, nil, "status", "-json", "3")
		check(t, code, out, errOut, exitNoExist, "[]\n")
		if errOut != "larsctl: status: modid 3 has no call status\n" {
			t.Errorf("stderr %q", errOut)
		}
	})
}

func TestStatusUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lars.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"status", "1", "2", "3"}, "larsctl status: want at most MODID CMDID, got 3 arguments"},
		{[]string{"status", "x"}, `larsctl status: modid "x" is not an integer in 0..2147483647`},
		{[]string{"status", "1", "--", "-1"}, `larsctl status: cmdid "-1" is not an integer in 0..2147483647`},
		{[]string{"status", "-yaml"}, "flag provided but not defined: -yaml"},
	} {
		code, out, errOut := routectl("sqlite:"+db, nil, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("larsctl %q: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
	code, _, errOut := routectl("", nil, "-h")
	if code != 0 || !strings.Contains(errOut, "status [MODID [CMDID]] [-json]") || !strings.Contains(errOut, "route list, status: none stored") {
		t.Errorf("-h: exit %d, does not describe status:\n%s", code, errOut)
	}
	code, _, errOut = routectl("", nil, "status", "-h")
	if code != 0 || !strings.Contains(errOut, "Usage: larsctl [global flags] status [MODID [CMDID]] [-json]") {
		t.Errorf("status -h: exit %d:\n%s", code, errOut)
	}
}

// TestStatusStoreUnreachable: a MySQL server that cannot be reached is exit 1 with one
// line, as for the route commands.
func TestStatusStoreUnreachable(t *testing.T) {
	port := closedPort(t)
	code, out, errOut := routectl(fmt.Sprintf("lars:S3cret@tcp(127.0.0.1:%d)/lars_dns", port), nil, "status")
	check(t, code, out, errOut, exitFailure, "")
	if !strings.HasPrefix(errOut, "larsctl: status: ") || strings.Contains(errOut, "S3cret") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestFormatAge(t *testing.T) {
	f := func(secs int64, want string) {
		t.Helper()
		if got := formatAge(secs); got != want {
			t.Errorf("formatAge(%d) = %q, want %q", secs, got, want)
		}
	}
	f(0, "0s")
	f(59, "59s")
	f(60, "1m00s")
	f(3599, "59m59s")
	f(3600, "1h00m")
	f(86399, "23h59m")
	f(86400, "1d00h")
	f(400*86400+5*3600, "400d05h")
	f(-61, "-1m01s")
}

func TestFormatErrRate(t *testing.T) {
	f := func(succ, errs uint32, want string) {
		t.Helper()
		if got := formatErrRate(succ, errs); got != want {
			t.Errorf("formatErrRate(%d, %d) = %q, want %q", succ, errs, got, want)
		}
	}
	f(0, 0, "-")
	f(1, 0, "0.0%")
	f(0, 1, "100.0%")
	f(2, 1, "33.3%")
	f(4294967295, 4294967295, "50.0%")
}

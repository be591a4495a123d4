package main

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// TestRouteListShowsRegistered: a host an instance registered is listed as registered,
// with the agent that registered it and its lease left by the database's clock; a host
// an operator wrote stays static beside it.
func TestRouteListShowsRegistered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		ctx := context.Background()
		k := route.Key{Modid: 7, Cmdid: 1}
		seed(t, db, map[route.Key][]route.Host{k: routeHosts("10.0.0.1:80")})
		if err := db.EnsureLeases(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Register(ctx, k, routeHosts("10.0.0.2:81")[0], "agent/web-1", time.Hour); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := routectl(dsn, nil, "route", "list", "7")
		check(t, code, out, errOut, 0, "-")
		want := regexp.MustCompile(`^MODID  CMDID  HOST         SOURCE      OWNER        LEASE\n` +
			`7      1      10.0.0.1:80  static      -            -\n` +
			`7      1      10.0.0.2:81  registered  agent/web-1  (59m5\d|1h0m0)[.0-9]*s\n` +
			`1 keys, 2 hosts \(1 registered\)\n$`)
		if !want.MatchString(out) {
			t.Errorf("route list:\n%s", out)
		}
		code, out, errOut = routectl(dsn, nil, "route", "list", "-json")
		check(t, code, out, errOut, 0, "-")
		var got []jsonRoute
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("-json output %q: %v", out, err)
		}
		if len(got) != 1 || len(got[0].Hosts) != 2 {
			t.Fatalf("-json: %+v", got)
		}
		static, reg := got[0].Hosts[0], got[0].Hosts[1]
		if static.Source != "static" || static.Owner != "" || static.LeaseLeftMs != nil {
			t.Errorf("static host in -json: %+v", static)
		}
		if reg.Source != "registered" || reg.Owner != "agent/web-1" || reg.LeaseLeftMs == nil ||
			*reg.LeaseLeftMs <= 50*60*1000 || *reg.LeaseLeftMs > 60*60*1000 {
			t.Errorf("registered host in -json: %+v", reg)
		}

		code, out, errOut = routectl(dsn, nil, "route", "history", "7", "1", "-n", "1")
		check(t, code, out, errOut, 0, "-")
		if !regexp.MustCompile(`agent/web-1\s+register\s+7/1\s+10\.0\.0\.1:80\s+10\.0\.0\.1:80 10\.0\.0\.2:81\n`).MatchString(out) {
			t.Errorf("route history after a registration:\n%s", out)
		}

		// An operator removes the registered host, then writes it again: it is static
		// now (the removal's tombstone is not a lease).
		checkWrite(t, dsn, db, "deleted 10.0.0.2:81 from 7/1", "route", "del", "7", "1", "10.0.0.2", "81")
		checkWrite(t, dsn, db, "added 10.0.0.2:81 to 7/1", "route", "add", "7", "1", "10.0.0.2", "81")
		code, out, errOut = routectl(dsn, nil, "route", "list", "7", "1")
		check(t, code, out, errOut, 0, ""+
			"MODID  CMDID  HOST         SOURCE  OWNER  LEASE\n"+
			"7      1      10.0.0.1:80  static  -      -\n"+
			"7      1      10.0.0.2:81  static  -      -\n"+
			"1 keys, 2 hosts (0 registered)\n")
	})
}

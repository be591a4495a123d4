package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

// TestDBFileAndEnvironment: the route commands find the store in -db-file's first
// line, or in $LARS_DB when no flag or conf file names one; -db with -db-file is a
// usage error.
func TestDBFileAndEnvironment(t *testing.T) {
	fromFile, fromEnv := storetest.SQLiteDSN(t), storetest.SQLiteDSN(t)
	file := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(file, []byte(fromFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LARS_DB", fromEnv)
	code, out, errOut := routectl("", nil, "-db-file", file, "route", "add", "1", "2", "10.0.0.1", "80")
	check(t, code, out, errOut, 0, "-")
	code, out, errOut = routectl("", nil, "route", "add", "3", "4", "10.0.0.2", "81")
	check(t, code, out, errOut, 0, "-")
	if got := routesOf(t, openStore(t, fromFile)); !equalRoutes(got, map[route.Key][]route.Host{{Modid: 1, Cmdid: 2}: routeHosts("10.0.0.1:80")}) {
		t.Errorf("the -db-file store: %v", got)
	}
	if got := routesOf(t, openStore(t, fromEnv)); !equalRoutes(got, map[route.Key][]route.Host{{Modid: 3, Cmdid: 4}: routeHosts("10.0.0.2:81")}) {
		t.Errorf("the $LARS_DB store: %v", got)
	}
	code, out, errOut = routectl("", nil, "-db", fromFile, "-db-file", file, "route", "list")
	check(t, code, out, errOut, exitUsage, "")
}

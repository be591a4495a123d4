package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// routectl runs larsctl with -db dsn (none when dsn is "") and stdin, and returns its
// exit code, stdout and stderr.
func routectl(dsn string, stdin io.Reader, args ...string) (int, string, string) {
	if dsn != "" {
		args = append([]string{"-db", dsn}, args...)
	}
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code := runWithStdin(args, stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

// openStore opens dsn for the test to look at, closed when the test ends.
func openStore(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// routesOf returns every route of db.
func routesOf(t *testing.T, db *store.DB) map[route.Key][]route.Host {
	t.Helper()
	routes, err := db.AllRoutes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

func routeHost(s string) route.Host {
	h, err := route.ParseHostText(s)
	if err != nil {
		panic(err)
	}
	return h
}

func routeHosts(s ...string) []route.Host {
	var hs []route.Host
	for _, x := range s {
		hs = append(hs, routeHost(x))
	}
	return hs
}

// equalRoutes reports whether a and b hold the same host sets.
func equalRoutes(a, b map[route.Key][]route.Host) bool {
	return maps.EqualFunc(a, b, func(x, y []route.Host) bool { return slices.Equal(sortedHosts(x), sortedHosts(y)) })
}

var versionLine = regexp.MustCompile(`^(.*) \(version (\d+)\)\n$`)

// checkWrite runs a route write and checks its one line of output: want followed by
// " (version N)" with N the store's version and greater than after the previous
// write, or exactly want for "no change" lines.
func checkWrite(t *testing.T, dsn string, db *store.DB, want string, args ...string) {
	t.Helper()
	before, err := db.Stamp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := routectl(dsn, nil, args...)
	if code != 0 || errOut != "" {
		t.Fatalf("%q: exit %d, stderr %q", args, code, errOut)
	}
	if strings.HasPrefix(want, "no change") {
		if out != want+"\n" {
			t.Fatalf("%q: stdout %q, want %q", args, out, want+"\n")
		}
		if after, _ := db.Stamp(context.Background()); after != before {
			t.Fatalf("%q: stamp moved from %+v to %+v without a change", args, before, after)
		}
		return
	}
	m := versionLine.FindStringSubmatch(out)
	if m == nil || m[1] != want {
		t.Fatalf("%q: stdout %q, want %q and the version", args, out, want)
	}
	after, err := db.Stamp(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := strconv.ParseUint(m[2], 10, 64); v != after.Version || v <= before.Version {
		t.Fatalf("%q: printed version %d; store version %d, before %d", args, v, after.Version, before.Version)
	}
}

func TestRouteWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		k := route.Key{Modid: 1, Cmdid: 1}
		other := route.Key{Modid: 2, Cmdid: 7}
		step := func(want string, wantRoutes map[route.Key][]route.Host, args ...string) {
			t.Helper()
			checkWrite(t, dsn, db, want, args...)
			if got := routesOf(t, db); !equalRoutes(got, wantRoutes) {
				t.Fatalf("after %q the store holds %v, want %v", args, got, wantRoutes)
			}
		}
		step("added 10.0.0.1:9000 to 1/1", map[route.Key][]route.Host{k: routeHosts("10.0.0.1:9000")},
			"route", "add", "1", "1", "10.0.0.1", "9000")
		step("no change: 1/1 already has 10.0.0.1:9000", map[route.Key][]route.Host{k: routeHosts("10.0.0.1:9000")},
			"route", "add", "1", "1", "10.0.0.1", "9000")
		step("added 200.1.2.3:80 to 2/7", map[route.Key][]route.Host{k: routeHosts("10.0.0.1:9000"), other: routeHosts("200.1.2.3:80")},
			"route", "add", "2", "7", "200.1.2.3", "80")
		step("set 1/1 to 3 hosts", map[route.Key][]route.Host{k: routeHosts("10.0.0.2:1", "10.0.0.1:9000", "255.255.255.255:65535"), other: routeHosts("200.1.2.3:80")},
			"route", "set", "1", "1", "10.0.0.2:1", "10.0.0.1:9000", "255.255.255.255:65535", "10.0.0.2:1")
		step("no change: 1/1 already has exactly 3 hosts", map[route.Key][]route.Host{k: routeHosts("10.0.0.2:1", "10.0.0.1:9000", "255.255.255.255:65535"), other: routeHosts("200.1.2.3:80")},
			"route", "set", "1", "1", "255.255.255.255:65535", "10.0.0.1:9000", "10.0.0.2:1")
		step("deleted 10.0.0.1:9000 from 1/1", map[route.Key][]route.Host{k: routeHosts("10.0.0.2:1", "255.255.255.255:65535"), other: routeHosts("200.1.2.3:80")},
			"route", "del", "1", "1", "10.0.0.1", "9000")
		step("no change: 1/1 does not have 10.0.0.1:9000", map[route.Key][]route.Host{k: routeHosts("10.0.0.2:1", "255.255.255.255:65535"), other: routeHosts("200.1.2.3:80")},
			"route", "del", "1", "1", "10.0.0.1", "9000")
		step("set 1/1 to 1 host", map[route.Key][]route.Host{k: routeHosts("10.0.0.3:3"), other: routeHosts("200.1.2.3:80")},
			"route", "set", "1", "1", "10.0.0.3:3")
		step("dropped 1/1", map[route.Key][]route.Host{other: routeHosts("200.1.2.3:80")},
			"route", "drop", "1", "1")
		step("no change: 1/1 has no hosts", map[route.Key][]route.Host{other: routeHosts("200.1.2.3:80")},
			"route", "drop", "1", "1")
		step("deleted 200.1.2.3:80 from 2/7", map[route.Key][]route.Host{},
			"route", "del", "2", "7", "200.1.2.3", "80")
	})
}

// seed writes routes to the store of dsn.
func seed(t *testing.T, db *store.DB, routes map[route.Key][]route.Host) {
	t.Helper()
	if _, err := db.ReplaceKeys(context.Background(), routes); err != nil {
		t.Fatal(err)
	}
}

func TestRouteList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		code, out, errOut := routectl(dsn, nil, "route", "list")
		check(t, code, out, errOut, 0, "MODID  CMDID  HOST  SOURCE  OWNER  LEASE\n0 keys, 0 hosts (0 registered)\n")
		code, out, errOut = routectl(dsn, nil, "route", "list", "-json")
		check(t, code, out, errOut, 0, "[]\n")

		seed(t, db, map[route.Key][]route.Host{
			{Modid: 10, Cmdid: 2}:          routeHosts("192.168.0.1:80", "10.0.0.2:80", "10.0.0.2:79"),
			{Modid: 10, Cmdid: 1}:          routeHosts("10.0.0.9:1"),
			{Modid: 2147483647, Cmdid: 0}:  routeHosts("1.2.3.4:5"),
			{Modid: 9, Cmdid: 2147483647}:  routeHosts("127.0.0.1:8080"),
			{Modid: 10, Cmdid: 1000000000}: routeHosts("10.0.0.1:65535"),
		})
		code, out, errOut = routectl(dsn, nil, "route", "list")
		check(t, code, out, errOut, 0, ""+
			"MODID       CMDID       HOST            SOURCE  OWNER  LEASE\n"+
			"9           2147483647  127.0.0.1:8080  static  -      -\n"+
			"10          1           10.0.0.9:1      static  -      -\n"+
			"10          2           10.0.0.2:79     static  -      -\n"+
			"10          2           10.0.0.2:80     static  -      -\n"+
			"10          2           192.168.0.1:80  static  -      -\n"+
			"10          1000000000  10.0.0.1:65535  static  -      -\n"+
			"2147483647  0           1.2.3.4:5       static  -      -\n"+
			"5 keys, 7 hosts (0 registered)\n")
		code, out, errOut = routectl(dsn, nil, "route", "list", "10")
		check(t, code, out, errOut, 0, ""+
			"MODID  CMDID       HOST            SOURCE  OWNER  LEASE\n"+
			"10     1           10.0.0.9:1      static  -      -\n"+
			"10     2           10.0.0.2:79     static  -      -\n"+
			"10     2           10.0.0.2:80     static  -      -\n"+
			"10     2           192.168.0.1:80  static  -      -\n"+
			"10     1000000000  10.0.0.1:65535  static  -      -\n"+
			"3 keys, 5 hosts (0 registered)\n")
		code, out, errOut = routectl(dsn, nil, "route", "list", "-json", "10", "2")
		check(t, code, out, errOut, 0, "-")
		var got []jsonRoute
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("-json output %q: %v", out, err)
		}
		want := []jsonRoute{{Modid: 10, Cmdid: 2, Hosts: []jsonHost{{IP: "10.0.0.2", Port: 79, Source: "static"},
			{IP: "10.0.0.2", Port: 80, Source: "static"}, {IP: "192.168.0.1", Port: 80, Source: "static"}}}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("-json: %+v, want %+v", got, want)
		}
		if !strings.Contains(out, `"ip": "192.168.0.1"`) || !strings.Contains(out, `"modid": 10`) {
			t.Errorf("-json field names:\n%s", out)
		}
		code, out, errOut = routectl(dsn, nil, "route", "list", "10", "3")
		check(t, code, out, errOut, exitNoExist, "MODID  CMDID  HOST  SOURCE  OWNER  LEASE\n0 keys, 0 hosts (0 registered)\n")
		if errOut != "larsctl: route list: 10/3 has no hosts\n" {
			t.Errorf("stderr %q", errOut)
		}
		code, out, errOut = routectl(dsn, nil, "route", "list", "-json", "11")
		check(t, code, out, errOut, exitNoExist, "[]\n")
	})
}

func TestRouteImportExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		const example = "../../examples/routes.txt"
		f, err := os.Open(example)
		if err != nil {
			t.Fatal(err)
		}
		want, err := route.ParseRoutes(f, example)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		db := openStore(t, dsn)
		kept := map[route.Key][]route.Host{{Modid: 5000, Cmdid: 1}: routeHosts("10.9.9.9:99")}
		seed(t, db, kept)
		seed(t, db, map[route.Key][]route.Host{{Modid: 1, Cmdid: 1}: routeHosts("10.9.9.9:99")}) // replaced

		code, out, errOut := routectl(dsn, nil, "route", "import", example)
		check(t, code, out, errOut, 0, "-")
		m := versionLine.FindStringSubmatch(out)
		wantLine := fmt.Sprintf("imported %s: %d of %d keys changed", example, len(want), len(want))
		if m == nil || m[1] != wantLine {
			t.Fatalf("stdout %q, want %q (version N)", out, wantLine)
		}
		all := maps.Clone(want)
		maps.Copy(all, kept)
		if got := routesOf(t, db); !equalRoutes(got, all) {
			t.Fatalf("after import the store has %d keys, want %d", len(got), len(all))
		}

		code, exported, errOut := routectl(dsn, nil, "route", "export")
		check(t, code, exported, errOut, 0, "-")
		if !strings.HasPrefix(exported, "# Lars routes, one per line: modid cmdid ip port (102 keys, 1101 hosts)\n1 1 10.0.1.1 8001\n") {
			t.Errorf("export starts %q", exported[:min(len(exported), 200)])
		}
		back, err := route.ParseRoutes(strings.NewReader(exported), "export")
		if err != nil || !equalRoutes(back, all) {
			t.Fatalf("export does not read back as the store's routes (%v)", err)
		}

		// Importing the export again changes nothing, from a file or stdin.
		code, out, errOut = routectl(dsn, strings.NewReader(exported), "route", "import", "-")
		check(t, code, out, errOut, 0, "no change: the 102 keys of stdin already have these hosts\n")

		// Round trip into an empty store: the same export.
		fresh := storetest.SQLiteDSN(t)
		code, out, errOut = routectl(fresh, strings.NewReader(exported), "route", "import", "-")
		check(t, code, out, errOut, 0, "-")
		if !strings.HasPrefix(out, "imported stdin: 102 of 102 keys changed (version ") {
			t.Errorf("stdout %q", out)
		}
		code, out, errOut = routectl(fresh, nil, "route", "export")
		check(t, code, out, errOut, 0, exported)

		// An empty file changes nothing; a bad one changes nothing and says where.
		empty := filepath.Join(t.TempDir(), "empty.txt")
		os.WriteFile(empty, []byte("# nothing\n"), 0o644)
		code, out, errOut = routectl(dsn, nil, "route", "import", empty)
		check(t, code, out, errOut, 0, "no change: "+empty+" has no routes\n")
		for text, wantErr := range map[string]string{
			"1 1 10.0.0.1 80\n1 1 10.0.0.1 0x50\n": "larsctl: route import: bad routes file stdin line 2: bad host: port \"0x50\" is not in 1..65535\n",
			"1 -1 10.0.0.1 80\n":                   "larsctl: route import: bad routes file stdin line 1: cmdid \"-1\" is not an integer in 0..2147483647\n",
			"1 1 ::1 80 weight=0\n":                "larsctl: route import: bad routes file stdin line 1: bad host: weight \"0\" is not in 1..10000\n",
		} {
			code, out, errOut = routectl(dsn, strings.NewReader(text), "route", "import", "-")
			check(t, code, out, errOut, exitFailure, "")
			if errOut != wantErr {
				t.Errorf("import %q: stderr %q, want %q", text, errOut, wantErr)
			}
		}
		code, out, errOut = routectl(dsn, nil, "route", "import", filepath.Join(t.TempDir(), "missing.txt"))
		check(t, code, out, errOut, exitFailure, "")
		if got := routesOf(t, db); !equalRoutes(got, all) {
			t.Fatal("a failed import changed the store")
		}
	})
}

// closedPort returns a loopback TCP port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestRouteStoreUnreachable: a MySQL server that cannot be reached is exit 1 with one
// line naming it, without its password, whether -db or -config names it.
func TestRouteStoreUnreachable(t *testing.T) {
	const password = "S3cretPassw0rd"
	port := closedPort(t)
	dsn := fmt.Sprintf("lars:%s@tcp(127.0.0.1:%d)/lars_dns", password, port)
	conf := filepath.Join(t.TempDir(), "lars_dns.conf")
	os.WriteFile(conf, fmt.Appendf(nil, "[mysql]\ndb_host = 127.0.0.1\ndb_port = %d\ndb_user = lars\ndb_passwd = %s\ndb_name = lars_dns\n", port, password), 0o644)
	for _, args := range [][]string{
		{"-db", dsn, "route", "list"},
		{"-db", dsn, "route", "add", "1", "1", "10.0.0.1", "80"},
		{"-db", "mysql:" + dsn, "route", "export"},
		{"-config", conf, "route", "drop", "1", "1"},
	} {
		code, out, errOut := routectl("", nil, args...)
		check(t, code, out, errOut, exitFailure, "")
		if strings.Contains(errOut, password) || !strings.Contains(errOut, fmt.Sprintf("127.0.0.1:%d", port)) ||
			!strings.HasPrefix(errOut, "larsctl: route ") {
			t.Errorf("%q: stderr %q", args, errOut)
		}
	}
}

func TestRouteConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// -db given wins over -config, which then only has to parse.
	noMySQL := write("reactor.conf", "[reactor]\nip = 127.0.0.1\nport = 7778\n")
	sqlite := storetest.SQLiteDSN(t)
	code, out, errOut := routectl("", nil, "-config", noMySQL, "-db", sqlite, "route", "add", "1", "2", "10.0.0.1", "80")
	check(t, code, out, errOut, 0, "-")
	if got := routesOf(t, openStore(t, sqlite)); !equalRoutes(got, map[route.Key][]route.Host{{Modid: 1, Cmdid: 2}: routeHosts("10.0.0.1:80")}) {
		t.Fatalf("store %v", got)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-config", noMySQL, "route", "list"}, "larsctl: -config " + noMySQL + ": no [mysql] section to name the route store; give -db\n"},
		{[]string{"-config", write("bad.conf", "[mysql]\ndb_port = 33o6\ndb_passwd = hunter22\n"), "route", "list"},
			"larsctl: -config: lars conf " + dir + "/bad.conf: [mysql] db_port = \"33o6\": not a port number (1..65535)\n"},
		{[]string{"-config", filepath.Join(dir, "missing.conf"), "-db", sqlite, "route", "list"}, "larsctl: -config: cannot read lars conf: open " + dir + "/missing.conf: no such file or directory\n"},
	} {
		code, out, errOut := routectl("", nil, tc.args...)
		check(t, code, out, errOut, exitUsage, "")
		if errOut != tc.want {
			t.Errorf("%q: stderr %q, want %q", tc.args, errOut, tc.want)
		}
	}

	// The [mysql] section of a conf file names a real server.
	storetest.Each(t, func(t *testing.T, dsn string) {
		cfg, ok := mysqlConfigOf(dsn)
		if !ok {
			t.Skip("a Lars conf file names a MySQL server, not a SQLite file: the sqlite case is the -db test above")
		}
		host, port, _ := net.SplitHostPort(cfg.Addr)
		conf := write("lars_dns.conf", "[reactor]\nip = 127.0.0.1\nport = 7778\nmaxConn = 1024\nthreadNum = 5\n\n[mysql]\n"+
			"db_host = "+host+"\ndb_port = "+port+"\ndb_user = "+cfg.User+"\ndb_passwd = "+cfg.Passwd+"\ndb_name = "+cfg.DBName+"\n")
		checkWrite(t, "", openStore(t, dsn), "added 10.1.1.1:8080 to 3/4", "-config", conf, "route", "add", "3", "4", "10.1.1.1", "8080")
		code, out, errOut := routectl("", nil, "-config", conf, "route", "list")
		check(t, code, out, errOut, 0, "MODID  CMDID  HOST           SOURCE  OWNER  LEASE\n3      4      10.1.1.1:8080  static  -      -\n1 keys, 1 host (0 registered)\n")
	})
}

func TestRouteUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lars.db")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"route"}, "larsctl route: no subcommand"},
		{[]string{"route", "frob"}, `larsctl route: unknown subcommand "frob"`},
		{[]string{"route", "add", "1", "1", "10.0.0.1"}, "larsctl route add: want 4 arguments, got 3"},
		{[]string{"route", "add", "-1", "1", "10.0.0.1", "80"}, "flag provided but not defined: -1"},
		{[]string{"route", "add", "1", "--", "-1", "10.0.0.1", "80"}, `larsctl route add: cmdid "-1" is not an integer in 0..2147483647`},
		{[]string{"route", "add", "1", "2147483648", "10.0.0.1", "80"}, `larsctl route add: cmdid "2147483648" is not an integer in 0..2147483647`},
		{[]string{"route", "add", "1", "1", "::1%eth0", "80"}, `larsctl route add: bad host: IP "::1%eth0" has an IPv6 scope`},
		{[]string{"route", "add", "1", "1", "10.0.0.256", "80"}, `IP "10.0.0.256" is not an IPv4 or IPv6 address`},
		{[]string{"route", "add", "1", "1", "host.example", "80"}, `IP "host.example" is not an IPv4 or IPv6 address`},
		{[]string{"route", "del", "1", "1", "10.0.0.1", "0"}, `larsctl route del: bad host: port "0" is not in 1..65535`},
		{[]string{"route", "del", "1", "1", "10.0.0.1", "65536"}, `port "65536" is not in 1..65535`},
		{[]string{"route", "set", "1", "1"}, "larsctl route set: want MODID CMDID and at least one IP:PORT (route drop removes every host), got 2 arguments"},
		{[]string{"route", "set", "1", "1", "10.0.0.1"}, `larsctl route set: bad host: "10.0.0.1" is not IP:PORT`},
		{[]string{"route", "set", "1", "1", "[::1]:80;weight=0"}, `weight "0" is not in 1..10000`},
		{[]string{"route", "drop", "1"}, "larsctl route drop: want 2 arguments, got 1"},
		{[]string{"route", "list", "1", "2", "3"}, "larsctl route list: want at most MODID CMDID, got 3 arguments"},
		{[]string{"route", "list", "x"}, `larsctl route list: modid "x" is not an integer in 0..2147483647`},
		{[]string{"route", "list", "-yaml"}, "flag provided but not defined: -yaml"},
		{[]string{"route", "import"}, "larsctl route import: want 1 arguments, got 0"},
		{[]string{"route", "export", "x"}, "larsctl route export: want 0 arguments, got 1"},
		{[]string{"-db", "", "route", "list"}, "larsctl: -db: empty database address"},
		{[]string{"-db", "sqlite:", "route", "list"}, "larsctl: -db: invalid database address sqlite:: sqlite database address names no file"},
		{[]string{"-db", "lars:pw@tcp(127.0.0.1:3306)", "route", "list"}, "missing the slash"},
		{[]string{"-db", "lars:pw@tcp(127.0.0.1:3306)/", "route", "list"}, "larsctl: -db: invalid database address lars:xxxxx@tcp(127.0.0.1:3306)/: names no database"},
	} {
		args := tc.args
		if args[0] != "-db" {
			args = append([]string{"-db", "sqlite:" + db}, args...)
		}
		code, _, errOut := routectl("", nil, args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("larsctl %q: exit %d, stderr:\n%s\nwant exit 2 and %q", args, code, errOut, tc.want)
		}
		if strings.Contains(errOut, ":pw@") {
			t.Errorf("larsctl %q shows the password: %s", args, errOut)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("bad usage created the store: %v", err)
	}
}

func TestRouteHelp(t *testing.T) {
	code, out, errOut := routectl("", nil, "-h")
	if code != 0 || out != "" {
		t.Fatalf("-h: exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"-db DSN", "sqlite:lars.db", "-config file", "route list [MODID [CMDID]] [-json]",
		"route add [-weight N] [-zone NAME] MODID CMDID IP PORT", "route del MODID CMDID IP PORT",
		"route set [-weight N] [-zone NAME] MODID CMDID IP:PORT[;weight=N][;zone=NAME]...",
		"route drop MODID CMDID", "route import FILE", "route export", "-json"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("-h does not mention %q", want)
		}
	}
	for _, args := range [][]string{{"route", "-h"}, {"route", "list", "-h"}} {
		code, _, errOut = routectl("", nil, args...)
		if code != 0 || !strings.Contains(errOut, "route list [MODID [CMDID]]") {
			t.Errorf("%q: exit %d:\n%s", args, code, errOut)
		}
	}
}

// mysqlConfigOf parses a MySQL DSN; ok is false for a sqlite: one.
func mysqlConfigOf(dsn string) (*mysql.Config, bool) {
	if strings.HasPrefix(dsn, "sqlite:") {
		return nil, false
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql:"))
	return cfg, err == nil
}

func TestRouteHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		for _, args := range [][]string{
			{"route", "add", "4", "1", "10.0.0.1", "80"},
			{"route", "set", "4", "1", "10.0.0.2:81", "10.0.0.1:80"},
			{"route", "add", "4", "2", "10.0.0.3", "82"},
			{"route", "drop", "4", "1"},
		} {
			if code, _, errOut := routectl(dsn, nil, args...); code != 0 {
				t.Fatalf("%q: exit %d: %s", args, code, errOut)
			}
		}
		code, out, errOut := routectl(dsn, nil, "route", "history", "4", "1")
		if code != 0 {
			t.Fatalf("route history: exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		who := larsctlWho()
		want := []string{
			`^ID +TIME +WHO +OP +KEY +BEFORE +AFTER$`,
			`^\d+ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +` + regexp.QuoteMeta(who) + ` +drop key +4/1 +10\.0\.0\.1:80 10\.0\.0\.2:81 +-$`,
			`^\d+ +.* +set hosts +4/1 +10\.0\.0\.1:80 +10\.0\.0\.1:80 10\.0\.0\.2:81$`,
			`^\d+ +.* +add host +4/1 +- +10\.0\.0\.1:80$`,
			`^3 writes$`,
		}
		if len(lines) != len(want) {
			t.Fatalf("route history 4 1:\n%s", out)
		}
		for i, re := range want {
			if !regexp.MustCompile(re).MatchString(lines[i]) {
				t.Errorf("line %d %q does not match %s", i, lines[i], re)
			}
		}
		if !strings.HasPrefix(who, "larsctl ") || !strings.Contains(who, "@") {
			t.Errorf("who %q, want larsctl USER@HOST", who)
		}
		code, out, _ = routectl(dsn, nil, "route", "history", "-n", "1")
		if code != 0 || !strings.Contains(out, "drop key  4/1") || !strings.HasSuffix(out, "\n1 write\n") {
			t.Errorf("route history -n 1: exit %d:\n%s", code, out)
		}
		for _, args := range [][]string{{"route", "history", "-n", "0"}, {"route", "history", "x"}, {"route", "history", "1", "2", "3"}} {
			if code, _, _ := routectl(dsn, nil, args...); code != exitUsage {
				t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
			}
		}
	})
}

func TestRouteWeightsZonesIPv6(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		file := "1 1 10.0.0.1 80 weight=200 zone=eu\n1 1 2001:db8::1 443 zone=us\n1 1 10.0.0.2 80\n"
		code, out, errOut := routectl(dsn, strings.NewReader(file), "route", "import", "-")
		check(t, code, out, errOut, 0, "-")
		code, out, errOut = routectl(dsn, nil, "route", "export")
		want := "# Lars routes, one per line: modid cmdid ip port (1 keys, 3 hosts)\n" +
			"1 1 10.0.0.1 80 weight=200 zone=eu\n1 1 10.0.0.2 80\n1 1 2001:db8::1 443 zone=us\n"
		check(t, code, out, errOut, 0, want)
		code, out, errOut = routectl(dsn, nil, "route", "add", "1", "1", "2001:db8::2", "80")
		check(t, code, out, errOut, 0, "-")
		code, out, errOut = routectl(dsn, nil, "route", "set", "2", "1", "[2001:db8::3]:80;weight=5", "10.0.0.3:80;zone=a")
		check(t, code, out, errOut, 0, "-")
		code, out, errOut = routectl(dsn, nil, "route", "list", "2", "-json")
		check(t, code, out, errOut, 0, "-")
		var got []jsonRoute
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		wantJSON := []jsonRoute{{Modid: 2, Cmdid: 1, Hosts: []jsonHost{{IP: "10.0.0.3", Port: 80, Zone: "a", Source: "static"},
			{IP: "2001:db8::3", Port: 80, Weight: 5, Source: "static"}}}}
		if fmt.Sprint(got) != fmt.Sprint(wantJSON) {
			t.Errorf("route list -json: %+v, want %+v", got, wantJSON)
		}
		routes := routesOf(t, openStore(t, dsn))
		if s := route.FormatHostList(routes[route.Key{Modid: 1, Cmdid: 1}]); s != "10.0.0.1:80;weight=200;zone=eu 10.0.0.2:80 [2001:db8::1]:443;zone=us [2001:db8::2]:80" {
			t.Errorf("1/1: %s", s)
		}
	})
}

func TestRouteAddSetWeightZoneFlags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		k := route.Key{Modid: 3, Cmdid: 1}
		checkWrite(t, dsn, db, "added 10.0.0.1:80;weight=300;zone=eu-1 to 3/1", "route", "add", "-weight", "300", "-zone", "eu-1", "3", "1", "10.0.0.1", "80")
		// The same address again is the host as given now: weight 50, no zone.
		checkWrite(t, dsn, db, "added 10.0.0.1:80;weight=50 to 3/1", "route", "add", "-weight", "50", "3", "1", "10.0.0.1", "80")
		if s := route.FormatHostList(routesOf(t, db)[k]); s != "10.0.0.1:80;weight=50" {
			t.Fatalf("after the weight change: %s", s)
		}
		// set: the flags fill in hosts that name no weight or zone of their own.
		checkWrite(t, dsn, db, "set 3/1 to 2 hosts", "route", "set", "-weight", "20", "-zone", "us", "3", "1", "[2001:db8::1]:80", "10.0.0.2:80;weight=7")
		if s := route.FormatHostList(routesOf(t, db)[k]); s != "10.0.0.2:80;weight=7;zone=us [2001:db8::1]:80;weight=20;zone=us" {
			t.Fatalf("after set: %s", s)
		}
		for _, args := range [][]string{
			{"route", "add", "-weight", "10001", "3", "1", "10.0.0.1", "80"},
			{"route", "add", "-zone", "a b", "3", "1", "10.0.0.1", "80"},
			{"route", "set", "-zone", "x/y", "3", "1", "10.0.0.1:80"},
		} {
			if code, _, _ := routectl(dsn, nil, args...); code != exitUsage {
				t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
			}
		}
	})
}

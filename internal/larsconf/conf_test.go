package larsconf

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestLoadExample(t *testing.T) {
	c, err := Load("../../examples/lars_dns.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := Reactor{Present: true, IP: "127.0.0.1", Port: 7778, MaxConn: 1024, ThreadNum: 5}
	if c.Reactor != want {
		t.Errorf("reactor %+v, want %+v", c.Reactor, want)
	}
	if addr, ok := c.ListenAddr(); !ok || addr != "127.0.0.1:7778" {
		t.Errorf("ListenAddr %q %v", addr, ok)
	}
	dsn, ok := c.DSN()
	if !ok || dsn != "lars:lars@tcp(127.0.0.1:3306)/lars_dns" {
		t.Errorf("DSN %q %v", dsn, ok)
	}
	if c.Reporter.Present || c.Has(SectionReporter, "db_thread_cnt") {
		t.Errorf("reporter %+v present", c.Reporter)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, text string
		want       Conf // compared without Name and keys
		dsn        string
		listen     string
	}{
		{name: "empty"},
		{
			name: "lars_reporter.conf",
			text: "[reactor]\nip = 0.0.0.0\nport = 7779\nmaxConn = 1024\nthreadNum = 0\n\n" +
				"[mysql]\ndb_host = db.example.com\ndb_port = 3307\ndb_user = reporter\ndb_passwd = p@ss:w/rd#1\ndb_name = lars\n\n" +
				"[repoter]\ndb_thread_cnt = 3\n",
			want: Conf{
				Reactor:  Reactor{Present: true, IP: "0.0.0.0", Port: 7779, MaxConn: 1024},
				MySQL:    MySQL{Present: true, Host: "db.example.com", Port: 3307, User: "reporter", Password: "p@ss:w/rd#1", Name: "lars"},
				Reporter: Reporter{Present: true, DBThreadCnt: 3},
			},
			dsn:    "reporter:p@ss:w/rd#1@tcp(db.example.com:3307)/lars",
			listen: "0.0.0.0:7779",
		},
		{
			name:   "defaults",
			text:   "[mysql]\n[reactor]\nport=1\n",
			want:   Conf{MySQL: MySQL{Present: true}, Reactor: Reactor{Present: true, Port: 1}},
			dsn:    "root@tcp(127.0.0.1:3306)/lars_dns",
			listen: "127.0.0.1:1",
		},
		{
			name: "ipv6 and spacing",
			text: "  ; comment\r\n[reactor]\r\n  ip=::1\r\n\tport :  7778  \r\n[mysql]\ndb_host=::1\ndb_passwd = \"quoted\" \n",
			want: Conf{
				Reactor: Reactor{Present: true, IP: "::1", Port: 7778},
				MySQL:   MySQL{Present: true, Host: "::1", Password: `"quoted"`},
			},
			dsn:    `root:"quoted"@tcp([::1]:3306)/lars_dns`,
			listen: "[::1]:7778",
		},
		{
			name: "unknown sections and keys ignored",
			text: "top = 1\n[reactor]\nfoo = bar\nMaxConn = x\n[reporter]\ndb_thread_cnt = x\n[repoter]\n",
			want: Conf{Reactor: Reactor{Present: true}, Reporter: Reporter{Present: true}},
		},
		{
			name:   "last value wins",
			text:   "[reactor]\nport = 1\nport = 2\n",
			want:   Conf{Reactor: Reactor{Present: true, Port: 2}},
			listen: "127.0.0.1:2",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.text), "x.conf")
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "x.conf" || c.Reactor != tc.want.Reactor || c.MySQL != tc.want.MySQL || c.Reporter != tc.want.Reporter {
				t.Errorf("got %+v %+v %+v, want %+v %+v %+v", c.Reactor, c.MySQL, c.Reporter, tc.want.Reactor, tc.want.MySQL, tc.want.Reporter)
			}
			dsn, ok := c.DSN()
			if dsn != tc.dsn || ok != (tc.dsn != "") {
				t.Errorf("DSN %q %v, want %q", dsn, ok, tc.dsn)
			}
			if ok {
				checkRoundTrip(t, c, dsn)
			}
			addr, ok := c.ListenAddr()
			if addr != tc.listen || ok != (tc.listen != "") {
				t.Errorf("ListenAddr %q %v, want %q", addr, ok, tc.listen)
			}
		})
	}
}

func TestHas(t *testing.T) {
	c, err := Parse([]byte("[reactor]\nthreadNum = 0\nip =\n[repoter]\ndb_thread_cnt=2\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		section, key string
		want         bool
	}{
		{SectionReactor, "threadNum", true},
		{SectionReactor, "maxConn", false},
		{SectionReactor, "ip", false}, // empty is absent
		{SectionReporter, "db_thread_cnt", true},
		{SectionMySQL, "db_host", false},
	} {
		if got := c.Has(tc.section, tc.key); got != tc.want {
			t.Errorf("Has(%q, %q) = %v", tc.section, tc.key, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const secret = "Sup3rS3cret"
	cases := []struct{ text, want string }{
		{"[reactor]\nport = 77a\n", `lars conf bad.conf: [reactor] port = "77a": not a port number (1..65535)`},
		{"[reactor]\nport = 0\n", `[reactor] port = "0"`},
		{"[reactor]\nport = 65536\n", `[reactor] port = "65536"`},
		{"[reactor]\nport =\n", `[reactor] port = "": not a port number`},
		{"[reactor]\nip = localhost\n", `[reactor] ip = "localhost": not an IP address`},
		{"[reactor]\nmaxConn = -1\n", `[reactor] maxConn = "-1": must be at least 1`},
		{"[reactor]\nmaxConn = 0\n", `[reactor] maxConn = "0": must be at least 1`},
		{"[reactor]\nthreadNum = -3\n", `[reactor] threadNum = "-3": must be at least 0`},
		{"[reactor]\nthreadNum = 99999999999\n", `[reactor] threadNum = "99999999999": not a 32-bit integer`},
		{"[mysql]\ndb_port = 3306 # comment\n", `[mysql] db_port = "3306 # comment": not a port number`},
		{"[mysql]\ndb_host = db(1)\n", `[mysql] db_host = "db(1)": not an IP address or host name`},
		{"[mysql]\ndb_user = a:b\n", `[mysql] db_user = "a:b"`},
		{"[repoter]\ndb_thread_cnt = 0\n", `[repoter] db_thread_cnt = "0": must be at least 1`},
		{"[mysql]\ndb_passwd = " + secret + "\n" + secret + "\n", "lars conf bad.conf: line 3: want \"key = value\""},
		{"[mysql]\n[" + secret + "\n", "line 2: section header without ']'"},
		{"[]\n", "line 1: empty section name"},
		{"[mysql]\n= " + secret + "\n", "line 2: key name missing"},
		{"[mysql]\ndb_passwd = `" + secret + "\n", "lars conf bad.conf: unterminated quoted value"},
		{"[mysql]\n\"db_passwd = " + secret + "\n", "lars conf bad.conf: unterminated quoted value"},
		{"[mysql]\ndb_port = `1\ndb_passwd = " + secret + "`\n", "[mysql] db_port: not a port number"},
		{"[reactor]\nip = " + strings.Repeat("1", 65) + "\n", "[reactor] ip: not an IP address"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.text), "bad.conf")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to contain %q", tc.text, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %q shows the password or is not one line", tc.text, err)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.conf")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v", err)
	}
}

// checkRoundTrip fails unless dsn reads back as c's [mysql] settings.
func checkRoundTrip(t *testing.T, c *Conf, dsn string) {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("DSN %q does not parse: %v", dsn, err)
	}
	m := c.MySQL
	port := m.Port
	if port == 0 {
		port = DefaultDBPort
	}
	host := or(m.Host, DefaultDBHost)
	wantAddr := host + ":" + strconv.Itoa(port)
	if strings.Contains(host, ":") {
		wantAddr = "[" + host + "]:" + strconv.Itoa(port)
	}
	if cfg.User != or(m.User, DefaultDBUser) || cfg.Passwd != m.Password || cfg.Net != "tcp" ||
		cfg.Addr != wantAddr || cfg.DBName != or(m.Name, DefaultDBName) {
		t.Fatalf("DSN %q reads back as user %q password %q net %q addr %q db %q; conf %+v",
			dsn, cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName, m)
	}
}

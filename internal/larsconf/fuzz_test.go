package larsconf

import (
	"strings"
	"testing"

	"github.com/larsgo/lars/route"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"[reactor]\nip = 127.0.0.1\nport = 7778\nmaxConn = 1024\nthreadNum = 5\n",
		"[mysql]\ndb_host = 127.0.0.1\ndb_port = 3306\ndb_user = root\ndb_passwd = aceld\ndb_name = lars_dns\n",
		"[repoter]\ndb_thread_cnt = 3\n",
		"[mysql]\ndb_user = a@b\ndb_passwd = x:y@z/(w)?q=1\ndb_name = a/b?c%zz\n",
		"[mysql]\ndb_host = ::1%eth0\n",
		"[mysql]\ndb_port = `1\n",
		"[mysql]\n\"db_user\" = x\n",
		"[mysql]\ndb_name = \"\"\"a\nb\"\"\"\n",
		"[reactor\n",
		"= x\n",
		"\xef\xbb\xbf[reactor]\nport=1\n",
	} {
		f.Add([]byte(seed), "S3cret")
	}
	f.Fuzz(func(t *testing.T, data []byte, secret string) {
		c, err := Parse(data, "fuzz.conf")
		if err == nil {
			if dsn, ok := c.DSN(); ok {
				checkRoundTrip(t, c, dsn)
			}
			c.ListenAddr()
		}
		// Whatever the rest of the file, the error does not depend on the password.
		secret = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, secret)
		withPassword := func(p string) (string, *Conf) {
			c, err := Parse(append(append([]byte(nil), data...), "\n[mysql]\ndb_passwd = "+p+"\n"...), "fuzz.conf")
			if err != nil {
				return err.Error(), nil
			}
			return "", c
		}
		errA, cA := withPassword("A" + secret)
		errB, cB := withPassword("B" + secret)
		if errA != errB {
			t.Fatalf("the error depends on the password:\n%s\n%s", errA, errB)
		}
		if cA != nil {
			if cA.MySQL.Password != "A"+secret || cB.MySQL.Password != "B"+secret {
				t.Fatalf("passwords %q %q, want A/B%s", cA.MySQL.Password, cB.MySQL.Password, secret)
			}
			dsn, _ := cA.DSN()
			checkRoundTrip(t, cA, dsn)
		}
	})
}

// FuzzParseAgent: an agent conf, whatever its bytes, parses or fails without a panic,
// and a zone it takes is a valid one.
func FuzzParseAgent(f *testing.F) {
	for _, seed := range []string{
		"",
		"[dnsserver]\nip = 127.0.0.1, ::1\nport = 7778\n[reporter]\nip = 127.0.0.1\nport = 7779\n",
		"[loadbalance]\npolicy = p2c\npanic_threshold = 50%\nslow_start = 30s\nzone_min_usable = 60\nzone = eu-west-1a\n",
		"[loadbalance]\nzone = a b\n",
		"[loadbalance]\nslow_start = 1h\nzone_min_usable = 101%\n",
		"[register]\ninstance = 1 1 127.0.0.1 8080\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s AgentSettings
		if err := ParseAgent(data, "fuzz.ini", &s); err != nil {
			return
		}
		if s.Table.Zone != "" {
			if err := route.CheckZone(s.Table.Zone); err != nil {
				t.Fatalf("zone %q taken: %v", s.Table.Zone, err)
			}
		}
	})
}

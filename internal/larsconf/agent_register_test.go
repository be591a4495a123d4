package larsconf

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseAgentRegister(t *testing.T) {
	var s AgentSettings
	conf := `[dnsserver]
ip = 127.0.0.1
port = 7778
[register]
instance = 100 1 10.0.0.5 9000
instance = 100 1 10.0.0.5 9001 ttl=30 check=tcp   # a comment
instance =  200 3 10.0.0.5 8080 interval=500ms check=http://10.0.0.5:8080/healthz?a=1;b=2#x ttl=1m
allow_remote = true
max_registrations = 50
`
	if err := ParseAgent([]byte(conf), "a.ini", &s); err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("10.0.0.5")
	want := []Registration{
		{Modid: 100, Cmdid: 1, IP: ip, Port: 9000},
		{Modid: 100, Cmdid: 1, IP: ip, Port: 9001, TTL: 30 * time.Second, Check: "tcp"},
		{Modid: 200, Cmdid: 3, IP: ip, Port: 8080, TTL: time.Minute, Interval: 500 * time.Millisecond,
			Check: "http://10.0.0.5:8080/healthz?a=1;b=2#x"},
	}
	if !reflect.DeepEqual(s.Registrations, want) {
		t.Fatalf("registrations\n%+v\nwant\n%+v", s.Registrations, want)
	}
	if !s.AllowRemoteRegister || s.MaxRegistrations != 50 {
		t.Fatalf("allow_remote %v max_registrations %d", s.AllowRemoteRegister, s.MaxRegistrations)
	}
	if len(s.RouteService) != 1 {
		t.Fatalf("the other sections not read: %+v", s)
	}

	// Without [register], what was set stays.
	if err := ParseAgent([]byte("[dnsserver]\nport=7778\n"), "b.ini", &s); err != nil || len(s.Registrations) != 3 {
		t.Fatalf("err %v, %d registrations", err, len(s.Registrations))
	}
}

func TestParseAgentRegisterErrors(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"instance = 1 1 10.0.0.5", "want MODID CMDID IP PORT"},
		{"instance = x 1 10.0.0.5 80", `modid "x"`},
		{"instance = 1 99999999999 10.0.0.5 80", `cmdid "99999999999"`},
		{"instance = 1 1 ::1 80", `ip "::1" is not an IPv4 address`},
		{"instance = 1 1 host 80", `ip "host"`},
		{"instance = 1 1 10.0.0.5 0", `port "0"`},
		{"instance = 1 1 10.0.0.5 65536", `port "65536"`},
		{"instance = 1 1 10.0.0.5 80 ttl", `option "ttl": want name=value`},
		{"instance = 1 1 10.0.0.5 80 ttl=", `option "ttl="`},
		{"instance = 1 1 10.0.0.5 80 ttl=-1s", "option ttl"},
		{"instance = 1 1 10.0.0.5 80 ttl=abc", "option ttl"},
		{"instance = 1 1 10.0.0.5 80 ttl=1s ttl=2s", "option ttl given twice"},
		{"instance = 1 1 10.0.0.5 80 colour=red", `unknown option "colour"`},
		{"instance = 1 1 10.0.0.5 80\ninstance = 1 1 10.0.0.5 bad", `instance 2`},
		{"allow_remote = maybe", "allow_remote"},
		{"max_registrations = 0", "max_registrations"},
		{"instances = 1 1 10.0.0.5 80", `unknown key "instances"`},
	} {
		var s AgentSettings
		err := ParseAgent([]byte("[register]\n"+c.body+"\n"), "r.ini", &s)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "r.ini") {
			t.Errorf("%q: error %v, want one naming the file and %q", c.body, err, c.want)
		}
	}
}

func TestRegistrationString(t *testing.T) {
	r := Registration{Modid: 1, Cmdid: -2, IP: netip.MustParseAddr("10.1.2.3"), Port: 80,
		TTL: 1500 * time.Millisecond, Check: "http://x/y", Interval: time.Second}
	got, err := ParseRegistration(r.String())
	if err != nil || got != r {
		t.Fatalf("%q read back as %+v, %v", r.String(), got, err)
	}
}

// FuzzParseRegistration: any line either fails or reads back the same from its
// String; an agent file with it never makes ParseAgent panic.
func FuzzParseRegistration(f *testing.F) {
	for _, seed := range []string{
		"100 1 10.0.0.5 9000",
		"100 1 10.0.0.5 9001 ttl=30s check=tcp",
		"200 3 10.0.0.5 8080 check=http://10.0.0.5:8080/healthz interval=500ms",
		"-1 -2147483648 255.255.255.255 65535 ttl=1 interval=1",
		"1 1 10.0.0.5 80 ttl=1s ttl=2s",
		"1 1 ::ffff:10.0.0.5 80",
		"1 1 10.0.0.5 80 check=",
		"1 1 10.0.0.5 80 check==",
		"",
		"\x00 1 1 1",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseRegistration(line)
		if err == nil {
			back, err := ParseRegistration(r.String())
			if err != nil || back != r {
				t.Fatalf("%q read as %+v, written %q, read back %+v, %v", line, r, r.String(), back, err)
			}
			if !r.IP.Is4() || r.Port < 1 || r.Port > 65535 || r.TTL < 0 || r.Interval < 0 {
				t.Fatalf("%q read as %+v", line, r)
			}
		}
		var s AgentSettings
		_ = ParseAgent([]byte("[register]\ninstance = "+line+"\n"), "fuzz.ini", &s)
	})
}

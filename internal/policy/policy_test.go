package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsgen"
	"github.com/larsgo/lars/route"
)

const sample = `
# a site's policy
report  agent/*        *          # every agent reports
pull    agent/web-*    1000-1999
pull    agent/web-1    5/1-10,7
pull    client/ops-1   3/4
`

func agent(name string) tlsconf.Peer { return tlsconf.Peer{Role: tlsgen.RoleAgent, Name: name} }

func TestGrants(t *testing.T) {
	p, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.Rules()); got != 4 || p.Rules()[1].Line != 4 {
		t.Fatalf("rules %+v", p.Rules())
	}
	cases := []struct {
		action Action
		peer   tlsconf.Peer
		key    route.Key
		want   bool
	}{
		{Report, agent("db-9"), route.Key{Modid: 1, Cmdid: 1}, true},
		{Report, tlsconf.Peer{Role: tlsgen.RoleClient, Name: "ops-1"}, route.Key{Modid: 3, Cmdid: 4}, false}, // only pull for it
		{Pull, agent("web-2"), route.Key{Modid: 1500, Cmdid: 99}, true},
		{Pull, agent("web-2"), route.Key{Modid: 2000, Cmdid: 1}, false},
		{Pull, agent("web-1"), route.Key{Modid: 5, Cmdid: 10}, true},  // its own rule
		{Pull, agent("web-1"), route.Key{Modid: 5, Cmdid: 11}, false}, // past its cmdid range
		{Pull, agent("web-1"), route.Key{Modid: 7, Cmdid: 123456}, true},
		{Pull, agent("db-9"), route.Key{Modid: 1500, Cmdid: 1}, false}, // no pull rule names it
		{Pull, tlsconf.Peer{Role: tlsgen.RoleClient, Name: "ops-1"}, route.Key{Modid: 3, Cmdid: 4}, true},
		{Pull, tlsconf.Peer{Role: tlsgen.RoleClient, Name: "ops-1"}, route.Key{Modid: 3, Cmdid: 5}, false},
	}
	for _, c := range cases {
		if got := p.Grant(c.action, c.peer).Allows(c.key); got != c.want {
			t.Errorf("%s %s %v: %v, want %v", c.action, c.peer, c.key, got, c.want)
		}
	}
	if p.Grant(Pull, agent("db-9")).Any() || !p.Grant(Pull, agent("web-9")).Any() {
		t.Error("Any: want false for an identity no pull rule names, true for one")
	}
	if !AllowAll.Allows(route.Key{Modid: -1, Cmdid: -1}) || !AllowAll.Any() {
		t.Error("AllowAll refuses")
	}
}

// TestEmptyPolicyDeniesAll: deny by default.
func TestEmptyPolicyDeniesAll(t *testing.T) {
	p, err := Parse([]byte("# nothing allowed yet\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	g := p.Grant(Report, agent("a"))
	if g.Any() || g.Allows(route.Key{Modid: 1, Cmdid: 1}) {
		t.Error("an empty policy allows")
	}
}

func TestPatterns(t *testing.T) {
	for _, c := range []struct {
		pattern, id string
		want        bool
	}{
		{"*", "agent/x", true},
		{"*", "noroles", true},
		{"agent/*", "agent/x", true},
		{"agent/*", "client/x", false},
		{"agent/web-1", "agent/web-1", true},
		{"agent/web-1", "agent/web-10", false},
		{"agent/web-1*", "agent/web-10", true},
		{"agent/a%20*", "agent/a%20b", true},
		{"plain-name", "plain-name", true},
	} {
		p, err := ParsePattern(c.pattern)
		if err != nil {
			t.Errorf("%q: %v", c.pattern, err)
			continue
		}
		if got := p.Matches(c.id); got != c.want {
			t.Errorf("%q matches %q: %v, want %v", c.pattern, c.id, got, c.want)
		}
		if p.String() != c.pattern {
			t.Errorf("%q written back as %q", c.pattern, p.String())
		}
	}
}

// TestErrorsNameTheLine: every mistake is refused with its line and what is wrong.
func TestErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"report agent/*", "line 1: 2 fields"},
		{"\nwrite agent/* *", "line 2: unknown action"},
		{"report boss/* *", `unknown certificate role "boss"`},
		{"report agent/a*b *", "'*' may only end it"},
		{"report agent/a b", `"b" is not a number`},
		{"report agent/a 5-3", "runs backwards"},
		{"report agent/a 1/2/3", "not a number"},
		{"report agent/a 9999999999", "out of range"},
		{"report agent/a -1", "not a number"},
		{"report agent/a 1,,2", `"" is not a number`},
		{"report agent/a\u00e9 *", "identity"},
		{"report " + strings.Repeat("x", 10) + "/* *", "unknown certificate role"},
	} {
		_, err := Parse([]byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.text, err, c.want)
		}
	}
}

func TestBounds(t *testing.T) {
	many := strings.Repeat("report agent/* 1\n", MaxRules+1)
	if _, err := Parse([]byte(many)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("%d rules: %v", MaxRules+1, err)
	}
	items := strings.TrimSuffix(strings.Repeat("1,", MaxItems+1), ",")
	if _, err := Parse([]byte("report agent/* " + items)); err == nil || !strings.Contains(err.Error(), "items") {
		t.Errorf("%d items: %v", MaxItems+1, err)
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over the bound: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestAllowsDoesNotAllocate(t *testing.T) {
	p, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	g := p.Grant(Pull, agent("web-1"))
	k := route.Key{Modid: 7, Cmdid: 1}
	if n := testing.AllocsPerRun(1000, func() { _ = g.Allows(k) }); n != 0 {
		t.Errorf("Allows allocates %v times", n)
	}
}

// FuzzParse: any input parses or is refused with an error, never a panic; a rule
// parsed is written back by its parts and parses again to the same rule.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("report * *"))
	f.Add([]byte("pull agent/a%20b* 1/2-3,4-5"))
	f.Add([]byte("report agent/x 2147483647/2147483647"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		for _, r := range p.Rules() {
			if _, err := ParsePattern(r.Who.String()); err != nil {
				t.Errorf("pattern %q parsed, then refused: %v", r.Who, err)
			}
			for _, rg := range r.Services.Ranges() {
				if rg.ModLo > rg.ModHi || rg.CmdLo > rg.CmdHi || rg.ModLo < 0 || rg.CmdLo < 0 {
					t.Errorf("range %+v", rg)
				}
			}
		}
	})
}

// FuzzPatternMatches: a pattern that parses matches an identity exactly when the
// identity is its text (exact) or begins with it (prefix).
func FuzzPatternMatches(f *testing.F) {
	f.Add("agent/*", "agent/web-1")
	f.Add("agent/web-1", "agent/web-1")
	f.Add("*", "")
	f.Fuzz(func(t *testing.T, pattern, id string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		text, prefix := strings.CutSuffix(pattern, "*")
		want := id == pattern
		if prefix {
			want = strings.HasPrefix(id, text)
		}
		if got := p.Matches(id); got != want {
			t.Errorf("%q matches %q: %v, want %v", pattern, id, got, want)
		}
	})
}

// TestRegisterAction: register rules grant registrations apart from pulls.
func TestRegisterAction(t *testing.T) {
	p, err := Parse([]byte("pull agent/* *\nregister agent/web-* 5,7/1\n"))
	if err != nil {
		t.Fatal(err)
	}
	web, db := p.Grant(Register, agent("web-1")), p.Grant(Register, agent("db-1"))
	if !web.Allows(route.Key{Modid: 5, Cmdid: 9}) || !web.Allows(route.Key{Modid: 7, Cmdid: 1}) || web.Allows(route.Key{Modid: 7, Cmdid: 2}) {
		t.Fatal("the register rule's services are not what it grants")
	}
	if db.Any() || db.Allows(route.Key{Modid: 5, Cmdid: 1}) {
		t.Fatal("an identity no register rule names may register")
	}
	if !p.Grant(Pull, agent("db-1")).Allows(route.Key{Modid: 5, Cmdid: 1}) {
		t.Fatal("the pull rule no longer grants")
	}
}

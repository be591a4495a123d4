package secretsrc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// write writes text to a new file and returns its path.
func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFirstLine(t *testing.T) {
	if s, err := FirstLine(write(t, "  user:pass@tcp(db:3306)/lars_dns \nsecond\n")); err != nil || s != "user:pass@tcp(db:3306)/lars_dns" {
		t.Fatalf("FirstLine = %q, %v", s, err)
	}
	for _, text := range []string{"", "\n", "   \nx"} {
		if _, err := FirstLine(write(t, text)); err == nil {
			t.Errorf("FirstLine of %q succeeded", text)
		}
	}
	if _, err := FirstLine(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("FirstLine of a missing file succeeded")
	}
	if _, err := FirstLine(write(t, strings.Repeat("x", maxLine+1))); err == nil {
		t.Error("FirstLine of an endless line succeeded")
	}
}

func TestToken(t *testing.T) {
	if s, err := Token("-admin-token-file", write(t, "0123456789abcdef\n"), 16); err != nil || s != "0123456789abcdef" {
		t.Fatalf("Token = %q, %v", s, err)
	}
	if _, err := Token("-admin-token-file", write(t, "short\n"), 16); err == nil || !strings.Contains(err.Error(), "-admin-token-file") {
		t.Fatalf("a short token: %v", err)
	}
}

func TestDSN(t *testing.T) {
	file := write(t, "u:filepass@tcp(h:3306)/lars_dns\n")
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvDB {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		name           string
		d              DB
		wantDSN, wantF string
		bad            bool
	}{
		{"flag", DB{Flag: "sqlite:a.db", FlagSet: true, Conf: "c", ConfOK: true, Getenv: env("e")}, "sqlite:a.db", "-db", false},
		{"file", DB{Flag: "sqlite:lars.db", DBFile: file, Conf: "c", ConfOK: true, Getenv: env("e")}, "u:filepass@tcp(h:3306)/lars_dns", "-db-file", false},
		{"conf", DB{Flag: "sqlite:lars.db", Conf: "c", ConfOK: true, Getenv: env("e")}, "c", "conf", false},
		{"env", DB{Flag: "sqlite:lars.db", Getenv: env(" u:envpass@tcp(h:3306)/x ")}, "u:envpass@tcp(h:3306)/x", EnvDB, false},
		{"default", DB{Flag: "sqlite:lars.db", Getenv: env("")}, "sqlite:lars.db", "default", false},
		{"both", DB{Flag: "x", FlagSet: true, DBFile: file}, "", "", true},
		{"missing file", DB{DBFile: filepath.Join(t.TempDir(), "none")}, "", "", true},
	} {
		dsn, from, err := c.d.DSN()
		if (err != nil) != c.bad || dsn != c.wantDSN || from != c.wantF {
			t.Errorf("%s: DSN = %q, %q, %v; want %q, %q, error %v", c.name, dsn, from, err, c.wantDSN, c.wantF, c.bad)
		}
	}
}

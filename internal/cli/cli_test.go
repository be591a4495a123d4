package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger("json", "warn", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Fatalf("json logger at warn wrote %q", out)
	}
	for _, bad := range [][2]string{{"xml", "info"}, {"text", "loud"}} {
		if _, err := NewLogger(bad[0], bad[1], &buf); err == nil {
			t.Errorf("NewLogger(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestCheckHostPort(t *testing.T) {
	f := func(v string, zeroOK, ok bool) {
		t.Helper()
		err := CheckHostPort("-listen", v, zeroOK)
		if (err == nil) != ok {
			t.Errorf("CheckHostPort(%q, %v) = %v, want ok=%v", v, zeroOK, err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), "-listen") {
			t.Errorf("error %q does not name the flag", err)
		}
	}
	f("127.0.0.1:7778", false, true)
	f("[::1]:7778", false, true)
	f(":7778", false, true)
	f("127.0.0.1:0", true, true)
	f("127.0.0.1:0", false, false)
	f("127.0.0.1", false, false)
	f("127.0.0.1:70000", false, false)
	f("127.0.0.1:http", false, false)
	f("127.0.0.1:+80", false, false)
}

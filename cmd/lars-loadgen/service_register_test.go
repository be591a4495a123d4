package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dns -mode register takes its own flags and refuses those of the changes mode, and
// the changes mode refuses those of -mode register.
func TestRegisterModeBadArguments(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	for _, args := range [][]string{
		{"dns", "-mode", "storm"},
		{"dns", "-mode", "register", "-db", db},
		{"dns", "-mode", "register", "-changes-per-sec", "5"},
		{"dns", "-mode", "register", "-sweep"},
		{"dns", "-mode", "register", "-instances", "0"},
		{"dns", "-mode", "register", "-subscribers", "0"},
		{"dns", "-mode", "register", "-ttl", "100ms"},
		{"dns", "-mode", "register", "-ttl", "2h"},
		{"dns", "-mode", "register", "-churn", "-1"},
		{"dns", "-mode", "register", "-expire", "NaN"},
		{"dns", "-mode", "register", "-warmup", "-1s"},
		{"dns", "-mode", "register", "-target", "10.1.2.3:7778"},
		{"dns", "-db", db, "-instances", "5"}, // a register flag without -mode register
	} {
		code, stdout, stderr := runServiceCLI(args...)
		first, rest, _ := strings.Cut(stderr, "\n")
		if code != exitUsage || stdout != "" || !strings.HasPrefix(first, "lars-loadgen: ") || !strings.HasPrefix(rest, "Usage: lars-loadgen dns") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want exit 2, a message and the usage", args, code, stdout, stderr)
		}
	}
}

// The flags reach the run's configuration; the defaults are the documented ones.
func TestRegisterModeOptions(t *testing.T) {
	o, _, err := parseServiceFlags("dns", []string{"-mode", "register", "-agents", "7", "-instances", "3", "-subscribers", "2",
		"-cmdids", "1-40", "-ttl", "4s", "-storm-spread", "2s", "-warmup", "3s", "-churn", "5", "-expire", "1.5", "-duration", "9s", "-leave", "-admin-url", "http://127.0.0.1:1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	r := o.reg
	if r == nil || r.Agents != 7 || r.Instances != 3 || r.Subscribers != 2 || r.Cmdids.Hi != 40 || r.TTL != 4*time.Second ||
		r.Churn != 5 || r.StormSpread != 2*time.Second || r.Warmup != 3*time.Second || r.Expire != 1.5 || r.Duration != 9*time.Second || !r.Leave || r.AdminURL != "http://127.0.0.1:1" {
		t.Errorf("config %+v", r)
	}
	o, _, err = parseServiceFlags("dns", []string{"-mode", "register"}, false)
	if err != nil || o.reg.Instances != 10 || o.reg.Subscribers != 10 || o.reg.TTL != 10*time.Second || o.reg.Churn != 0 {
		t.Errorf("defaults %+v, %v", o.reg, err)
	}
}

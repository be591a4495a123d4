package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSubcommands: agent, dns and reporter as the first argument read their own
// flags, without -service; the old spelling still reads it.
func TestSubcommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "lars.db")
	for _, args := range [][]string{
		{"agent", "extra"},
		{"agent", "-service", "agent"}, // the old spelling's flag
		{"agent", "-rate", "100", "-concurrency", "4"},
		{"dns", "-db", db, "-changes-per-sec", "0"},
		{"dns", "-service", "dns", "-db", db},
		{"dns", "-db", db, "-rate", "100"}, // a reporter flag
		{"reporter", "-rate", "-1"},
		{"reporter", "-changes-per-sec", "5"}, // a dns flag
	} {
		code, stdout, stderr := runCLI(args...)
		first, rest, _ := strings.Cut(stderr, "\n")
		if code != exitUsage || stdout != "" || !strings.HasPrefix(first, "lars-loadgen: ") || !strings.HasPrefix(rest, "Usage: lars-loadgen "+args[0]+" [flags]") {
			t.Errorf("%q: exit %d, stdout %q, stderr %.200q: want exit 2, a message and the usage", args, code, stdout, stderr)
		}
	}
	for _, tc := range []struct {
		args       []string
		says, flag string
	}{
		{[]string{"agent", "-h"}, "Usage: lars-loadgen agent [flags]", "-concurrency"},
		{[]string{"-h"}, "lars-loadgen -service dns|reporter [flags]", "-service"},
		{[]string{"dns", "-h"}, "Usage: lars-loadgen dns [flags]", "-changes-per-sec"},
		{[]string{"reporter", "-h"}, "lars-loadgen -service reporter [flags]   (the old spelling)", "-caller-base"},
		{[]string{"-service", "dns", "-h"}, "Usage: lars-loadgen dns [flags]", "-service"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != exitOK || !strings.Contains(stderr, tc.says) || !strings.Contains(stderr, "\n  "+tc.flag+" ") {
			t.Errorf("%q: exit %d, usage %.300q: want %q and %s", tc.args, code, stderr, tc.says, tc.flag)
		}
		if tc.args[0] != "-h" && tc.args[0] != "-service" && strings.Contains(stderr, "\n  -service ") {
			t.Errorf("%q: the subcommand's usage lists -service", tc.args)
		}
	}
}

// TestAgentSubcommandRuns: lars-loadgen agent runs as lars-loadgen does.
func TestAgentSubcommandRuns(t *testing.T) {
	port := echoPort(t)
	code, stdout, stderr := runCLI("agent", "-echo", "-ports", port, "-requests", "200", "-warmup", "0", "-quiet", "-timeout", "4s")
	if code != exitOK || !strings.Contains(stdout, "received 200") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

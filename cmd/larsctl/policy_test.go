package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/larsgo/lars/internal/policy"
)

// TestPolicyEdits: larsctl policy adds, lists, checks and removes rules of a policy
// file, which stays valid and of mode 0600 throughout; an edit that would make it
// invalid writes nothing.
func TestPolicyEdits(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy")
	code, out, errOut := larsctl(nil, "policy", "add", file, "pull", "agent/*", "*")
	check(t, code, out, errOut, 0, "added \"pull agent/* *\" to "+file+" (send SIGHUP to the services that read it)\n")
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("new policy file: %v, %v; want mode 0600", st, err)
	}
	code, out, errOut = larsctl(nil, "policy", "add", file, "report", "agent/web-*", "5/1-10,7")
	check(t, code, out, errOut, 0, "-")
	code, out, errOut = larsctl(nil, "policy", "add", file, "report", "agent/web-*", "5/1-10,7")
	check(t, code, out, errOut, 0, file+" already has \"report agent/web-* 5/1-10,7\"\n")

	code, _, errOut = larsctl(nil, "policy", "add", file, "fly", "agent/*", "*")
	if code != exitFailure || !strings.Contains(errOut, `unknown action "fly"`) {
		t.Errorf("an invalid rule: exit %d, stderr %q", code, errOut)
	}
	code, out, errOut = larsctl(nil, "policy", "list", file)
	check(t, code, out, errOut, 0, ""+
		"LINE  ACTION  IDENTITY     SERVICES\n"+
		"1     pull    agent/*      *\n"+
		"2     report  agent/web-*  5/1-10,7\n"+
		"2 rules\n")

	for _, c := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"report", "agent/web-3", "5/10"}, 0, "allowed: line 2 lets agent/web-3 report 5/10\n"},
		{[]string{"report", "agent/web-3", "7/99"}, 0, "allowed: line 2 lets agent/web-3 report 7/99\n"},
		{[]string{"report", "agent/db-1", "5/10"}, exitFailure, ""},
		{[]string{"report", "agent/web-3", "5/11"}, exitFailure, ""},
		{[]string{"pull", "client/ops", "1/1"}, exitFailure, ""},
		{[]string{"pull", "agent/x", "2147483647/0"}, 0, "allowed: line 1 lets agent/x pull 2147483647/0\n"},
	} {
		code, out, errOut := larsctl(nil, append([]string{"policy", "check", file}, c.args...)...)
		if code != c.code || out != c.out || (code != 0 && !strings.Contains(errOut, "denied: no rule")) {
			t.Errorf("policy check %v: exit %d, out %q, stderr %q; want exit %d, out %q", c.args, code, out, errOut, c.code, c.out)
		}
	}

	code, out, errOut = larsctl(nil, "policy", "del", file, "pull", "agent/*", "*")
	check(t, code, out, errOut, 0, "removed \"pull agent/* *\" from "+file+" (send SIGHUP to the services that read it)\n")
	code, _, errOut = larsctl(nil, "policy", "del", file, "pull", "agent/*", "*")
	if code != exitNoExist || !strings.Contains(errOut, `has no rule "pull agent/* *"`) {
		t.Errorf("del of a missing rule: exit %d, stderr %q", code, errOut)
	}
	p, err := policy.Load(file)
	if err != nil || len(p.Rules()) != 1 || p.Rules()[0].Action != policy.Report {
		t.Fatalf("the policy after the edits: %v, %v", p, err)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after the edits, want 0600", st.Mode().Perm())
	}
}

// TestPolicyKeepsCommentsAndRefusesInvalidFiles: an edit keeps the file's comments and
// other lines as they were; a file that does not parse is not edited.
func TestPolicyKeepsCommentsAndRefusesInvalidFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy")
	if err := os.WriteFile(file, []byte("# the site's policy\npull agent/* *   # every agent\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := larsctl(nil, "policy", "add", file, "report", "agent/*", "*")
	check(t, code, out, errOut, 0, "-")
	data, _ := os.ReadFile(file)
	if string(data) != "# the site's policy\npull agent/* *   # every agent\nreport agent/* *\n" {
		t.Errorf("file after add:\n%s", data)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after an edit, want the file's 0640 kept", st.Mode().Perm())
	}

	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("pull agent/*\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = larsctl(nil, "policy", "add", bad, "report", "agent/*", "*")
	if code != exitFailure || !strings.Contains(errOut, "line 1") {
		t.Errorf("add to an invalid file: exit %d, stderr %q", code, errOut)
	}
	if data, _ := os.ReadFile(bad); string(data) != "pull agent/*\n" {
		t.Errorf("an invalid file was rewritten:\n%s", data)
	}
	code, _, errOut = larsctl(nil, "policy", "list", filepath.Join(dir, "missing"))
	if code != exitFailure || !strings.Contains(errOut, "no such file") {
		t.Errorf("list of a missing file: exit %d, stderr %q", code, errOut)
	}
	code, _, _ = larsctl(nil, "policy", "check", file, "pull", "agent/x", "1")
	if code != exitUsage {
		t.Errorf("check of a service without /CMDID: exit %d, want %d", code, exitUsage)
	}
}

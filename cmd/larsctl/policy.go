package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/route"
)

// policyCmd edits and queries a policy file (internal/policy: which identity may pull,
// report or register which services), the one lars-dns and lars-reporter read with
// -policy and read again on SIGHUP. Every edit keeps the file valid: the whole file
// with the change must parse, or nothing is written.
var policyCmd = &command{
	name:        "policy",
	subcommands: []*command{policyListCmd, policyAddCmd, policyDelCmd, policyCheckCmd},
}

func init() { commands = append(commands, policyCmd) }

var policyListCmd = &command{
	name:    "policy list",
	args:    "FILE",
	summary: "print the rules of the policy FILE: a table \"LINE ACTION IDENTITY SERVICES\", then \"N rules\"",
	run: func(e *env, _ any, args []string) error {
		if len(args) != 1 {
			return usagef("want FILE, got %d arguments", len(args))
		}
		lines, _, err := readPolicy(args[0], false)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LINE\tACTION\tIDENTITY\tSERVICES")
		n := 0
		for i, l := range lines {
			if f := ruleFields(l); f != nil {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i+1, f[0], f[1], f[2])
				n++
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%d rules\n", n)
		return err
	},
}

var policyAddCmd = &command{
	name: "policy add",
	args: "FILE ACTION IDENTITY SERVICES",
	summary: "add the rule \"ACTION IDENTITY SERVICES\" at the end of the policy FILE (made, mode 0600, if missing);\n" +
		"ACTION is pull, report or register, IDENTITY a certificate's ROLE/NAME (a trailing * matches any rest),\n" +
		"SERVICES * or MODID, LO-HI, MODID/CMDID, MODID/LO-HI items separated by commas; the services read it on SIGHUP",
	run: func(e *env, _ any, args []string) error {
		if len(args) != 4 {
			return usagef("want FILE ACTION IDENTITY SERVICES, got %d arguments", len(args))
		}
		lines, mode, err := readPolicy(args[0], true)
		if err != nil {
			return err
		}
		rule := strings.Join(args[1:], " ")
		for _, l := range lines {
			if f := ruleFields(l); f != nil && strings.Join(f, " ") == rule {
				fmt.Fprintf(e.stdout, "%s already has %q\n", args[0], rule)
				return nil
			}
		}
		if err := writePolicy(args[0], append(lines, rule), mode); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added %q to %s (send SIGHUP to the services that read it)\n", rule, args[0])
		return nil
	},
}

var policyDelCmd = &command{
	name:    "policy del",
	args:    "FILE ACTION IDENTITY SERVICES",
	summary: "remove the rule \"ACTION IDENTITY SERVICES\" (as written) from the policy FILE; exit 4 when it has none",
	run: func(e *env, _ any, args []string) error {
		if len(args) != 4 {
			return usagef("want FILE ACTION IDENTITY SERVICES, got %d arguments", len(args))
		}
		lines, mode, err := readPolicy(args[0], false)
		if err != nil {
			return err
		}
		rule := strings.Join(args[1:], " ")
		kept := lines[:0:0]
		for _, l := range lines {
			if f := ruleFields(l); f == nil || strings.Join(f, " ") != rule {
				kept = append(kept, l)
			}
		}
		if len(kept) == len(lines) {
			return noRuleError{args[0], rule}
		}
		if err := writePolicy(args[0], kept, mode); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %q from %s (send SIGHUP to the services that read it)\n", rule, args[0])
		return nil
	},
}

var policyCheckCmd = &command{
	name: "policy check",
	args: "FILE ACTION IDENTITY MODID/CMDID",
	summary: "say whether the policy FILE lets IDENTITY do ACTION to the service MODID/CMDID, and by which\n" +
		"rule; exit 0 when it does, 1 when it does not (deny by default)",
	run: func(e *env, _ any, args []string) error {
		if len(args) != 4 {
			return usagef("want FILE ACTION IDENTITY MODID/CMDID, got %d arguments", len(args))
		}
		p, err := policy.Load(args[0])
		if err != nil {
			return err
		}
		action := policy.Action(args[1])
		peer, err := tlsconf.ParseIdentity(args[2])
		if err != nil {
			return usagef("IDENTITY %q: %v", args[2], err)
		}
		modid, cmdid, ok := strings.Cut(args[3], "/")
		if !ok {
			return usagef("service %q: want MODID/CMDID", args[3])
		}
		k, err := arg(route.ParseKey(modid, cmdid))
		if err != nil {
			return err
		}
		for _, r := range p.Rules() {
			if r.Action == action && r.Who.Matches(peer.String()) && ruleAllows(r, k) {
				fmt.Fprintf(e.stdout, "allowed: line %d lets %s %s %s\n", r.Line, peer, action, k.String())
				return nil
			}
		}
		return fmt.Errorf("denied: no rule of %s lets %s %s %s", args[0], peer, action, k.String())
	},
}

// ruleAllows reports whether r's services cover k.
func ruleAllows(r policy.Rule, k route.Key) bool {
	if r.Services.All() {
		return true
	}
	for _, s := range r.Services.Ranges() {
		if k.Modid >= s.ModLo && k.Modid <= s.ModHi && k.Cmdid >= s.CmdLo && k.Cmdid <= s.CmdHi {
			return true
		}
	}
	return false
}

// noRuleError says that policy del found no such rule; it exits 4.
type noRuleError struct{ file, rule string }

func (e noRuleError) Error() string { return fmt.Sprintf("%s has no rule %q", e.file, e.rule) }

func (e noRuleError) Is(target error) bool { return target == api.ErrNoExist }

// ruleFields returns the three fields of a rule line, nil for a blank or comment line.
func ruleFields(line string) []string {
	text, _, _ := strings.Cut(line, "#")
	f := strings.Fields(text)
	if len(f) != 3 {
		return nil
	}
	return f
}

// readPolicy reads the policy file's lines, checking that it parses, and its mode; a
// missing file is an error unless missingOK (then no lines, mode 0600).
func readPolicy(path string, missingOK bool) (lines []string, mode fs.FileMode, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && missingOK {
		return nil, 0o600, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if _, err := policy.Parse(data); err != nil {
		return nil, 0, fmt.Errorf("policy %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil, st.Mode().Perm(), nil
	}
	return strings.Split(text, "\n"), st.Mode().Perm(), nil
}

// writePolicy replaces the policy file with lines, after checking that they parse: a
// new file beside it renamed over it, so that a service reading it on SIGHUP never
// sees half of it.
func writePolicy(path string, lines []string, mode fs.FileMode) error {
	data := []byte(strings.Join(lines, "\n") + "\n")
	if _, err := policy.Parse(data); err != nil {
		return fmt.Errorf("the policy would not be valid: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

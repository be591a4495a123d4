package docs

import (
	"bufio"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// root is the repository, seen from this package's directory.
const root = ".."

// flagSources are the packages, besides cmd/NAME itself, that register flags for the
// binaries: the daemons' shared flag table, the TLS flags, the common command-line
// pieces.
var flagSources = []string{"internal/daemon", "internal/tlsconf", "internal/cli"}

// plainCommands are the commands a page may use whose arguments are not the project's
// to check (system tools). Anything else must be make, go, bin/NAME or a script.
var plainCommands = map[string]bool{
	"kill": true, "curl": true, "mkdir": true, "rm": true, "eval": true, "openssl": true,
	"sleep": true, "export": true, "cd": true, "wait": true, "cat": true, "pidof": true,
	"echo": true, "grep": true,
}

// command is one simple command of a page's shell block: its words, where it was.
type command struct {
	where string
	words []string
}

// shellCommands returns the commands of every ```sh block of the Markdown text, with
// comments removed, continuation lines joined, and lists (&&, ||, ;, |, &) split.
func shellCommands(name, text string) []command {
	var cmds []command
	in := false
	pending, start := "", 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			in = !in && trimmed == "```sh"
			continue
		}
		if !in {
			continue
		}
		if pending == "" {
			start = n
		}
		line = stripComment(line)
		if body, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			pending += body + " "
			continue
		}
		pending += line
		for _, words := range splitList(words(pending)) {
			cmds = append(cmds, command{where: fmt.Sprintf("%s:%d", name, start), words: words})
		}
		pending = ""
	}
	return cmds
}

// stripComment cuts a line at a # that starts a word outside quotes.
func stripComment(line string) string {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

// words splits a line into shell words, keeping quoted text and $(...) inside one
// word; the list operators become words of their own.
func words(line string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	depth := 0
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			cur.WriteRune(r)
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
			cur.WriteRune(r)
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			depth++
			cur.WriteString("$(")
			i++
		case r == ')' && depth > 0:
			depth--
			cur.WriteRune(r)
		case depth > 0:
			cur.WriteRune(r)
		case r == ' ' || r == '\t':
			flush()
		case r == ';' || r == '&' || r == '|':
			// A | inside a word (1000|10000, block|poll) is part of the word;
			// standing alone or ending a word it is an operator.
			if r == '|' && cur.Len() > 0 && i+1 < len(rs) && rs[i+1] != ' ' {
				cur.WriteRune(r)
				continue
			}
			flush()
			op := string(r)
			if i+1 < len(rs) && rs[i+1] == r {
				op += string(r)
				i++
			}
			out = append(out, op)
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// splitList cuts a list of words at its operators into simple commands.
func splitList(ws []string) [][]string {
	var out [][]string
	var cur []string
	for _, w := range ws {
		switch w {
		case ";", "&", "|", "&&", "||":
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
		default:
			cur = append(cur, w)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// tree is what the commands are checked against: the Makefile's targets and, for each
// binary under cmd/, the string literals of its source and of flagSources.
type tree struct {
	root     string
	targets  map[string]bool
	literals map[string]map[string]bool
}

var (
	targetRE = regexp.MustCompile(`(?m)^([A-Za-z0-9_.-]+(?: [A-Za-z0-9_.-]+)*):`)
)

func loadTree(root string) (*tree, error) {
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	t := &tree{root: root, targets: map[string]bool{}, literals: map[string]map[string]bool{}}
	for _, m := range targetRE.FindAllStringSubmatch(string(mk), -1) {
		for _, name := range strings.Fields(m[1]) {
			t.targets[name] = true
		}
	}
	shared := map[string]bool{}
	for _, dir := range flagSources {
		if err := addLiterals(shared, filepath.Join(root, dir)); err != nil {
			return nil, err
		}
	}
	bins, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		return nil, err
	}
	for _, b := range bins {
		if !b.IsDir() {
			continue
		}
		lits := map[string]bool{}
		for l := range shared {
			lits[l] = true
		}
		if err := addLiterals(lits, filepath.Join(root, "cmd", b.Name())); err != nil {
			return nil, err
		}
		t.literals[b.Name()] = lits
	}
	return t, nil
}

// addLiterals adds the string literals of a directory's non-test Go files.
func addLiterals(into map[string]bool, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		var sc scanner.Scanner
		sc.Init(fset.AddFile(f, -1, len(src)), src, nil, 0)
		for {
			_, tok, lit := sc.Scan()
			if tok == token.EOF {
				break
			}
			if tok == token.STRING {
				if v, err := strconv.Unquote(lit); err == nil {
					into[v] = true
				}
			}
		}
	}
	return nil
}

var (
	assignRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	subcmdRE  = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	numericRE = regexp.MustCompile(`^-[0-9.]+$`)
)

// check returns what a command names that does not exist.
func (t *tree) check(words []string) []string {
	for len(words) > 0 && assignRE.MatchString(words[0]) {
		words = words[1:]
	}
	if len(words) == 0 {
		return nil
	}
	name, args := words[0], words[1:]
	var bad []string
	switch {
	case plainCommands[name]:
		return nil
	case name == "make":
		for _, a := range args {
			if strings.HasPrefix(a, "-") || assignRE.MatchString(a) {
				continue
			}
			if !t.targets[a] {
				bad = append(bad, fmt.Sprintf("make target %q is not in the Makefile", a))
			}
		}
		return bad
	case name == "go":
		for _, a := range args {
			if strings.HasPrefix(a, "./") {
				bad = append(bad, t.checkPath(a, true)...)
			}
		}
		return bad
	case strings.HasPrefix(name, "scripts/"):
		return t.checkPath(name, true)
	case strings.HasPrefix(name, "bin/"):
		return t.checkBinary(strings.TrimPrefix(name, "bin/"), args)
	}
	return []string{fmt.Sprintf("%q is neither make, go, a binary under bin/, a script nor a known system command", name)}
}

func (t *tree) checkBinary(bin string, args []string) []string {
	lits, ok := t.literals[bin]
	if !ok {
		return []string{fmt.Sprintf("binary %q: there is no cmd/%s", bin, bin)}
	}
	// Subcommands: larsctl's first bare word after its global flags and the word after
	// it (route add, tls cert, user del); any other binary's first argument when it is
	// a bare word (lars-loadgen compare). Each must be spelled in the binary's source.
	depth := 1
	if bin == "larsctl" {
		depth = 2
	}
	var subs []string // the subcommand words so far
	var bad []string
	for i, a := range args {
		switch {
		case a == "..." || numericRE.MatchString(a):
		case strings.HasPrefix(a, "-"):
			flag, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !lits[flag] {
				bad = append(bad, fmt.Sprintf("%s has no flag -%s", bin, flag))
			}
		case subcmdRE.MatchString(a):
			if len(subs) >= depth || (bin != "larsctl" && i > 0) || (len(subs) > 0 && args[i-1][0] == '-') {
				subs = make([]string, depth) // a flag's value or an argument: no subcommand past it
				continue
			}
			subs = append(subs, a)
			if !lits[a] && !lits[strings.Join(subs, " ")] { // larsctl names "route add"
				bad = append(bad, fmt.Sprintf("%s has no subcommand %q", bin, strings.Join(subs, " ")))
			}
		default:
			if len(subs) > 0 {
				subs = make([]string, depth)
			}
			bad = append(bad, t.checkPath(a, false)...)
		}
	}
	return bad
}

// checkPath reports a relative path into the tree that does not exist. Unless the
// word must be such a path (a package, a script), only a word whose first element is
// a file or folder of the repository is taken for one.
func (t *tree) checkPath(p string, must bool) []string {
	p = strings.TrimSuffix(strings.TrimPrefix(p, "./"), "...")
	if p == "" || strings.ContainsAny(p, ":$'\"=*") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "bin/") || !strings.Contains(p, "/") {
		return nil
	}
	first, _, _ := strings.Cut(p, "/")
	if _, err := os.Stat(filepath.Join(t.root, first)); err != nil && !must {
		return nil // not a path of the tree (ca/, certs/, a file the command writes)
	}
	if _, err := os.Stat(filepath.Join(t.root, p)); err != nil {
		return []string{fmt.Sprintf("path %s does not exist", p)}
	}
	return nil
}

// pages are the Markdown files whose commands are checked: the README's tour and
// every page of docs/.
func pages(t *testing.T) map[string]string {
	t.Helper()
	names := []string{filepath.Join(root, "README.md")}
	more, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, more...)
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.ToSlash(n)] = string(b)
	}
	return out
}

// TestCommandsNameWhatExists checks every shell command of the README and of docs/:
// each make target is in the Makefile, each bin/NAME is a cmd/NAME, and each of its
// flags and subcommands is spelled in that binary's source; paths into the tree exist.
func TestCommandsNameWhatExists(t *testing.T) {
	tr, err := loadTree(root)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for name, text := range pages(t) {
		for _, c := range shellCommands(name, text) {
			total++
			for _, problem := range tr.check(c.words) {
				t.Errorf("%s: %s: %s", c.where, strings.Join(c.words, " "), problem)
			}
		}
	}
	if total < 50 {
		t.Fatalf("only %d commands found in the pages: is the ```sh extraction broken?", total)
	}
}

// TestReadmeStartsWithDemoAndTest keeps the two commands a newcomer types first at
// the top of the README, and the tour present.
func TestReadmeStartsWithDemoAndTest(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := shellCommands("README.md", string(b))
	if len(cmds) < 10 {
		t.Fatalf("the README has %d shell commands; the tour is missing", len(cmds))
	}
	first := []string{strings.Join(cmds[0].words, " "), strings.Join(cmds[1].words, " ")}
	if !slices.Equal(first, []string{"make demo", "make test"}) {
		t.Errorf("the README's first commands are %q, want make demo and make test", first)
	}
	if n := strings.Count(string(b), "\n"); n >= 200 {
		t.Errorf("README.md has %d lines; the front page stays under 200", n)
	}
}

// TestCheckRefusesWhatDoesNotExist feeds the checker commands that name what the tree
// does not have, and commands that are fine.
func TestCheckRefusesWhatDoesNotExist(t *testing.T) {
	tr, err := loadTree(root)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{
		"make no-such-target",
		"bin/lars-nothing -routes examples/routes.txt",
		"bin/lars-agent -routes examples/routes.txt -no-such-flag 3",
		"bin/lars-agent -routes examples/no-such-file.txt",
		"bin/larsctl no-such-command 1 1",
		"bin/larsctl -config /etc/lars/lars_dns.conf route no-such-sub 1 1",
		"bin/lars-loadgen no-such-mode before.json",
		"go test ./no-such-package/",
		"frobnicate --all",
		"scripts/no-such-script.sh start",
	}
	for _, line := range bad {
		cmds := shellCommands("sample", "```sh\n"+line+"\n```\n")
		if len(cmds) != 1 {
			t.Fatalf("%q: %d commands, want 1", line, len(cmds))
		}
		if problems := tr.check(cmds[0].words); len(problems) == 0 {
			t.Errorf("%q passed the check; it names something that does not exist", line)
		}
	}
	good := "```sh\n" + `DEMO_KEEP=1 make demo     # a comment with -no-such-flag
bin/lars-agent -routes examples/routes.txt -admin 127.0.0.1:6060 &   # UDP 8888
kill -HUP $(pidof lars-agent)
bin/lars-echo -addr 127.0.0.1:9999 & bin/lars-loadgen -echo -ports 9999 -duration 5s
bin/lars-echo -wait block|poll -ports 9001,9002 && bin/lars-loadgen -modids 1-100 \
  -concurrency 64 -duration 10s
bin/lars-loadgen compare before.json after.json -html compare.html
bin/larsctl -config /etc/lars/lars_dns.conf route add 1 1 10.0.1.11 8011
bin/larsctl user add -role editor alice
LARS_CONSOLE_TOKEN=$(openssl rand -hex 16) bin/lars-console -db 'lars:secret@tcp(10.0.0.5:3306)/lars_dns'
eval "$(scripts/mariadb.sh start && scripts/mariadb.sh env)"
go build -o bin/ ./cmd/...
` + "```\n"
	cmds := shellCommands("sample", good)
	if len(cmds) != 13 {
		var got []string
		for _, c := range cmds {
			got = append(got, strings.Join(c.words, " "))
		}
		t.Fatalf("%d commands, want 13: %q", len(cmds), got)
	}
	for _, c := range cmds {
		if problems := tr.check(c.words); len(problems) != 0 {
			t.Errorf("%s: %v", strings.Join(c.words, " "), problems)
		}
	}
}

// TestConfigurationFlagsExist checks the flag tables of configuration.md: every flag
// named in the first column of a table under a binary's heading is one that binary
// registers.
func TestConfigurationFlagsExist(t *testing.T) {
	tr, err := loadTree(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	flagRE := regexp.MustCompile("`(-[a-z][a-z0-9-]*)")
	bin, checked := "", 0
	for n, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			bin = ""
			if _, ok := tr.literals[h]; ok {
				bin = h
			}
			continue
		}
		if bin == "" || !strings.HasPrefix(line, "| `-") {
			continue
		}
		first := strings.Split(line, " | ")[0]
		for _, m := range flagRE.FindAllStringSubmatch(first, -1) {
			checked++
			if !tr.literals[bin][strings.TrimPrefix(m[1], "-")] {
				t.Errorf("configuration.md:%d: %s has no flag %s", n+1, bin, m[1])
			}
		}
	}
	if checked < 40 {
		t.Fatalf("only %d flags found in configuration.md's tables", checked)
	}
}

package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var (
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	headingRE = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
)

// anchors returns the anchors GitHub gives the headings of a Markdown text: lower
// case, punctuation dropped, spaces as hyphens, a repeated one numbered.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		m := headingRE.FindStringSubmatch(line)
		if inFence || m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestLinksResolve checks every relative link of the project's Markdown pages: the
// file it names exists and, when it names a heading, the heading does.
func TestLinksResolve(t *testing.T) {
	pages := []string{"../README.md", "../PERFORMANCE.md", "../RELIABILITY.md", "../loadgen/SCHEMA.md"}
	more, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, more...)
	links := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			file, anchor, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: link %s: %v", page, target, err)
				continue
			}
			if anchor != "" && !anchors(string(text))[anchor] {
				t.Errorf("%s: link %s: %s has no heading #%s", page, target, path, anchor)
			}
		}
	}
	if links < 20 {
		t.Fatalf("only %d relative links found: is the extraction broken?", links)
	}
}

// TestAnchors pins the anchor rule on headings of the kinds the pages use.
func TestAnchors(t *testing.T) {
	got := anchors("# Performance\n## The route service (`routesvc/`, `lars-dns`)\n" +
		"## Moving from the C++ Lars\n## The load generator's own cost (issue 14)\n" +
		"### GetHost on 100,000 keys, in cache misses\n```sh\n# not a heading\n```\n## Performance\n")
	for _, want := range []string{"performance", "the-route-service-routesvc-lars-dns", "moving-from-the-c-lars",
		"the-load-generators-own-cost-issue-14", "gethost-on-100000-keys-in-cache-misses", "performance-1"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Errorf("a comment in a code block became an anchor")
	}
}

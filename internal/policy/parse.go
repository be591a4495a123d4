package policy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Bounds of a policy file.
const (
	// MaxFileBytes bounds a policy file.
	MaxFileBytes = 1 << 20
	// MaxRules bounds its rules.
	MaxRules = 10000
)

// Load reads the policy file at path (see the package comment).
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// Parse reads a policy from data; its error names the line at fault.
func Parse(data []byte) (*Policy, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxFileBytes)
	}
	p := &Policy{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxFileBytes)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		r, err := parseRule(fields)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if len(p.rules) == MaxRules {
			return nil, fmt.Errorf("line %d: more than %d rules", n, MaxRules)
		}
		r.Line = n
		p.rules = append(p.rules, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// parseRule reads ACTION IDENTITY SERVICES.
func parseRule(fields []string) (Rule, error) {
	if len(fields) != 3 {
		return Rule{}, fmt.Errorf("%d fields: want ACTION IDENTITY SERVICES", len(fields))
	}
	a := Action(fields[0])
	if !slices.Contains(Actions, a) {
		return Rule{}, fmt.Errorf("unknown action %q: want one of %v", fields[0], Actions)
	}
	who, err := ParsePattern(fields[1])
	if err != nil {
		return Rule{}, err
	}
	svc, err := ParseServices(fields[2])
	if err != nil {
		return Rule{}, err
	}
	return Rule{Action: a, Who: who, Services: svc}, nil
}

// Package vectors holds the golden frames of the Lars wire protocol (testdata/
// vectors.txt, copied from the protocol's specification) for every package's tests.
package vectors

import (
	_ "embed"
	"encoding/hex"
	"fmt"
	"strings"
)

//go:embed testdata/vectors.txt
var text string

// Text returns vectors.txt as it is.
func Text() string { return text }

// All returns every golden frame by name. Each call returns fresh copies.
func All() map[string][]byte {
	out, err := parse(text)
	if err != nil {
		panic("BUG: embedded vectors.txt does not parse: " + err.Error())
	}
	return out
}

// Frame returns one golden frame by name; it panics on an unknown name, a bug in the
// calling test.
func Frame(name string) []byte {
	f, ok := All()[name]
	if !ok {
		panic("BUG: no golden frame named " + name)
	}
	return f
}

// parse reads "name hex" lines; blank lines and '#' comments are skipped.
func parse(s string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hx, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("line %d: want \"name hex\"", i+1)
		}
		b, err := hex.DecodeString(strings.TrimSpace(hx))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("line %d: %s named twice", i+1, name)
		}
		out[name] = b
	}
	return out, nil
}

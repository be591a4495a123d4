package larsconf

import (
	"bytes"
	"fmt"
	"unicode"
)

// checkLines finds the first line that is neither blank, a comment, a section header
// nor a key-value pair, so that the error names its number. The line's text is not
// quoted: it may hold the password.
func checkLines(data []byte) error {
	n := 0
	for len(data) > 0 {
		n++
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimLeftFunc(line, unicode.IsSpace)
		if len(line) == 0 {
			continue
		}
		switch line[0] {
		case '#', ';':
			continue
		case '[':
			end := bytes.LastIndexByte(line, ']')
			if end < 0 {
				return fmt.Errorf("line %d: section header without ']'", n)
			}
			if end == 1 {
				return fmt.Errorf("line %d: empty section name", n)
			}
			continue
		case '"', '`':
			continue // a quoted key: ini checks it, and its error does not say where
		}
		switch bytes.IndexAny(line, "=:") {
		case -1:
			return fmt.Errorf("line %d: want \"key = value\", \"[section]\" or a '#' comment", n)
		case 0:
			return fmt.Errorf("line %d: key name missing before '='", n)
		}
	}
	return nil
}

package policy

import (
	"fmt"
	"strings"

	"github.com/larsgo/lars/internal/tlsconf"
	"github.com/larsgo/lars/internal/tlsgen"
)

// Pattern matches identities in the form tlsconf.Peer.String writes: exactly, or,
// when it ends in '*', every identity that begins with the text before it.
type Pattern struct {
	text   string // without the trailing '*' when prefix
	prefix bool
}

// String returns the pattern as written.
func (p Pattern) String() string {
	if p.prefix {
		return p.text + "*"
	}
	return p.text
}

// Matches reports whether the identity id (tlsconf.Peer.String) is one p names.
func (p Pattern) Matches(id string) bool {
	if p.prefix {
		return strings.HasPrefix(id, p.text)
	}
	return id == p.text
}

// ParsePattern reads an identity pattern: "*", ROLE/NAME or NAME (exact, in
// tlsconf.Peer.String's form), or one of those cut short and ended by '*'. The role,
// when one is written in full, must be one tlsgen gives.
func ParsePattern(s string) (Pattern, error) {
	if s == "" {
		return Pattern{}, fmt.Errorf("empty identity")
	}
	text, prefix := strings.CutSuffix(s, "*")
	if strings.Contains(text, "*") {
		return Pattern{}, fmt.Errorf("identity %q: '*' may only end it", s)
	}
	if !prefix {
		if _, err := tlsconf.ParseIdentity(text); err != nil {
			return Pattern{}, err
		}
		return Pattern{text: text}, nil
	}
	role, name, hasRole := strings.Cut(text, "/")
	if hasRole {
		if _, err := tlsgen.ParseRole(role); err != nil {
			return Pattern{}, fmt.Errorf("identity %q: %w", s, err)
		}
	} else {
		name = text
	}
	for i := 0; i < len(name); i++ { // a cut-short name, perhaps inside a %XX escape
		if c := name[i]; !tlsgen.NameByte(c) && c != '%' {
			return Pattern{}, fmt.Errorf("identity %q: byte %q: want letters, digits, '.', '-', '_' and %%XX", s, c)
		}
	}
	return Pattern{text: text, prefix: true}, nil
}

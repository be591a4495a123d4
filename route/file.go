package route

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// A routes file lists one host of one service per line:
//
//	modid cmdid ip port [weight=N] [zone=NAME]
//
// fields separated by spaces or tabs; ip is dotted IPv4 or IPv6, bare or in brackets.
// Blank lines and lines starting with '#' are ignored, as is anything after a '#'.

// ErrBadRoutes is wrapped by every error about a routes file's content.
var ErrBadRoutes = errors.New("bad routes file")

// MaxLineLen bounds one line of a routes file.
const MaxLineLen = 4096

// ParseLine parses one line of a routes file. ok is false for a line without a route
// (blank or a comment).
func ParseLine(line string) (k Key, h Host, ok bool, err error) {
	text, _, _ := strings.Cut(line, "#")
	f := strings.Fields(text)
	if len(f) == 0 {
		return Key{}, Host{}, false, nil
	}
	if len(f) < 4 || len(f) > 6 {
		return Key{}, Host{}, false, fmt.Errorf("want \"modid cmdid ip port [weight=N] [zone=NAME]\", got %d fields", len(f))
	}
	if k, err = ParseKey(f[0], f[1]); err != nil {
		return Key{}, Host{}, false, err
	}
	if h, err = ParseHost(f[2], f[3]); err != nil {
		return Key{}, Host{}, false, err
	}
	var seen [2]bool
	for _, opt := range f[4:] {
		if err := h.setOption(opt, &seen); err != nil {
			return Key{}, Host{}, false, err
		}
	}
	return k, h, true, nil
}

// AppendLine appends the routes-file line of host h of key k, without a newline: an
// IPv6 address is written bare, weight and zone only when h names them.
func AppendLine(dst []byte, k Key, h Host) []byte {
	dst = strconv.AppendInt(dst, int64(k.Modid), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(k.Cmdid), 10)
	dst = append(dst, ' ')
	dst = h.Addr.Addr().AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(h.Addr.Port()), 10)
	return h.appendOptions(dst, ' ')
}

// ParseRoutes reads a routes file. A host listed twice for a key counts once when both
// lines are the same, and is an error when they name another weight or zone. The first
// bad line stops the parse with an error naming name, its line number and reason.
// Each key's hosts come out normalised.
func ParseRoutes(r io.Reader, name string) (map[Key][]Host, error) {
	routes := map[Key][]Host{}
	type id struct {
		key  Key
		addr netip.AddrPort
	}
	seen := map[id]Host{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), MaxLineLen)
	line := 0
	for sc.Scan() {
		line++
		k, h, ok, err := ParseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%w %s line %d: %w", ErrBadRoutes, name, line, err)
		}
		if !ok {
			continue
		}
		if prev, dup := seen[id{k, h.Addr}]; dup {
			if prev != h {
				return nil, fmt.Errorf("%w %s line %d: %s %s is listed before as %s", ErrBadRoutes, name, line, k, h, prev)
			}
			continue
		}
		seen[id{k, h.Addr}] = h
		routes[k] = append(routes[k], h)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w %s line %d: line longer than %d bytes", ErrBadRoutes, name, line+1, MaxLineLen)
		}
		return nil, fmt.Errorf("cannot read routes file %s: %w", name, err)
	}
	for k, hs := range routes {
		routes[k] = Normalize(hs)
	}
	return routes, nil
}

// SortedKeys returns the keys of routes in CompareKeys order.
func SortedKeys[V any](routes map[Key]V) []Key {
	keys := make([]Key, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, CompareKeys)
	return keys
}

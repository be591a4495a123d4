package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/lb"
)

// ErrBadRoutes is wrapped by every error about a routes file's content.
var ErrBadRoutes = errors.New("bad routes file")

// maxRouteLine bounds one line of a routes file.
const maxRouteLine = 4096

// ParseRoutes reads routes, one per line: "modid cmdid ip port", fields separated by
// spaces or tabs. Blank lines and lines starting with '#' (after spaces) are ignored,
// as is anything after a '#' on a route line. A host listed twice for a key counts
// once. The first bad line stops the parse with an error naming its line number and
// reason; name is used in error messages.
func ParseRoutes(r io.Reader, name string) (map[lb.Key][]lb.Host, error) {
	routes := map[lb.Key][]lb.Host{}
	seen := map[[2]uint64]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxRouteLine)
	line := 0
	for sc.Scan() {
		line++
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		key, host, err := parseRouteLine(fields)
		if err != nil {
			return nil, fmt.Errorf("%w %s line %d: %w", ErrBadRoutes, name, line, err)
		}
		id := [2]uint64{key.Pack(), uint64(uint32(host.IP))<<32 | uint64(uint32(host.Port))}
		if seen[id] {
			continue
		}
		seen[id] = true
		routes[key] = append(routes[key], host)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w %s line %d: line longer than %d bytes", ErrBadRoutes, name, line+1, maxRouteLine)
		}
		return nil, fmt.Errorf("cannot read routes file %s: %w", name, err)
	}
	return routes, nil
}

func parseRouteLine(f []string) (lb.Key, lb.Host, error) {
	if len(f) != 4 {
		return lb.Key{}, lb.Host{}, fmt.Errorf("want 4 fields \"modid cmdid ip port\", got %d", len(f))
	}
	modid, err := strconv.ParseInt(f[0], 10, 32)
	if err != nil {
		return lb.Key{}, lb.Host{}, fmt.Errorf("modid %q is not a 32-bit integer", f[0])
	}
	cmdid, err := strconv.ParseInt(f[1], 10, 32)
	if err != nil {
		return lb.Key{}, lb.Host{}, fmt.Errorf("cmdid %q is not a 32-bit integer", f[1])
	}
	ip, err := codec.ParseIPv4(f[2])
	if err != nil {
		return lb.Key{}, lb.Host{}, fmt.Errorf("ip %q is not an IPv4 address", f[2])
	}
	port, err := strconv.ParseUint(f[3], 10, 16)
	if err != nil || port == 0 {
		return lb.Key{}, lb.Host{}, fmt.Errorf("port %q is not in 1..65535", f[3])
	}
	return lb.Key{Modid: int32(modid), Cmdid: int32(cmdid)}, lb.Host{IP: ip, Port: int32(port)}, nil
}

// LoadRoutesFile reads and parses a routes file (see ParseRoutes).
func LoadRoutesFile(path string) (map[lb.Key][]lb.Host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open routes file: %w", err)
	}
	defer f.Close()
	return ParseRoutes(f, path)
}

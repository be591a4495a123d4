package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/larsgo/lars/lb"
	"github.com/larsgo/lars/route"
)

// The route cache is the agent's routes on disk, so that an agent started while the
// route service is down serves what it last knew instead of nothing. It is a routes
// file (route.ParseRoutes reads it) whose first line states what follows:
//
//	# lars-agent route cache v1 keys=K hosts=H crc32=C
//
// C being the CRC-32 (IEEE) of every byte after that line. A file whose counts or
// checksum do not match (truncated by a crash, edited, corrupt) is refused whole.

// cacheMagic starts a route cache's first line.
const cacheMagic = "# lars-agent route cache v1 "

// errBadCache is wrapped by every error about a route cache's content.
var errBadCache = errors.New("bad route cache")

// encodeCache returns the cache file's bytes for routes, keys and hosts sorted so that
// the same routes always give the same bytes.
func encodeCache(routes map[route.Key][]route.Host) []byte {
	var body []byte
	nkeys, nhosts := 0, 0
	for _, k := range route.SortedKeys(routes) {
		if len(routes[k]) == 0 {
			continue
		}
		nkeys++
		for _, h := range route.Normalize(slices.Clone(routes[k])) {
			body = route.AppendLine(body, k, h)
			body = append(body, '\n')
			nhosts++
		}
	}
	head := fmt.Sprintf("%skeys=%d hosts=%d crc32=%08x\n", cacheMagic, nkeys, nhosts, crc32.ChecksumIEEE(body))
	return append([]byte(head), body...)
}

// decodeCache parses a cache file's bytes, checking its first line against the rest.
func decodeCache(data []byte, name string) (map[route.Key][]route.Host, error) {
	head, body, ok := bytes.Cut(data, []byte{'\n'})
	if !ok || !bytes.HasPrefix(head, []byte(cacheMagic)) {
		return nil, fmt.Errorf("%w %s: no header line", errBadCache, name)
	}
	var keys, hosts int
	var sum uint32
	if _, err := fmt.Sscanf(string(head[len(cacheMagic):]), "keys=%d hosts=%d crc32=%x", &keys, &hosts, &sum); err != nil {
		return nil, fmt.Errorf("%w %s: header %q: %v", errBadCache, name, head, err)
	}
	if got := crc32.ChecksumIEEE(body); got != sum {
		return nil, fmt.Errorf("%w %s: checksum %08x, header says %08x (truncated or corrupt)", errBadCache, name, got, sum)
	}
	routes, err := route.ParseRoutes(bytes.NewReader(body), name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadCache, err)
	}
	n := 0
	for _, hs := range routes {
		n += len(hs)
	}
	if len(routes) != keys || n != hosts {
		return nil, fmt.Errorf("%w %s: %d keys and %d hosts, header says %d and %d", errBadCache, name, len(routes), n, keys, hosts)
	}
	return routes, nil
}

// LoadCache reads the route cache at path.
func LoadCache(path string) (map[route.Key][]route.Host, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read route cache: %w", err)
	}
	return decodeCache(data, path)
}

// Modes of the route cache, whatever the umask: the routes are the operators' and the
// services', not every local user's.
const (
	// CacheFileMode is the default: the owner alone reads and writes.
	CacheFileMode fs.FileMode = 0o600
	// CacheGroupFileMode lets the file's group read it too (Config.CacheGroupReadable).
	CacheGroupFileMode fs.FileMode = 0o640
)

// WriteCache writes routes to the route cache at path atomically, with exactly mode: a
// temporary file in the same folder, written and synced, renamed over path, and the
// folder synced, so a crash leaves either the old cache or the new one, never a mix.
func WriteCache(path string, routes map[route.Key][]route.Host, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write route cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	err = tmp.Chmod(mode)
	w := bufio.NewWriter(tmp)
	if err == nil {
		_, err = w.Write(encodeCache(routes))
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cannot write route cache %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename itself durable
		d.Sync()
		d.Close()
	}
	return nil
}

// tableRoutes returns the routes of every key of t that has hosts.
func tableRoutes(t *lb.Table) map[route.Key][]route.Host {
	routes := make(map[route.Key][]route.Host)
	t.Walk(func(ki lb.KeyInfo) {
		if len(ki.Hosts) == 0 {
			return
		}
		hosts := make([]route.Host, len(ki.Hosts))
		for i, h := range ki.Hosts {
			hosts[i] = h.Host
		}
		routes[ki.Key] = hosts
	})
	return routes
}

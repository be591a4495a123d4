package agent

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/larsgo/lars/route"
)

func cacheRoutes() map[route.Key][]route.Host {
	return map[route.Key][]route.Host{
		{Modid: 1, Cmdid: 1}:          {route.FromWire(0x7F000001, 7000), route.FromWire(0x7F000002, 7001)},
		{Modid: 2, Cmdid: 9}:          {route.FromWire(-1062731519, 8080)}, // 192.168.1.1: a negative int32
		{Modid: 100000, Cmdid: 2}:     {route.FromWire(0x0A000001, 65535)},
		{Modid: 2147483647, Cmdid: 0}: {route.FromWire(1, 1)},
		// The route extension: weights, zones, IPv6 hosts (sorted: IPv4 first).
		{Modid: 3, Cmdid: 3}: {{Addr: netip.MustParseAddrPort("10.0.0.1:80"), Weight: 300, Zone: "eu-1a"},
			{Addr: netip.MustParseAddrPort("[2001:db8::1]:80"), Zone: "eu-1b"}},
	}
}

func TestCacheRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "routes.cache")
	want := cacheRoutes()
	if err := WriteCache(path, want, CacheFileMode); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCache(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %v, want %v", got, want)
	}
	// The same routes in any order give the same bytes.
	a := encodeCache(want)
	shuffled := map[route.Key][]route.Host{}
	for k, hs := range want {
		rev := make([]route.Host, len(hs))
		for i, h := range hs {
			rev[len(hs)-1-i] = h
		}
		shuffled[k] = rev
	}
	shuffled[route.Key{Modid: 5, Cmdid: 5}] = nil // keys without hosts are not cached
	if b := encodeCache(shuffled); !bytes.Equal(a, b) {
		t.Fatalf("encoding depends on order:\n%s\n%s", a, b)
	}
	// An empty table is a valid cache too.
	if err := WriteCache(path, nil, CacheFileMode); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadCache(path); err != nil || len(got) != 0 {
		t.Fatalf("empty cache read back as %v, %v", got, err)
	}
}

func TestCacheReplacedAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "routes.cache")
	if err := WriteCache(path, cacheRoutes(), CacheFileMode); err != nil {
		t.Fatal(err)
	}
	newer := map[route.Key][]route.Host{{Modid: 3, Cmdid: 3}: {route.FromWire(3, 3)}}
	if err := WriteCache(path, newer, CacheFileMode); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadCache(path); err != nil || !reflect.DeepEqual(got, newer) {
		t.Fatalf("after the second write: %v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("files left in the cache's folder: %v", entries)
	}
	// A write that cannot happen leaves the old cache as it was.
	if err := WriteCache(filepath.Join(dir, "missing", "routes.cache"), newer, CacheFileMode); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
	if got, err := LoadCache(path); err != nil || !reflect.DeepEqual(got, newer) {
		t.Fatalf("old cache damaged: %v, %v", got, err)
	}
}

func TestCacheRefusesDamagedFiles(t *testing.T) {
	good := encodeCache(cacheRoutes())
	head, body, _ := bytes.Cut(good, []byte{'\n'})
	lines := bytes.SplitAfter(body, []byte{'\n'})
	dropped := bytes.Join(lines[1:], nil) // one host line less, checksum recomputed
	wrongCount := fmt.Sprintf("%skeys=%d hosts=%d crc32=%08x\n%s", cacheMagic, 4, 5, crc32.ChecksumIEEE(dropped), dropped)
	flipped := bytes.Clone(good)
	flipped[len(flipped)-3] ^= 0x01
	cases := map[string][]byte{
		"empty":             nil,
		"no header":         body,
		"truncated":         good[:len(good)-7],
		"header only":       append(bytes.Clone(head), '\n'),
		"flipped byte":      flipped,
		"counts off":        []byte(wrongCount),
		"bad header fields": []byte(cacheMagic + "keys=x\n"),
		"garbage":           []byte("\x00\x01\x02 not a cache at all"),
	}
	dir := t.TempDir()
	for name, data := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(path, data, 0o600)
		if _, err := LoadCache(path); !errors.Is(err, errBadCache) {
			t.Errorf("%s: %v, want an error wrapping errBadCache", name, err)
		}
	}
	if _, err := LoadCache(filepath.Join(dir, "none")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzDecodeCache(f *testing.F) {
	f.Add(encodeCache(cacheRoutes()))
	f.Add([]byte(cacheMagic + "keys=0 hosts=0 crc32=00000000\n"))
	f.Add([]byte("1 1 127.0.0.1 80\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		routes, err := decodeCache(data, "fuzz")
		if err != nil {
			return
		}
		// What decodes encodes back to a cache that decodes to the same routes.
		again, err := decodeCache(encodeCache(routes), "again")
		if err != nil || !reflect.DeepEqual(again, routes) {
			t.Fatalf("round trip of %v: %v, %v", routes, again, err)
		}
	})
}

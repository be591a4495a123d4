package route

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Key names a route: a (modid, cmdid) pair.
type Key struct {
	Modid, Cmdid int32
}

// Pack returns PackKey(k.Modid, k.Cmdid).
func (k Key) Pack() uint64 { return PackKey(k.Modid, k.Cmdid) }

// String returns "modid/cmdid".
func (k Key) String() string {
	b := strconv.AppendInt(make([]byte, 0, 24), int64(k.Modid), 10)
	b = append(b, '/')
	return string(strconv.AppendInt(b, int64(k.Cmdid), 10))
}

// PackKey packs a (modid, cmdid) pair into one uint64, modid in the high 32 bits: the
// form tables and maps are keyed by. Packed keys order as CompareKeys does.
func PackKey(modid, cmdid int32) uint64 {
	return uint64(uint32(modid))<<32 | uint64(uint32(cmdid))
}

// UnpackKey is the inverse of PackKey.
func UnpackKey(k uint64) (modid, cmdid int32) {
	return int32(uint32(k >> 32)), int32(uint32(k))
}

// CompareKeys orders keys as the store does: by modid, then cmdid, each as an
// unsigned 32-bit number.
func CompareKeys(a, b Key) int { return cmp.Compare(a.Pack(), b.Pack()) }

// MaxID is the largest modid or cmdid: the store keeps them in unsigned columns and
// Lars's wire carries them signed, so both hold 0..MaxID.
const MaxID = 1<<31 - 1

// ParseID parses a modid or cmdid, 0..MaxID. name ("modid", "cmdid") is used in
// the error.
func ParseID(name, s string) (int32, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s %q is not an integer in 0..%d", name, s, MaxID)
	}
	return int32(v), nil
}

// ParseKey parses a modid and a cmdid (ParseID).
func ParseKey(modid, cmdid string) (Key, error) {
	m, err := ParseID("modid", modid)
	if err != nil {
		return Key{}, err
	}
	c, err := ParseID("cmdid", cmdid)
	if err != nil {
		return Key{}, err
	}
	return Key{Modid: m, Cmdid: c}, nil
}

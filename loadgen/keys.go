package loadgen

import "math/rand/v2"

// maxKeys bounds the key space: the last host seen per key is kept in a table.
const maxKeys = 1 << 22

func keyCount(m, c Range) int64 {
	return (int64(m.Hi) - int64(m.Lo) + 1) * (int64(c.Hi) - int64(c.Lo) + 1)
}

// keySpace draws keys and knows which port each goes to. Index i of the key space is
// modid Modids.Lo + i / ncmd and cmdid Cmdids.Lo + i % ncmd.
type keySpace struct {
	mods, cmds Range
	ncmd, n    uint64
	nports     int64
	rng        *rand.Rand
	zipf       *rand.Zipf // nil for a uniform spread
}

func newKeySpace(c *Config, rng *rand.Rand) *keySpace {
	ks := &keySpace{
		mods:   c.Modids,
		cmds:   c.Cmdids,
		ncmd:   uint64(int64(c.Cmdids.Hi) - int64(c.Cmdids.Lo) + 1),
		n:      uint64(keyCount(c.Modids, c.Cmdids)),
		nports: int64(len(c.Ports)),
		rng:    rng,
	}
	if c.Spread == Zipf && ks.n > 1 {
		ks.zipf = rand.NewZipf(rng, c.ZipfS, 1, ks.n-1)
	}
	return ks
}

// draw returns the index of the next key.
func (ks *keySpace) draw() uint64 {
	if ks.zipf != nil {
		return ks.zipf.Uint64()
	}
	if ks.n == 1 {
		return 0
	}
	return ks.rng.Uint64N(ks.n)
}

// key returns the modid and cmdid of key index i.
func (ks *keySpace) key(i uint64) (modid, cmdid int32) {
	return ks.mods.Lo + int32(i/ks.ncmd), ks.cmds.Lo + int32(i%ks.ncmd)
}

// index returns the key index of (modid, cmdid) and whether it is in the space.
func (ks *keySpace) index(modid, cmdid int32) (uint64, bool) {
	if modid < ks.mods.Lo || modid > ks.mods.Hi || cmdid < ks.cmds.Lo || cmdid > ks.cmds.Hi {
		return 0, false
	}
	return uint64(modid-ks.mods.Lo)*ks.ncmd + uint64(cmdid-ks.cmds.Lo), true
}

// port returns the index in Config.Ports of the port key (modid, cmdid) goes to,
// as the Lars API computes it: (modid + cmdid) % len(ports), never negative.
func (ks *keySpace) port(modid, cmdid int32) int {
	p := (int64(modid) + int64(cmdid)) % ks.nports
	if p < 0 {
		p += ks.nports
	}
	return int(p)
}

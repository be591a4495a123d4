//go:build !linux

package batchio

// batchSys is empty: the portable fallback needs nothing beyond Msgs.
type batchSys struct{}

func (s *batchSys) init(int) {}

//go:build !linux

package api

// maxBatch is 1 where recvmmsg is missing: every read takes one datagram.
const maxBatch = 1

// batchRead remembers the length of the one datagram readBatch read.
type batchRead struct{ n int }

// readBatch reads one datagram, as readNext.
func (sr *socketReader) readBatch(int) (int, error) {
	n, err := sr.readNext(nil, false)
	if err != nil {
		return 0, err
	}
	sr.batch.n = n
	return 1, nil
}

// readQueued reads nothing here: a read that must not wait needs recvmmsg's flags.
func (sr *socketReader) readQueued(int) (int, error) { return 0, nil }

// batchBuf returns the datagram of the last readBatch.
func (sr *socketReader) batchBuf(int) []byte { return sr.buf[:sr.batch.n] }

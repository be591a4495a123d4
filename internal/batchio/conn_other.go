//go:build !linux

package batchio

// connSys is empty: without recvmmsg/sendmmsg, Conn falls back to one net package call
// per datagram.
type connSys struct{}

func (s *connSys) init(*Conn) error { return nil }

func (c *Conn) readBatch(b *Batch) (int, error) { return c.readPortable(b) }

func (c *Conn) readQueued(*Batch) (int, error) { return 0, nil }

func (c *Conn) writeBatch(b *Batch, n int) (int, error) { return c.writePortable(b, n) }

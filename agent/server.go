package agent

import (
	"errors"
	"net"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/valyala/bytebufferpool"
)

// worker serves one UDP socket: one goroutine, one receive batch, one send batch and one
// handler, all allocated before the loop.
type worker struct {
	conn  *batchio.Conn
	recv  *batchio.Batch
	send  *batchio.Batch
	h     *handler
	stats *workerStats
	big   []*bytebufferpool.ByteBuffer // pooled answers of the current batch
}

// serve runs until the socket is closed: recvmmsg a batch, handle every datagram,
// sendmmsg every answer in one call. It returns nil on close, or the error that
// stopped it.
func (w *worker) serve() error {
	for {
		n, err := w.conn.ReadBatch(w.recv)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Anything else (an ICMP error on an unconnected socket, ENOMEM) is
			// transient: keep serving.
			continue
		}
		w.stats.batch(n)
		out := 0
		for i := range n {
			rm := &w.recv.Msgs[i]
			if rm.Truncated {
				w.stats.drop(DropTruncated)
				continue
			}
			sm := &w.send.Msgs[out]
			answer, big := w.h.handle(w.recv.Data(i), sm.Buf, &rm.Peer)
			if answer == nil {
				continue
			}
			if big != nil {
				sm.Payload = answer
				w.big = append(w.big, big)
			} else {
				sm.N = len(answer)
			}
			sm.Peer = rm.Peer
			out++
		}
		if out > 0 {
			sent, _ := w.conn.WriteBatch(w.send, out)
			for range out - sent {
				w.stats.drop(DropSendFailed)
			}
		}
		for i, b := range w.big {
			bytebufferpool.Put(b)
			w.big[i] = nil
		}
		w.big = w.big[:0]
	}
}

// ServingSockets returns the number of UDP sockets served, each by its own goroutine:
// Config.Ports times Config.SocketsPerPort. With batchio.WaitBlocking each of them
// holds an OS thread while it waits (see batchio.ReserveProcs).
func (a *Agent) ServingSockets() int { return len(a.workers) }

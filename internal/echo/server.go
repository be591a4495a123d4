// Package echo is the baseline UDP server: it returns every datagram to its sender
// unchanged, through the same batched I/O as the agent.
package echo

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/larsgo/lars/internal/batchio"
)

// SlotSize is the largest datagram echoed; larger ones are dropped and counted.
const SlotSize = 2048

// Server echoes datagrams on one or more sockets sharing a port, one goroutine each.
type Server struct {
	addr    netip.AddrPort
	sockets []*socket
	wg      sync.WaitGroup
}

// socket is one serving socket with its counters, each socket its own allocation so
// that serving goroutines do not share a cache line.
type socket struct {
	conn    *batchio.Conn
	served  atomic.Uint64
	dropped atomic.Uint64
}

// Config configures a Server. Its zero value echoes on one socket of an ephemeral
// 127.0.0.1 port, waiting for datagrams as batchio.WaitBlocking.
type Config struct {
	// Addr is the UDP address to listen on. Default "127.0.0.1:0".
	Addr string
	// Sockets is the number of sockets bound to the port, with SO_REUSEPORT when
	// above 1, each served by its own goroutine. Default 1.
	Sockets int
	// Batch is the number of datagrams received and replied per system call.
	// Default batchio.DefaultBatchSize.
	Batch int
	// Wait is how the serving goroutines wait for datagrams. Default
	// batchio.WaitBlocking.
	Wait batchio.Wait
}

// Start listens on addr (for example "127.0.0.1:0") with sockets UDP sockets bound to
// the same port with SO_REUSEPORT when sockets > 1, and serves each with a goroutine
// that receives and replies up to batch datagrams per system call. Values below 1
// select one socket and batchio.DefaultBatchSize. The sockets wait as the zero Config
// says.
func Start(addr string, sockets, batch int) (*Server, error) {
	return Listen(Config{Addr: addr, Sockets: sockets, Batch: batch})
}

// Listen starts a Server as cfg says; the serving goroutines run until Close.
func Listen(cfg Config) (*Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	sockets := max(cfg.Sockets, 1)
	batch := cfg.Batch
	if batch < 1 {
		batch = batchio.DefaultBatchSize
	}
	opts := batchio.ListenOptions{ReusePort: sockets > 1}
	s := &Server{}
	for i := range sockets {
		c, err := batchio.Listen("udp", addr, opts, cfg.Wait)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("cannot listen on %s (socket %d of %d): %w", addr, i+1, sockets, err)
		}
		if i == 0 {
			s.addr = c.LocalAddr().(*net.UDPAddr).AddrPort()
			addr = s.addr.String() // the other sockets bind the port chosen for the first
		}
		s.sockets = append(s.sockets, &socket{conn: c})
	}
	for _, so := range s.sockets {
		b := batchio.NewBatch(batch, SlotSize) // allocated before Listen returns
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			so.serve(b)
		}()
	}
	return s, nil
}

// serve echoes until the socket is closed. It allocates nothing per datagram: the
// replies go out of the receive batch itself, whose peers are already the sources.
func (so *socket) serve(b *batchio.Batch) {
	for {
		n, err := so.conn.ReadBatch(b)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // a stray ICMP error or similar: nothing to answer
		}
		k := 0
		for i := range n {
			if b.Msgs[i].Truncated {
				continue
			}
			if i != k {
				b.Msgs[k], b.Msgs[i] = b.Msgs[i], b.Msgs[k]
			}
			k++
		}
		if d := n - k; d > 0 {
			so.dropped.Add(uint64(d))
		}
		sent, err := so.conn.WriteBatch(b, k)
		so.served.Add(uint64(sent))
		if err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// Addr returns the address the server listens on, with the port chosen if addr asked
// for port 0.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Served returns the number of datagrams echoed so far.
func (s *Server) Served() uint64 {
	var n uint64
	for _, so := range s.sockets {
		n += so.served.Load()
	}
	return n
}

// Dropped returns the number of datagrams not echoed because they exceeded SlotSize.
func (s *Server) Dropped() uint64 {
	var n uint64
	for _, so := range s.sockets {
		n += so.dropped.Load()
	}
	return n
}

// Close closes the sockets and waits for the serving goroutines to stop.
func (s *Server) Close() error {
	var errs []error
	for _, so := range s.sockets {
		if err := so.conn.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

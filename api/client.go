package api

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/internal/batchio"
)

// Client asks one agent for hosts over UDP. It holds one connected socket per agent
// port. A caller reads its answer from the socket itself when no one else reads it;
// otherwise whoever reads (another caller, or the port's reader goroutine, which reads
// only while callers wait and no caller leads) hands it over. It is safe for concurrent
// use; Close releases it.
type Client struct {
	agent   netip.Addr
	ports   []uint16
	conns   []*net.UDPConn // conns[i] is connected to agent:ports[i]
	lanes   []lane         // lanes[i] reads conns[i]
	timeout time.Duration

	slots []slot      // GetHost waiters, indexed by seq & mask
	free  chan uint32 // indexes of free slots; receiving one is owning it
	mask  uint32      // len(slots) - 1
	shift uint        // log2(len(slots)): seq is a generation above the slot index

	routeMu sync.Mutex
	routes  map[routeKey]*routeCall // GetRoute callers waiting per key; guarded by routeMu

	stats   counters // what happens before a call has a port; the lanes count the rest
	closed  atomic.Bool
	closing chan struct{} // closed by Close, wakes callers waiting for a free slot
	wg      sync.WaitGroup
}

// New opens one UDP socket per agent port, connected to the agent, and starts their
// reader goroutines. Nothing is sent yet, so New succeeds whether or not an agent runs.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := cfg.MaxInFlight
	c := &Client{
		agent:   cfg.Agent,
		ports:   cfg.Ports,
		timeout: cfg.Timeout,
		slots:   make([]slot, n),
		free:    make(chan uint32, n),
		mask:    uint32(n - 1),
		shift:   uint(bits.TrailingZeros(uint(n))),
		routes:  make(map[routeKey]*routeCall),
		closing: make(chan struct{}),
	}
	for i := range c.slots {
		c.slots[i].init()
		c.free <- uint32(i)
	}
	for _, port := range c.ports {
		raddr := net.UDPAddrFromAddrPort(netip.AddrPortFrom(c.agent, port))
		conn, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			c.closeConns()
			return nil, fmt.Errorf("lars api: cannot open a socket to agent %s: %w", raddr, err)
		}
		c.conns = append(c.conns, conn)
	}
	c.lanes = make([]lane, len(c.conns))
	for i, conn := range c.conns {
		c.lanes[i].conn = conn
		c.lanes[i].wake = make(chan struct{}, 1)
		c.lanes[i].r = reader{c: c, p: i, buf: make([]byte, codec.MaxFrameSize+1)}
		if err := c.lanes[i].sr.init(conn, c.lanes[i].r.buf); err != nil {
			c.closeConns()
			return nil, err
		}
		if c.lanes[i].bc, err = batchio.NewConn(conn); err != nil {
			c.closeConns()
			return nil, fmt.Errorf("lars api: cannot reach the socket: %w", err)
		}
	}
	c.wg.Add(len(c.conns))
	for i := range c.conns {
		go c.readLoop(i)
	}
	return c, nil
}

// Close closes the sockets, waits for the readers to stop and fails the calls still
// waiting with ErrClosed. Later calls return ErrClosed. Close is idempotent.
func (c *Client) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(c.closing)
	err := c.closeConns()
	c.wg.Wait()
	c.failWaiters(-1, answerClosed)
	return err
}

func (c *Client) closeConns() error {
	var first error
	for _, conn := range c.conns {
		if err := conn.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Agent returns the agent address the client sends to.
func (c *Client) Agent() netip.Addr { return c.agent }

// Ports returns a copy of the agent ports, in PortIndex order.
func (c *Client) Ports() []uint16 { return append([]uint16(nil), c.ports...) }

// Port returns the agent port that requests for key (modid, cmdid) go to.
func (c *Client) Port(modid, cmdid int32) uint16 {
	return c.ports[PortIndex(modid, cmdid, len(c.ports))]
}

// budget returns how long a call may wait: the client's timeout, or less when ctx's
// deadline is sooner. A context already done or past its deadline is an error.
func (c *Client) budget(ctx context.Context) (time.Duration, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		c.stats.timeouts.Add(1)
		return 0, ctxErr(err)
	}
	d := c.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < d {
			if left <= 0 {
				c.stats.timeouts.Add(1)
				return 0, ErrTimeout
			}
			d = left
		}
	}
	return d, nil
}

// ctxErr maps a context's error to the call's: a passed deadline is ErrTimeout, a
// cancellation stays context.Canceled.
func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	return err
}

// send writes one datagram to agent port index p.
func (c *Client) send(p int, b []byte) error {
	if _, err := c.conns[p].Write(b); err != nil {
		return c.sendErr(p, err)
	}
	c.lanes[p].stats.sent.Add(1)
	return nil
}

// sendErr maps a write error. A refusal is also news for every caller waiting on that
// port: the write may have consumed the socket error before the reader saw it.
func (c *Client) sendErr(p int, err error) error {
	switch {
	case isRefused(err):
		c.refuse(p)
		return ErrAgentUnreachable
	case errors.Is(err, net.ErrClosed):
		return ErrClosed
	}
	return fmt.Errorf("lars api: cannot send to agent port %d: %w", c.ports[p], err)
}

// isRefused reports whether a socket error is the kernel's report of an ICMP port or
// host unreachable for a datagram sent earlier.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH)
}

// refuse fails every caller waiting for an answer on agent port index p.
func (c *Client) refuse(p int) {
	c.lanes[p].stats.refused.Add(1)
	c.failWaiters(p, answerRefused)
}

// failWaiters ends with code every GetHost and GetRoute call waiting on agent port
// index p, or on every port when p < 0.
func (c *Client) failWaiters(p int, code answerCode) {
	for i := range c.slots {
		s := &c.slots[i]
		st := s.state.Load()
		if st&stateWaiting == 0 || st&stateDelivered != 0 || (p >= 0 && statePort(st) != p) {
			continue
		}
		c.deliver(s, st, answer{code: code})
	}
	c.failRoutes(p, code.err())
	for i := range c.lanes {
		if p < 0 || i == p {
			c.kick(i)
		}
	}
}

// Package apitest runs a fake Lars agent on loopback UDP, for tests and examples of code
// built on package api.
package apitest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/larsgo/lars/api"
	"github.com/larsgo/lars/codec"
)

// LogSize is how many requests an Agent records; later ones are only counted, so that
// serving never allocates.
const LogSize = 4096

// Agent is a fake Lars agent listening on 127.0.0.1. It answers get_host and get_route
// from a route table set by SetRoute, round-robin over a key's hosts, and records every
// request. Its behaviour can be changed while it runs; it is safe for concurrent use.
type Agent struct {
	conns []*net.UDPConn
	ports []uint16
	wg    sync.WaitGroup

	mu        sync.Mutex
	keys      map[Key]*keyState                     // guarded by mu
	retcodeFn func(modid, cmdid int32, n int) int32 // guarded by mu
	drop      int                                   // answers left to drop; guarded by mu
	delay     int                                   // answers left to delay; guarded by mu
	delayBy   time.Duration                         // guarded by mu
	hold      int                                   // answers left to hold (HoldNext); guarded by mu
	released  bool                                  // Release came since HoldNext; guarded by mu
	held      []heldAnswer                          // answers held until Release; guarded by mu
	log       []Request                             // guarded by mu, capacity LogSize
	regFn     RegisterFunc                          // guarded by mu
	regCalls  map[regKey]int                        // register requests per instance; guarded by mu

	counts [codec.MsgRegisterReply + 1]atomic.Uint64 // requests received per msgid
	bad    atomic.Uint64                             // malformed or unknown datagrams
}

// Key is a service key.
type Key struct{ Modid, Cmdid int32 }

// keyState is the route and behaviour of one key.
type keyState struct {
	hosts  []api.Host
	forced int32 // retcode answered to every get_host when not 0
	calls  int   // get_host requests so far
}

// Request is one request the agent received.
type Request struct {
	Port    uint16      // agent port it arrived on
	MsgID   codec.MsgID // 4 get_host, 6 report, 7 get_route, 103 register
	Seq     uint32      // get_host and register only
	Modid   int32
	Cmdid   int32
	Host    api.Host // report and register only: the address alone
	Retcode int32    // report only
	// Accept is the get_host or get_route request's accept bits (ACCEPT_ROUTE_EXT: the
	// client reads IPv6 hosts, weights and zones).
	Accept uint32
	// LatencyUS is the report's latency_us (0 when the client sent none).
	LatencyUS uint32
	// The register request's fields (msgid 103 only): RegOp is its op (0 keep, 1 new,
	// 2 drop), TTLMS its ttl_ms, Check and CheckIntervalMS its check.
	RegOp           int32
	TTLMS           uint32
	Check           string
	CheckIntervalMS uint32
}

// Start starts an agent on ports UDP ports of 127.0.0.1 chosen by the system (3 when
// ports < 1). Close stops it.
func Start(ports int) (*Agent, error) {
	if ports < 1 {
		ports = 3
	}
	a := &Agent{keys: make(map[Key]*keyState), log: make([]Request, 0, LogSize), regCalls: make(map[regKey]int)}
	for range ports {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("apitest: cannot listen: %w", err)
		}
		a.conns = append(a.conns, conn)
		a.ports = append(a.ports, conn.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	}
	a.wg.Add(len(a.conns))
	for i := range a.conns {
		go a.serve(i)
	}
	return a, nil
}

// Close stops the agent, waiting for delayed answers still to be sent.
func (a *Agent) Close() {
	for _, c := range a.conns {
		c.Close()
	}
	a.wg.Wait()
}

// Ports returns the agent's ports, in the order a Client should list them.
func (a *Agent) Ports() []uint16 { return slices.Clone(a.ports) }

// Addr returns the agent's address, 127.0.0.1.
func (a *Agent) Addr() netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 0, 1}) }

// Config returns an api.Config for a client of this agent.
func (a *Agent) Config() api.Config { return api.Config{Agent: a.Addr(), Ports: a.Ports()} }

// SetRoute sets the hosts of key (modid, cmdid); no hosts makes the key unknown again
// (get_host answers RET_NOEXIST, get_route an empty list). As our agent, the fake
// answers IPv6 hosts, and weights and zones in get_route, only to requests with
// ACCEPT_ROUTE_EXT; others get the IPv4 hosts alone (RET_NOEXIST when there are none).
func (a *Agent) SetRoute(modid, cmdid int32, hosts ...api.Host) {
	a.mu.Lock()
	a.key(modid, cmdid).hosts = slices.Clone(hosts)
	a.mu.Unlock()
}

// SetRetcode makes every get_host for key (modid, cmdid) answer retcode, with no host;
// 0 restores normal answers.
func (a *Agent) SetRetcode(modid, cmdid, retcode int32) {
	a.mu.Lock()
	a.key(modid, cmdid).forced = retcode
	a.mu.Unlock()
}

// SetRetcodeFunc makes f choose the retcode of each get_host for keys with no retcode
// set by SetRetcode; n counts the key's get_host requests from 0. A non-zero retcode is
// answered without a host. nil restores normal answers.
func (a *Agent) SetRetcodeFunc(f func(modid, cmdid int32, n int) int32) {
	a.mu.Lock()
	a.retcodeFn = f
	a.mu.Unlock()
}

// DropNext makes the agent not answer the next n get_host or get_route requests.
func (a *Agent) DropNext(n int) {
	a.mu.Lock()
	a.drop = n
	a.mu.Unlock()
}

// DelayNext makes the agent send its next n answers d late.
func (a *Agent) DelayNext(n int, d time.Duration) {
	a.mu.Lock()
	a.delay, a.delayBy = n, d
	a.mu.Unlock()
}

// Requests returns a copy of the requests received so far (the first LogSize).
func (a *Agent) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.log)
}

// Reports returns the report requests among Requests.
func (a *Agent) Reports() []Request {
	var out []Request
	for _, r := range a.Requests() {
		if r.MsgID == codec.MsgReportRequest {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests with message id id the agent received.
func (a *Agent) Count(id codec.MsgID) uint64 {
	if id < 0 || int(id) >= len(a.counts) {
		return 0
	}
	return a.counts[id].Load()
}

// Malformed returns how many datagrams the agent dropped as malformed or unknown.
func (a *Agent) Malformed() uint64 { return a.bad.Load() }

// WaitCount waits up to timeout until the agent received at least n requests with
// message id id, and reports whether it did. Reports have no answer: tests use it to
// know one arrived.
func (a *Agent) WaitCount(id codec.MsgID, n uint64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for a.Count(id) < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// key returns the state of a key, creating it. a.mu must be held.
func (a *Agent) key(modid, cmdid int32) *keyState {
	k := Key{modid, cmdid}
	ks := a.keys[k]
	if ks == nil {
		ks = &keyState{}
		a.keys[k] = ks
	}
	return ks
}

// record logs r and returns whether its answer is to be dropped, and how late it is to
// be sent (holdDelay: held until Release). a.mu must be held.
func (a *Agent) record(r Request) (drop bool, delay time.Duration) {
	if len(a.log) < cap(a.log) {
		a.log = append(a.log, r)
	}
	a.counts[r.MsgID].Add(1)
	if r.MsgID == codec.MsgReportRequest {
		return false, 0
	}
	if a.drop > 0 {
		a.drop--
		return true, 0
	}
	if a.hold > 0 {
		a.hold--
		return false, holdDelay
	}
	if a.delay > 0 {
		a.delay--
		return false, a.delayBy
	}
	return false, 0
}

// errClosed reports whether err means the agent's socket was closed.
func errClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

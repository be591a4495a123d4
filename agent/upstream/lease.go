package upstream

import (
	"net"
	"net/netip"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
)

// Registration (issue 31, docs/PROTOCOL.md): the client sends Lease frames (msgid 105)
// only on a connection whose HelloReply has FEATURE_REGISTER, and hands every
// LeaseReply (msgid 106) it reads, the unasked ones with LEASE_REMOVED included, to the
// agent's registration table, which decides what to send. The table learns of every
// connection's kind through LeaseLink, and re-registers everything it keeps when a
// connection that takes Lease frames comes up.

// MaxLeaseEntries bounds the entries of one Lease frame (docs/PROTOCOL.md); Lease
// splits a longer list into several frames.
const MaxLeaseEntries = 1024

// DefaultHelloWait is RouteClientConfig.HelloWait's default.
const DefaultHelloWait = 2 * time.Second

// leaseQueue bounds the lists of entries waiting for the Run goroutine to write them.
const leaseQueue = 64

// LinkState says whether the route service connected to takes registrations, as
// LeaseLink reports it.
type LinkState uint8

// Link states.
const (
	// LinkDown: no connection, or a new one whose peer is not known yet.
	LinkDown LinkState = iota
	// LinkRegisters: the connection's HelloReply has FEATURE_REGISTER: Lease frames go
	// out on it.
	LinkRegisters
	// LinkNoRegister: the peer does not take registrations: Lars's lars_dns (it
	// answered a pull, or nothing within HelloWait, without answering the Hello) or a
	// service of ours whose HelloReply lacks FEATURE_REGISTER.
	LinkNoRegister
)

// LeaseEntry is one instance to register, renew or remove (a larspb.LeaseEntry).
type LeaseEntry struct {
	Key  route.Key
	Host netip.AddrPort // IPv4: registrations carry no other
	TTL  time.Duration
	Op   larspb.LeaseOp
}

// LeaseResult is the route service's answer to one entry (a larspb.LeaseResult), or
// an unasked LEASE_REMOVED.
type LeaseResult struct {
	Key     route.Key
	Host    netip.AddrPort
	Op      larspb.LeaseOp
	Status  larspb.LeaseStatus
	Message string
}

// Registrations is what the route client needs of the agent's registration table.
// LeaseLink is called from the client's Run goroutine and LeaseResults from the
// connection's reader, possibly at the same time: both must be safe for concurrent
// use, must not block for long and must not call back into the client but for Lease.
type Registrations interface {
	// LeaseLink says what the current connection, to the route service at addr, is
	// (addr "" with LinkDown when the connection is lost). LinkRegisters comes once a
	// connection; the table then sends (Lease) every registration it keeps.
	LeaseLink(addr string, state LinkState)
	// LeaseResults hands over the results of one LeaseReply. The slice is reused once
	// the call returns.
	LeaseResults(results []LeaseResult)
}

// numLeaseStatuses sizes the per-status counters of lease results.
const numLeaseStatuses = int(larspb.LeaseStatus_LEASE_INVALID) + 1

// leaseState is the Run goroutine's part of a connection's registration state.
type leaseState struct {
	registers bool      // the connection's HelloReply has FEATURE_REGISTER
	told      LinkState // what LeaseLink was told of the connection; LinkDown: nothing yet
}

// Lease queues entries for the current connection; the client writes them in frames
// of at most MaxLeaseEntries. It returns false, and queues nothing, when too many
// lists wait already. Entries queued while the connection does not take Lease frames
// are dropped and counted (LeaseEntriesUnsent): the table sends its registrations
// again when one that does comes up. entries is owned by the client once queued.
func (c *RouteClient) Lease(entries []LeaseEntry) bool {
	if len(entries) == 0 {
		return true
	}
	select {
	case c.leases <- entries:
		return true
	default:
		return false
	}
}

// registers reports whether a HelloReply lets the client send Lease frames.
func (r helloReply) registers() bool {
	return r.features&uint32(larspb.Feature_FEATURE_REGISTER) != 0
}

// startLeases begins a connection: what an earlier one queued is dropped (the table
// sends everything again once this one takes registrations).
func (c *RouteClient) startLeases() {
	c.lease = leaseState{}
	for {
		select {
		case e := <-c.leases:
			c.leaseUnsent.Add(uint64(len(e)))
		default:
			return
		}
	}
}

// tellLink reports the connection's kind to the table: once a connection, but that a
// HelloReply with FEATURE_REGISTER coming after HelloWait (a slow service of ours)
// turns LinkNoRegister into LinkRegisters.
func (c *RouteClient) tellLink(state LinkState) {
	if c.reg == nil || c.lease.told == state || c.lease.told == LinkRegisters {
		return
	}
	c.lease.told = state
	c.lease.registers = state == LinkRegisters
	c.reg.LeaseLink(c.link.addr(), state)
}

// endLeases ends a connection for the table.
func (c *RouteClient) endLeases() {
	if c.reg != nil {
		c.reg.LeaseLink("", LinkDown)
	}
	c.lease = leaseState{}
}

// helloWaited is HelloWait's end: a peer that has answered neither the Hello nor a
// pull by then is taken as not taking registrations (its kind stays unknown), until a
// HelloReply with FEATURE_REGISTER comes after all.
func (c *RouteClient) helloWaited() {
	if c.peer.Load() == peerUnknown {
		c.tellLink(LinkNoRegister)
	}
}

// writeLease writes entries in frames of at most MaxLeaseEntries when the connection
// takes them, and drops them, counted, otherwise.
func (c *RouteClient) writeLease(conn net.Conn, entries []LeaseEntry) error {
	if !c.lease.registers {
		c.leaseUnsent.Add(uint64(len(entries)))
		return nil
	}
	for len(entries) > 0 {
		n := min(len(entries), MaxLeaseEntries)
		if err := c.writeLeaseFrame(conn, entries[:n]); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return nil
}

// writeLeaseFrame writes one Lease frame.
func (c *RouteClient) writeLeaseFrame(conn net.Conn, entries []LeaseEntry) error {
	if len(c.leaseEntries) < len(entries) {
		c.leaseEntries = make([]larspb.LeaseEntry, MaxLeaseEntries)
		c.leaseHosts = make([]larspb.HostInfo, MaxLeaseEntries)
		c.leasePtrs = make([]*larspb.LeaseEntry, MaxLeaseEntries)
		for i := range c.leaseEntries {
			c.leaseEntries[i].Host = &c.leaseHosts[i]
			c.leasePtrs[i] = &c.leaseEntries[i]
		}
	}
	for i, e := range entries {
		le := &c.leaseEntries[i]
		le.Modid, le.Cmdid, le.TtlMs, le.Op = e.Key.Modid, e.Key.Cmdid, uint32(e.TTL/time.Millisecond), e.Op
		le.Host.Ip, _ = route.WireIP(e.Host.Addr()) // IPv4: the registration table takes no other
		le.Host.Port = int32(e.Host.Port())
	}
	c.leaseMsg.Entries = c.leasePtrs[:len(entries)]
	buf := bufPool.Get()
	defer bufPool.Put(buf)
	var err error
	if buf.B, err = codec.AppendFrame(buf.B, codec.MsgLease, &c.leaseMsg); err != nil {
		return err // cannot happen: MaxLeaseEntries entries of at most 40 bytes fit a frame
	}
	if err := writeAll(conn, buf.B, c.link.writeTimeout); err != nil {
		c.writeErrors.Add(1)
		return err
	}
	c.leaseFrames.Add(1)
	for _, e := range entries {
		if int(e.Op) >= 0 && int(e.Op) < len(c.leaseSent) {
			c.leaseSent[e.Op].Add(1)
		}
	}
	return nil
}

// readLeaseReply hands a LeaseReply's results to the table. A body that does not
// decode is dropped and counted; so is a reply on a connection that was never sent a
// Lease frame and has no table to give it to.
func (c *RouteClient) readLeaseReply(body []byte) {
	c.leaseResp.Reset()
	if err := c.leaseResp.UnmarshalVT(body); err != nil {
		c.badFrame("cannot decode lease reply", codec.MsgLeaseReply, err)
		return
	}
	c.leaseReplies.Add(1)
	c.leaseResults = c.leaseResults[:0]
	for _, r := range c.leaseResp.Results {
		if r == nil {
			continue
		}
		res := LeaseResult{Key: route.Key{Modid: r.Modid, Cmdid: r.Cmdid}, Op: r.Op, Status: r.Status, Message: r.Message}
		if r.Host != nil {
			res.Host = route.AddrPortFromWire(r.Host.Ip, r.Host.Port)
		}
		if int(r.Status) >= 0 && int(r.Status) < numLeaseStatuses {
			c.leaseStatus[r.Status].Add(1)
		}
		c.leaseResults = append(c.leaseResults, res)
	}
	if c.reg != nil && len(c.leaseResults) > 0 {
		c.reg.LeaseResults(c.leaseResults)
	}
}

// LeaseStats are the registration counters of RouteClientStats.
type LeaseStats struct {
	LeaseFrames  uint64    // Lease frames written
	LeaseSent    [3]uint64 // entries written, by larspb.LeaseOp (KEEP, NEW, DROP)
	LeaseUnsent  uint64    // entries dropped: the connection did not take Lease frames, or was lost first
	LeaseReplies uint64    // LeaseReplies read, unasked ones included
	// LeaseResults counts the results read, by larspb.LeaseStatus (OK, STATIC,
	// REMOVED, DENIED, FAILED, INVALID).
	LeaseResults [numLeaseStatuses]uint64
}

// leaseStats returns the client's registration counters.
func (c *RouteClient) leaseStats() LeaseStats {
	s := LeaseStats{LeaseFrames: c.leaseFrames.Load(), LeaseUnsent: c.leaseUnsent.Load(), LeaseReplies: c.leaseReplies.Load()}
	for i := range s.LeaseSent {
		s.LeaseSent[i] = c.leaseSent[i].Load()
	}
	for i := range s.LeaseResults {
		s.LeaseResults[i] = c.leaseStatus[i].Load()
	}
	return s
}

// announced returns the features the client's Hello announces: FEATURE_REGISTER too
// when it has a registration table.
func (c *RouteClient) announced() uint32 {
	if c.reg != nil {
		return helloFeatures | uint32(larspb.Feature_FEATURE_REGISTER)
	}
	return helloFeatures
}

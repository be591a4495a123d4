package routesvc

import (
	"fmt"
	"net"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/policy"
	"github.com/larsgo/lars/internal/tcpserve"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// MaxLeaseEntries bounds the entries of one Lease frame (docs/PROTOCOL.md): a frame
// with more is dropped unanswered and counted, the connection kept.
const MaxLeaseEntries = 1024

// Answers of the entries the reader decides.
const (
	offMessage    = "registration is off: start lars-dns with -allow-register (trusted networks only) or give -policy with register rules"
	busyMessage   = "busy: lars-dns's queue of registrations is full, try again"
	perConnFormat = "this connection keeps %d registrations, the most lars-dns takes from one (Config.MaxLeasesPerConn)"
	totalMessage  = "lars-dns holds as many leases as it may (Config.MaxLeases); try again"
)

// isClosed reports whether the connection was closed.
func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// lease serves a Lease frame: each entry is checked (INVALID), authorized (DENIED),
// renewed from memory when the service holds its lease, or else sent with the rest
// of the frame to the lease worker, which answers the frame once the store did (a
// frame decided in memory while an earlier one of the connection waits for the worker
// is answered by the worker too, after it, so that replies keep the frames' order). A
// frame that does not parse ends the connection; one of more than MaxLeaseEntries is
// dropped and counted.
func (c *conn) lease(body []byte) error {
	m := c.svc.leases
	c.leaseMsg.Reset()
	if err := c.leaseMsg.UnmarshalVT(body); err != nil {
		m.stats.frames[leaseFrameMalformed].Add(1)
		return errBadFrame
	}
	entries := c.leaseMsg.Entries
	if len(entries) > MaxLeaseEntries {
		m.stats.frames[leaseFrameTooMany].Add(1)
		return nil
	}
	m.stats.frames[leaseFrameTaken].Add(1)
	if !c.waitRoom() {
		return net.ErrClosed
	}
	results := make([]*larspb.LeaseResult, len(entries))
	job := &leaseJob{c: c, results: results}
	for i, e := range entries {
		r := &larspb.LeaseResult{Modid: e.Modid, Cmdid: e.Cmdid, Op: e.Op}
		if e.Host != nil {
			r.Host = &larspb.HostInfo{Ip: e.Host.Ip, Port: e.Host.Port}
		}
		results[i] = r
		c.judge(i, e, r, job)
	}
	if len(job.idx) == 0 && c.leaseJobs.Load() == 0 {
		m.answer(c, results)
		return nil
	}
	if !m.submit(job) {
		for _, i := range job.idx {
			m.stats.refused[leaseRefusedBusy].Add(1)
			results[i].Status, results[i].Message = larspb.LeaseStatus_LEASE_FAILED, busyMessage
		}
		m.answer(c, results)
	}
	return nil
}

// judge decides entry i, e, into r, or adds it to job for the store.
func (c *conn) judge(i int, e *larspb.LeaseEntry, r *larspb.LeaseResult, job *leaseJob) {
	m := c.svc.leases
	cfg := &c.svc.cfg
	k := route.Key{Modid: e.Modid, Cmdid: e.Cmdid}
	ttl := time.Duration(e.TtlMs) * time.Millisecond
	switch {
	case e.Host == nil || e.Host.Ip == 0 || e.Host.Port <= 0 || e.Host.Port > 65535:
		m.stats.refused[leaseRefusedInvalid].Add(1)
		r.Status, r.Message = larspb.LeaseStatus_LEASE_INVALID, "the address must have an ip and a port (1-65535)"
		return
	case e.Op != larspb.LeaseOp_LEASE_DROP && (ttl < cfg.MinLeaseTTL || ttl > cfg.MaxLeaseTTL):
		m.stats.refused[leaseRefusedInvalid].Add(1)
		r.Status, r.Message = larspb.LeaseStatus_LEASE_INVALID, fmt.Sprintf("ttl %v out of range %v .. %v", ttl, cfg.MinLeaseTTL, cfg.MaxLeaseTTL)
		return
	case e.Op < larspb.LeaseOp_LEASE_KEEP || e.Op > larspb.LeaseOp_LEASE_DROP:
		m.stats.refused[leaseRefusedInvalid].Add(1)
		r.Status, r.Message = larspb.LeaseStatus_LEASE_INVALID, fmt.Sprintf("unknown op %d", e.Op)
		return
	}
	if denied := c.mayNotRegister(k); denied != "" {
		m.stats.refused[leaseRefusedDenied].Add(1)
		r.Status, r.Message = larspb.LeaseStatus_LEASE_DENIED, denied
		return
	}
	lk := store.LeaseKey{Key: k, Host: route.FromWire(e.Host.Ip, e.Host.Port)}
	op := store.LeaseOp(e.Op)
	if op == store.LeaseDrop {
		m.dropping(lk)
	}
	if op == store.LeaseKeep {
		if static, ok := m.keep(c, lk, ttl); ok {
			m.stats.renewedInMemory.Add(1)
			if static {
				r.Status = larspb.LeaseStatus_LEASE_STATIC
			}
			return
		}
	}
	if op != store.LeaseDrop {
		mine, all, kept := m.heldBy(c, lk)
		switch {
		case kept:
		case mine >= cfg.MaxLeasesPerConn:
			m.stats.refused[leaseRefusedPerConn].Add(1)
			r.Status, r.Message = larspb.LeaseStatus_LEASE_DENIED, fmt.Sprintf(perConnFormat, mine)
			return
		case all >= cfg.MaxLeases:
			m.stats.refused[leaseRefusedTotal].Add(1)
			r.Status, r.Message = larspb.LeaseStatus_LEASE_FAILED, totalMessage
			return
		}
	}
	job.idx = append(job.idx, i)
	job.reqs = append(job.reqs, store.LeaseRequest{Key: lk.Key, Host: lk.Host, TTL: ttl, Op: op})
}

// mayNotRegister returns why the connection may not register an instance of k, or ""
// if it may: with a policy its register rules decide; without, Config.AllowRegister.
func (c *conn) mayNotRegister(k route.Key) string {
	cfg := &c.svc.cfg
	switch {
	case cfg.Policy != nil && c.regGrant.Allows(k):
		return ""
	case cfg.Policy != nil:
		return fmt.Sprintf("%s may not register service %d/%d (policy %s: no register rule grants it)", c.owner, k.Modid, k.Cmdid, cfg.Policy.Path())
	case cfg.AllowRegister:
		return ""
	}
	return offMessage
}

// answer queues results to c as one LeaseReply. A reply too large for a frame (long
// messages repeated) keeps each distinct message on its first result only.
func (m *leaseManager) answer(c *conn, results []*larspb.LeaseResult) {
	reply := larspb.LeaseReply{Results: results}
	frame, err := codec.AppendFrame(nil, codec.MsgLeaseReply, &reply)
	if err != nil {
		seen := map[string]bool{}
		for _, r := range results {
			if seen[r.Message] {
				r.Message = ""
			}
			seen[r.Message] = true
		}
		if frame, err = codec.AppendFrame(nil, codec.MsgLeaseReply, &reply); err != nil {
			m.svc.cfg.Logger.Error("leases: cannot encode a reply", "err", err)
			return
		}
	}
	m.stats.replies.Add(1)
	c.enqueue(frame, true)
}

// leaseOwner returns who the connection's registrations are by, and what a policy
// lets it register: its verified identity under mutual TLS, else "agent@IP".
func (s *Service) leaseOwner(a tcpserve.Admission, nc net.Conn) (string, *policy.PeerGrant) {
	var grant *policy.PeerGrant
	if s.cfg.Policy != nil {
		grant = s.cfg.Policy.For(policy.Register, a.Peer)
	}
	if s.cfg.TLS != nil && s.cfg.TLS.Mutual() && a.Peer.Name != "" {
		return a.Peer.String(), grant
	}
	ip := nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	return "agent@" + ip, grant
}

package agent

import (
	"sync/atomic"

	"github.com/larsgo/lars/codec"
)

// DropReason says why a datagram got no answer when it should have, or why the
// answer was not the one asked for. Every drop is counted by reason.
type DropReason uint8

// Drop reasons. The frame rejections come first, in codec.Reason order.
const (
	DropTooShort          DropReason = iota // shorter than the 8-byte header
	DropNegativeLength                      // msglen < 0
	DropTooLarge                            // msglen > 65527
	DropLengthMismatch                      // 8 + msglen != datagram length
	DropTruncated                           // larger than the receive slot
	DropUnknownMsgID                        // a msgid the agent does not serve
	DropBadBody                             // a body that does not parse as its message
	DropRouteTooLarge                       // a get_route answer over 65527 bytes: answered empty
	DropSendFailed                          // the kernel refused to send the answer
	DropRemoteGetRoute                      // a get_route from off loopback, not allowed (Config.AllowRemoteGetRoute)
	DropRemoteRouteCapped                   // a get_route answer to a source off loopback over remoteAnswerFactor times its request: answered empty
	DropRemoteRegister                      // a RegisterRequest from off loopback, not allowed (Config.AllowRemoteRegister)
	DropBadReportHost                       // a report whose host has an ip6 that is not 16 bytes
	numDropReasons
)

var dropLabels = [numDropReasons]string{
	"too_short", "negative_length", "too_large", "length_mismatch", "truncated",
	"unknown_msgid", "bad_body", "route_too_large", "send_failed",
	"remote_get_route", "remote_route_capped", "remote_register", "bad_report_host",
}

// String returns the reason's metric label.
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropLabels[r]
	}
	return "unknown"
}

// dropForFrame maps a codec frame rejection to its drop reason.
func dropForFrame(r codec.Reason) DropReason {
	switch r {
	case codec.ReasonTooShort:
		return DropTooShort
	case codec.ReasonNegativeLength:
		return DropNegativeLength
	case codec.ReasonTooLarge:
		return DropTooLarge
	}
	return DropLengthMismatch
}

// numMsgIDs sizes the per-msgid counters: index 1..8 counts Lars's msgid of that
// number, regSlot our RegisterRequest (msgid 103), index 0 every other id.
const numMsgIDs = 10

// regSlot is the per-msgid counters' index of msgid 103 (RegisterRequest).
const regSlot = 9

// msgIDOfSlot returns the msgid a per-msgid counter counts (0: the others).
func msgIDOfSlot(i int) codec.MsgID {
	if i == regSlot {
		return codec.MsgRegisterRequest
	}
	return codec.MsgID(i)
}

// numRetCodes sizes the per-retcode counters of get_host answers.
const numRetCodes = 4

// batchBuckets are the upper bounds of the batch-size histogram.
var batchBuckets = [...]int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}

// workerStats are one serving goroutine's counters. Only that goroutine writes them;
// the admin endpoint reads them, hence the atomics, which stay cheap because no other
// core writes the same cache lines.
type workerStats struct {
	requests   [numMsgIDs]atomic.Uint64
	answers    [numRetCodes]atomic.Uint64
	drops      [numDropReasons]atomic.Uint64
	batches    [len(batchBuckets) + 1]atomic.Uint64
	datagrams  atomic.Uint64
	routeHosts atomic.Uint64 // hosts sent in get_route answers
	_          [64]byte      // keep the next worker's counters off this cache line
}

func (s *workerStats) request(id codec.MsgID) {
	i := int(id)
	switch {
	case id == codec.MsgRegisterRequest:
		i = regSlot
	case id < 1 || id > codec.MsgAPIGetRouteResponse:
		i = 0
	}
	s.requests[i].Add(1)
}

func (s *workerStats) drop(r DropReason) { s.drops[r].Add(1) }

func (s *workerStats) batch(n int) {
	i := 0
	for i < len(batchBuckets) && n > batchBuckets[i] {
		i++
	}
	s.batches[i].Add(1)
	s.datagrams.Add(uint64(n))
}

// Counters is a point-in-time sum of every serving goroutine's counters.
type Counters struct {
	Requests   [numMsgIDs]uint64      // requests by msgid 1..8; index 9: msgid 103 (RegisterRequest); index 0: the others
	Answers    [numRetCodes]uint64    // get_host answers by retcode
	Drops      [numDropReasons]uint64 // by DropReason
	Batches    [len(batchBuckets) + 1]uint64
	Datagrams  uint64 // datagrams received
	RouteHosts uint64 // hosts sent in get_route answers
}

// Drop returns the count of one drop reason.
func (c Counters) Drop(r DropReason) uint64 { return c.Drops[r] }

func (c *Counters) add(s *workerStats) {
	for i := range c.Requests {
		c.Requests[i] += s.requests[i].Load()
	}
	for i := range c.Answers {
		c.Answers[i] += s.answers[i].Load()
	}
	for i := range c.Drops {
		c.Drops[i] += s.drops[i].Load()
	}
	for i := range c.Batches {
		c.Batches[i] += s.batches[i].Load()
	}
	c.Datagrams += s.datagrams.Load()
	c.RouteHosts += s.routeHosts.Load()
}

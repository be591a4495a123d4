package loadgen

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
)

// fakeAgent answers get_host and get_route on one UDP port after a fixed delay, and
// misbehaves on chosen requests (counted by arrival order, 1-based, over get_host
// requests), so that a test knows exactly what the load generator should count.
type fakeAgent struct {
	delay     time.Duration
	dropEvery int           // no answer
	lateEvery int           // answer after lateDelay instead of delay...
	lateUntil int           // ...for requests up to this number only
	lateDelay time.Duration // (more than the client's timeout)
	dupEvery  int           // answer twice
	badEvery  int           // answer with a malformed datagram instead
	stallAt   int           // stop reading for stall when this request arrives
	stall     time.Duration
	capacity  float64 // when positive, drop requests beyond this rate per second

	conn *net.UDPConn
	out  chan reply
	wg   sync.WaitGroup

	n, dropped, late, dups, bad atomic.Int64
}

type reply struct {
	due  time.Time
	to   *net.UDPAddr
	data []byte
}

func (f *fakeAgent) start(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	f.conn = c
	f.out = make(chan reply, 1<<16)
	f.wg.Add(2)
	go f.read()
	go f.write()
	t.Cleanup(func() {
		c.Close()
		close(f.out)
		f.wg.Wait()
	})
	return c.LocalAddr().(*net.UDPAddr).Port
}

func (f *fakeAgent) read() {
	defer f.wg.Done()
	buf := make([]byte, 2048)
	var req larspb.GetHostRequest
	var rreq larspb.GetRouteRequest
	var tokens float64
	last := time.Now()
	for {
		n, from, err := f.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		now := time.Now()
		if f.capacity > 0 {
			tokens = min(tokens+now.Sub(last).Seconds()*f.capacity, f.capacity/100)
			last = now
			if tokens < 1 {
				f.dropped.Add(1)
				continue
			}
			tokens--
		}
		id, body, r := codec.ParseDatagram(buf[:n])
		if r != codec.ReasonOK {
			continue
		}
		switch id {
		case codec.MsgGetHostRequest:
			if req.UnmarshalVT(body) != nil {
				continue
			}
			k := int(f.n.Add(1))
			if k == f.stallAt {
				time.Sleep(f.stall)
			}
			resp := &larspb.GetHostResponse{Seq: req.Seq, Modid: req.Modid, Cmdid: req.Cmdid,
				Host: &larspb.HostInfo{Ip: 0x7f000001, Port: 7000}}
			data, _ := codec.AppendFrame(nil, codec.MsgGetHostResponse, resp)
			delay := f.delay
			switch {
			case f.dropEvery > 0 && k%f.dropEvery == 0:
				f.dropped.Add(1)
				continue
			case f.lateEvery > 0 && k%f.lateEvery == 0 && k <= f.lateUntil:
				f.late.Add(1)
				delay = f.lateDelay
			case f.badEvery > 0 && k%f.badEvery == 0:
				f.bad.Add(1)
				data = data[:len(data)-1] // header length no longer matches
			case f.dupEvery > 0 && k%f.dupEvery == 0:
				f.dups.Add(1)
				f.out <- reply{due: now.Add(delay), to: from, data: data}
			}
			f.out <- reply{due: now.Add(delay), to: from, data: data}
		case codec.MsgAPIGetRouteRequest:
			if rreq.UnmarshalVT(body) != nil {
				continue
			}
			resp := &larspb.GetRouteResponse{Modid: rreq.Modid, Cmdid: rreq.Cmdid,
				Host: []*larspb.HostInfo{{Ip: 0x7f000001, Port: 7000}, {Ip: 0x7f000001, Port: 7001}}}
			data, _ := codec.AppendFrame(nil, codec.MsgAPIGetRouteResponse, resp)
			f.out <- reply{due: now.Add(f.delay), to: from, data: data}
		}
	}
}

// write sends the replies when due; late ones are held on a side list so that they
// do not hold up the others.
func (f *fakeAgent) write() {
	defer f.wg.Done()
	p, err := newPacer()
	if err != nil {
		panic(err)
	}
	defer p.close()
	var held []reply
	flushHeld := func(now time.Time) {
		k := 0
		for _, r := range held {
			if now.Before(r.due) {
				held[k] = r
				k++
				continue
			}
			f.conn.WriteToUDP(r.data, r.to)
		}
		held = held[:k]
	}
	for {
		var r reply
		var ok bool
		select {
		case r, ok = <-f.out:
		case <-time.After(5 * time.Millisecond):
			flushHeld(time.Now())
			continue
		}
		if !ok {
			return
		}
		if time.Until(r.due) > f.delay+time.Millisecond {
			held = append(held, r)
			continue
		}
		if d := time.Until(r.due); d > 0 {
			p.sleep(d)
		}
		f.conn.WriteToUDP(r.data, r.to)
		flushHeld(time.Now())
	}
}

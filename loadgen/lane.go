package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/larsgo/lars/internal/batchio"
	"github.com/larsgo/lars/loadgen/stats"
	"github.com/larsgo/lars/route"
)

// reqSlotSize is the size of a send slot: request frames are a few dozen bytes.
const reqSlotSize = 128

// lane is one client socket toward one agent port, with its outstanding requests.
// The sender goroutine writes requests on it; the lane's receiver goroutine reads
// answers and, with ReportAfter, writes reports on a second socket of its own
// (batchio allows one writer per socket at a time).
type lane struct {
	r     *runner
	port  int // index in Config.Ports
	conn  *batchio.Conn
	rconn *batchio.Conn // reports after get_host answers; nil without ReportAfter
	rings [answered]*ring

	// Owned by the sender, or by the receiver when it drives a closed loop (drive).
	out        *batchio.Batch
	nout       int
	outFirst   int64            // intended send time of out's first datagram
	lagTo      *stats.Histogram // where flush records send lag: the sender's, or lag
	sendCounts *counters        // where flush counts send errors: the sender's, or c
	drive      *laneDrive
	lag        stats.Histogram

	// Owned by the receiver.
	in        *batchio.Batch
	rep       *batchio.Batch
	ans       answer
	enc       *encoder
	routeFrom uint32
	rng       *rand.Rand
	c         counters
	hist      [numPhases][answered]stats.AtomicHistogram
	samples   [answered]*sampleStore
	finished  int // datagrams read and dealt with since the last read, for the clock
}

func dial(cfg *Config, port int) (*batchio.Conn, error) {
	opts := batchio.ListenOptions{}
	if cfg.SocketBuffer > 0 {
		opts.RecvBuf, opts.SendBuf = cfg.SocketBuffer, cfg.SocketBuffer
	}
	addr := net.JoinHostPort(cfg.Target, strconv.Itoa(port))
	uc, err := batchio.DialUDP("udp", addr, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot open a socket to %s: %w", addr, err)
	}
	c, err := batchio.NewConn(uc)
	if err != nil {
		uc.Close()
		return nil, fmt.Errorf("cannot use the socket to %s: %w", addr, err)
	}
	return c, nil
}

func newLane(r *runner, id, port, ringSize int) (*lane, error) {
	cfg := &r.cfg
	l := &lane{
		r:     r,
		port:  port,
		out:   batchio.NewBatch(cfg.Batch, reqSlotSize),
		in:    batchio.NewBatch(cfg.Batch, batchio.DefaultSlotSize),
		enc:   newEncoder(),
		rng:   rand.New(rand.NewPCG(cfg.Seed, uint64(id)+1)),
		rings: [answered]*ring{newRing(ringSize), newRing(ringSize)},
	}
	l.lagTo, l.sendCounts = &r.sendLag, &r.sc
	for k := range l.samples {
		l.samples[k] = newSampleStore()
	}
	var err error
	if l.conn, err = dial(cfg, cfg.Ports[port]); err != nil {
		return nil, err
	}
	if cfg.ReportAfter {
		if l.rconn, err = dial(cfg, cfg.Ports[port]); err != nil {
			l.conn.Close()
			return nil, err
		}
		l.rep = batchio.NewBatch(cfg.Batch, reqSlotSize)
	}
	return l, nil
}

func (l *lane) close() {
	l.conn.Close()
	if l.rconn != nil {
		l.rconn.Close()
	}
}

// receive reads answers until the socket is closed, keeping the lane's share of a
// closed loop in flight first when it drives one.
func (l *lane) receive() {
	r := l.r
	if l.drive != nil && l.drive.sending {
		l.driveLoop()
	}
	for {
		l.beforeRead()
		n, err := l.conn.ReadBatch(l.in)
		now := r.wake()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				l.c.inc(r.phase(now), fRefused)
			}
			continue
		}
		l.handleBatch(n, now)
		l.finished = n
	}
}

// handleBatch accounts for n received datagrams, all received at time now, sends
// the reports they call for, and returns how many requests they completed.
func (l *lane) handleBatch(n int, now int64) int {
	r := l.r
	expireBefore := now - int64(r.cfg.Timeout)
	done, nrep := 0, 0
	for i := range n {
		m := &l.in.Msgs[i]
		if m.Truncated || decodeAnswer(l.in.Data(i), r.cfg.Echo, &l.ans) != nil {
			l.c.inc(r.phase(now), fMalformed)
			continue
		}
		a := &l.ans
		if a.kind == KindReport {
			continue // echo mode: an echoed report
		}
		key := route.PackKey(a.modid, a.cmdid)
		var res, ph int
		var at int64
		if a.kind == KindGetHost {
			res, at, ph = l.rings[KindGetHost].matchSeq(a.seq, key, expireBefore)
		} else {
			res, at, ph = l.rings[KindGetRoute].matchKey(key, &l.routeFrom, expireBefore)
		}
		if ph < 0 {
			ph = r.phase(now)
		}
		switch res {
		case matchOK:
			done++
			v := uint32(min(max(now-at, 0), math.MaxUint32))
			l.c.inc(ph, fReceived+int(a.kind))
			l.hist[ph][a.kind].Add(int64(v))
			if ph == phaseMeasured {
				l.samples[a.kind].add(v)
			}
			if a.kind == KindGetHost {
				l.c.inc(ph, fRetcodes+retIndex(a.retcode))
				if a.retcode == 0 {
					r.noteHost(a.modid, a.cmdid, a.ip, a.port)
					if l.rconn != nil {
						l.addReport(nrep, a, ph)
						nrep++
					}
				}
			}
		case matchExpired:
			done++
			l.c.inc(ph, fTimeouts+int(a.kind))
			l.c.inc(ph, fLate+int(a.kind))
		case matchLate:
			l.c.inc(ph, fLate+int(a.kind))
		case matchDuplicate:
			l.c.inc(ph, fDuplicates+int(a.kind))
		case matchWrongKey:
			l.c.inc(ph, fWrongKey)
		default:
			l.c.inc(ph, fMalformed)
		}
	}
	if nrep > 0 {
		sent, _ := l.rconn.WriteBatch(l.rep, nrep)
		if sent < nrep {
			l.c.add(r.phase(now), fSendErrors, uint64(nrep-sent))
		}
	}
	if done > 0 {
		r.completed(done)
	}
	return done
}

func retIndex(rc int32) int {
	if rc >= 0 && rc < retOther {
		return int(rc)
	}
	return retOther
}

// addReport encodes, into report slot i, the report of the call to the host a chose.
func (l *lane) addReport(i int, a *answer, phase int) {
	r := l.r
	rc, us := r.callResult(a.ip, a.port, l.rng)
	m := &l.rep.Msgs[i]
	m.N = len(l.enc.reportReq(m.Buf[:0], a.modid, a.cmdid, a.ip, a.port, rc, us))
	l.c.inc(phase, fSent+int(KindReport))
	l.c.inc(phase, fReportsAfter)
}

// flush sends the datagrams queued in out; whoever sends on the lane.
func (l *lane) flush() {
	if l.nout == 0 {
		return
	}
	r := l.r
	n := l.nout
	l.nout = 0
	sent, _ := l.conn.WriteBatch(l.out, n)
	now := r.now()
	l.lagTo.Add(min(max(now-l.outFirst, 0), math.MaxUint32))
	if sent < n {
		l.sendCounts.add(r.phase(now), fSendErrors, uint64(n-sent))
	}
}

// packHost packs a host for the last-host table and the failing set.
func packHost(ip, port int32) uint64 { return uint64(uint32(ip))<<32 | uint64(uint32(port)) }

// hostSet packs the FailHosts.
func hostSet(hosts []netip.AddrPort) []uint64 {
	var s []uint64
	for _, h := range hosts {
		a := h.Addr().Unmap().As4()
		ip := int32(uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]))
		s = append(s, packHost(ip, int32(h.Port())))
	}
	return s
}

package loadgen

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"time"
)

// In a closed loop with enough requests in flight, each socket keeps its own share of
// them in flight from its receiver goroutine: an answer read is replaced by a new
// request on the same socket at once, in the same batch cycle, the way a one-thread
// batched client works. That saves the wake-up of a sender goroutine per batch of
// answers (and the scheduler's work to run it on the other core), which cost more CPU
// per request than the datagrams themselves. Each socket's share is the concurrency
// times the probability that a drawn key goes to its port (estimated by drawing), and
// it draws its keys from the run's key distribution restricted to that port, so the
// mix of keys and ports is the configured one as long as the ports answer alike.

// minDriveShare is the smallest share of the concurrency a socket must get for the
// lanes to drive the loop; below it the sender goroutine keeps the whole window, so
// that small windows still follow the key distribution exactly.
const minDriveShare = 4

// massDraws is how many keys are drawn to estimate each port's share.
const massDraws = 1 << 16

// laneDrive is a lane's closed-loop state while it drives its own requests.
type laneDrive struct {
	share    int // requests this lane keeps in flight
	inflight int
	keys     *keySpace // the run's distribution, drawn with the lane's generator
	stopAt   int64     // no request intended at or after this time
	lastSent int64
	sweepAt  int64 // next expiry of the lane's own rings
	sending  bool
}

// driveShares returns each lane's share of cfg.Concurrency, or nil when some lane
// that has keys to send would get fewer than minDriveShare: then the sender drives.
func driveShares(r *runner) []int {
	cfg := &r.cfg
	if cfg.openLoop() || cfg.SharedWindow {
		return nil
	}
	ks := newKeySpace(cfg, rand.New(rand.NewPCG(cfg.Seed, 1<<40)))
	perPort := make([]float64, len(cfg.Ports))
	for range massDraws {
		modid, cmdid := ks.key(ks.draw())
		perPort[ks.port(modid, cmdid)]++
	}
	// Largest remainder: the shares add up to the concurrency exactly.
	shares := make([]int, len(r.lanes))
	rem := make([]float64, len(r.lanes))
	left := cfg.Concurrency
	for i, l := range r.lanes {
		exact := float64(cfg.Concurrency) * perPort[l.port] / massDraws / float64(len(r.byPort[l.port]))
		shares[i] = int(exact)
		rem[i] = exact - float64(shares[i])
		left -= shares[i]
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		shares[best]++
		rem[best] = -1
	}
	for i, l := range r.lanes {
		if perPort[l.port] > 0 && shares[i] < minDriveShare {
			return nil
		}
	}
	return shares
}

// startDrive makes the lane drive share requests of the closed loop.
func (l *lane) startDrive(share int, stopAt int64) {
	r := l.r
	// The lane's goroutine now sends too: it draws with the lane's generator and
	// encodes with the lane's encoder, which only it uses.
	l.drive = &laneDrive{share: share, keys: newKeySpace(&r.cfg, l.rng), stopAt: stopAt, sending: share > 0}
	l.lagTo, l.sendCounts = &l.lag, &l.c
}

// drawOwnKey draws a key of the run's distribution that goes to the lane's port.
func (l *lane) drawOwnKey() uint64 {
	ks := l.drive.keys
	for {
		ki := ks.draw()
		if modid, cmdid := ks.key(ki); ks.port(modid, cmdid) == l.port {
			return ki
		}
	}
}

// driveLoop reads answers and keeps the lane's share in flight until the run's end,
// expiring the lane's own requests past their timeout; then it tells the sender
// (sendersDone) and goes on reading answers until the socket is closed, while the
// sender drains.
func (l *lane) driveLoop() {
	r, d := l.r, l.drive
	sweepEvery := int64(min(r.cfg.Timeout/10, 10*time.Millisecond))
	uc := l.conn.UDPConn()
	now := r.now()
	d.sweepAt = now + sweepEvery
	uc.SetReadDeadline(time.Now().Add(time.Duration(sweepEvery)))
	l.refill(now)
	for d.sending {
		l.beforeRead()
		n, err := l.conn.ReadBatch(l.in)
		now = r.wake()
		switch {
		case err == nil:
			d.inflight -= l.handleBatch(n, now)
			l.finished = n
		case errors.Is(err, net.ErrClosed):
			l.stopDrive()
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			uc.SetReadDeadline(time.Now().Add(time.Duration(sweepEvery)))
		case errors.Is(err, syscall.ECONNREFUSED):
			l.c.inc(r.phase(now), fRefused)
		}
		if now >= d.sweepAt {
			d.sweepAt = now + sweepEvery
			d.inflight -= l.expireOwn(now)
		}
		if now >= d.stopAt || r.ctxDone.Load() || r.requestsDone() {
			l.flush()
			l.stopDrive()
			break
		}
		l.refill(now)
	}
	uc.SetReadDeadline(time.Time{})
	l.receive()
}

// stopDrive ends the lane's sending; the sender's drain owns its rings from now on.
func (l *lane) stopDrive() {
	if l.drive.sending {
		l.drive.sending = false
		l.r.drivers.Done()
	}
}

// refill queues requests until the lane's share is in flight, and sends them.
func (l *lane) refill(now int64) {
	r, d := l.r, l.drive
	for k := 0; d.inflight < d.share && k < maxPerRound; k++ {
		if now >= d.stopAt || !r.takeRequest(now) {
			break
		}
		kind := r.mix.draw(l.rng)
		if !l.queue(kind, l.drawOwnKey(), now, l.enc, l.rng, &l.c) {
			r.giveBackRequest(now)
			break
		}
		d.lastSent = now
		if kind != KindReport {
			d.inflight++
		}
	}
	l.flush()
}

// expireOwn times out the lane's requests sent more than the timeout before now and
// returns how many.
func (l *lane) expireOwn(now int64) int {
	deadline := now - int64(l.r.cfg.Timeout)
	total := 0
	for k, rg := range l.rings {
		for ph, c := range rg.expire(deadline) {
			if c > 0 {
				l.c.add(ph, fTimeouts+k, uint64(c))
				total += c
			}
		}
	}
	return total
}

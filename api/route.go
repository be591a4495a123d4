package api

import (
	"context"
	"errors"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
)

// RegInit's retry policy, the Lars API's reg_init: up to regInitTries get_route calls,
// regInitInterval apart, until the route has a host.
const (
	regInitTries    = 3
	regInitInterval = 50 * time.Millisecond
)

// routeKey is a service key.
type routeKey struct{ modid, cmdid int32 }

// routeCall is the wait of every GetRoute caller for one key. get_route answers carry
// no seq, so the first answer for the key ends the wait of all of them.
type routeCall struct {
	done  chan struct{} // closed once hosts or err is set
	refs  int           // callers waiting; guarded by Client.routeMu
	hosts []Host        // the agent's answer, read-only once done is closed
	err   error         // set instead of hosts on refusal or Close
}

// GetRoute asks the agent for every host of key (modid, cmdid) and appends them to dst,
// in no particular order, each with the weight and zone its route names (0 and "":
// none). IPv6 hosts come only from an agent that reads the client's accept flag, as
// ours does; a host whose ip6 is malformed is left out. An empty route (the agent knows no host yet) is not an error.
// Errors are those of GetHost but for the retcodes, which get_route does not carry.
// Concurrent calls for one key all take the first answer that comes.
func (c *Client) GetRoute(ctx context.Context, modid, cmdid int32, dst []Host) ([]Host, error) {
	d, err := c.budget(ctx)
	if err != nil {
		return dst, err
	}
	k := routeKey{modid, cmdid}
	c.routeMu.Lock()
	rc := c.routes[k]
	if rc == nil {
		rc = &routeCall{done: make(chan struct{})}
		c.routes[k] = rc
	}
	rc.refs++
	c.routeMu.Unlock()

	p := PortIndex(modid, cmdid, len(c.conns))
	ln := &c.lanes[p]
	ln.waiters.Add(1)
	req := pb.GetRouteRequest{Modid: modid, Cmdid: cmdid, Accept: uint32(pb.Accept_ACCEPT_ROUTE_EXT)}
	buf, err := codec.AppendFrame(make([]byte, 0, 32), codec.MsgAPIGetRouteRequest, &req)
	switch {
	case err != nil:
		ln.waiters.Add(-1)
	case ln.lead.CompareAndSwap(false, true):
		err = c.lead(ctx, p, &waitee{rc: rc}, d, buf) // sends buf from inside its read
		ln.r.own = nil
		ln.waiters.Add(-1)
		c.yield(p)
	default:
		if err = c.send(p, buf); err != nil {
			ln.waiters.Add(-1)
			break
		}
		t := time.NewTimer(d)
		select {
		case <-rc.done:
		case <-t.C:
			err = ErrTimeout
		case <-ctx.Done():
			err = ctxErr(ctx.Err())
		}
		t.Stop()
		ln.waiters.Add(-1)
	}
	c.leaveRoute(k, rc)
	select {
	case <-rc.done: // answered, possibly just as the wait ended
		if rc.err != nil {
			return dst, rc.err
		}
		return append(dst, rc.hosts...), nil
	default:
	}
	if errors.Is(err, ErrTimeout) || errors.Is(err, context.Canceled) {
		c.lanes[p].stats.timeouts.Add(1)
	}
	return dst, err
}

// leaveRoute ends one caller's wait on rc, forgetting rc when nobody waits any more.
func (c *Client) leaveRoute(k routeKey, rc *routeCall) {
	c.routeMu.Lock()
	rc.refs--
	if rc.refs == 0 && c.routes[k] == rc {
		delete(c.routes, k)
	}
	c.routeMu.Unlock()
}

// deliverRoute hands an agent's route answer to the callers waiting for its key and
// reports whether there were any.
func (c *Client) deliverRoute(m *pb.GetRouteResponse) bool {
	k := routeKey{m.Modid, m.Cmdid}
	c.routeMu.Lock()
	rc := c.routes[k]
	delete(c.routes, k)
	c.routeMu.Unlock()
	if rc == nil {
		return false
	}
	hosts := make([]Host, 0, len(m.Host))
	for _, h := range m.Host {
		if h == nil {
			continue
		}
		addr, ok := codec.HostAddr(h)
		if !ok { // an ip6 that is not 16 bytes: no address to call
			continue
		}
		hosts = append(hosts, Host{Addr: addr, Weight: h.Weight, Zone: h.Zone})
	}
	rc.hosts = hosts
	close(rc.done)
	return true
}

// failRoutes ends with err the wait of GetRoute callers whose key uses port index p,
// or of all of them when p < 0.
func (c *Client) failRoutes(p int, err error) {
	c.routeMu.Lock()
	defer c.routeMu.Unlock()
	for k, rc := range c.routes {
		if p >= 0 && PortIndex(k.modid, k.cmdid, len(c.conns)) != p {
			continue
		}
		delete(c.routes, k)
		rc.err = err
		close(rc.done)
	}
}

// RegInit pulls the route of key (modid, cmdid) into the agent before the first
// GetHost, as the Lars API's reg_init: up to 3 GetRoute calls, 50 ms apart, until the
// route has a host. It returns nil once it has, ErrNoExist when the route stays empty,
// or the last call's error when that failed. A done ctx or a closed client stops it.
func (c *Client) RegInit(ctx context.Context, modid, cmdid int32) error {
	var hosts []Host
	var err error
	for try := range regInitTries {
		if try > 0 {
			if err := sleep(ctx, regInitInterval); err != nil {
				return err
			}
		}
		hosts, err = c.GetRoute(ctx, modid, cmdid, hosts[:0])
		if len(hosts) > 0 {
			return nil
		}
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	return ErrNoExist
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx.Err())
	}
}

package routesvc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// eventWithin bounds every wait of these tests for something that must happen (a
// frame, a close, a count reached, Run returning): on a working build each comes
// within a few polls of the tests' 20 ms interval, and the bound is far beyond that, so
// that a machine stalled for seconds never reaches it. A passing test never waits it
// out.
const eventWithin = 30 * time.Second

// quiet is a logger for tests that only fails loudly.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// openStore opens dsn for the test and closes it at the end.
func openStore(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", store.Redact(dsn), err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// startService runs a service on st with cfg (Listen and Logger filled in when empty)
// until the test ends, and waits until it serves.
func startService(t testing.TB, st Store, cfg Config, before ...func(*Service)) *Service {
	t.Helper()
	svc, _ := stoppableService(t, st, cfg, before...)
	return svc
}

// agentConn is a test agent's connection to the service.
type agentConn struct {
	t    testing.TB
	nc   net.Conn
	sr   *codec.StreamReader
	resp larspb.GetRouteResponse
}

func dial(t testing.TB, svc *Service) *agentConn {
	t.Helper()
	nc, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &agentConn{t: t, nc: nc, sr: codec.NewStreamReader(nc, 0)}
}

// pull sends a GetRouteRequest for the key.
func (a *agentConn) pull(modid, cmdid int32) {
	a.t.Helper()
	req := larspb.GetRouteRequest{Modid: modid, Cmdid: cmdid}
	frame, err := codec.AppendFrame(nil, codec.MsgGetRouteRequest, &req)
	if err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.nc.Write(frame); err != nil {
		a.t.Fatal(err)
	}
}

// routeMsg is a GetRouteResponse as the test reads it.
type routeMsg struct {
	Key   route.Key
	Hosts []route.Host // sorted
}

// next reads the next frame, failing the test if none comes within d.
func (a *agentConn) next(d time.Duration) routeMsg {
	a.t.Helper()
	m, err := a.read(d)
	if err != nil {
		a.t.Fatalf("no route frame within %v: %v", d, err)
	}
	return m
}

func (a *agentConn) read(d time.Duration) (routeMsg, error) {
	a.nc.SetReadDeadline(time.Now().Add(d))
	id, body, err := a.sr.Next()
	if err != nil {
		return routeMsg{}, err
	}
	if id != codec.MsgGetRouteResponse {
		return routeMsg{}, errors.New("unexpected message id " + id.String())
	}
	a.resp.ResetVT()
	if err := a.resp.UnmarshalVT(body); err != nil {
		return routeMsg{}, err
	}
	m := routeMsg{Key: route.Key{Modid: a.resp.Modid, Cmdid: a.resp.Cmdid}}
	for _, h := range a.resp.Host {
		m.Hosts = append(m.Hosts, route.FromWire(h.Ip, h.Port))
	}
	m.Hosts = route.Normalize(m.Hosts)
	return m, nil
}

// waitFor reads frames until one for key carries exactly want, failing after d.
func (a *agentConn) waitFor(key route.Key, want []route.Host, d time.Duration) {
	a.t.Helper()
	deadline := time.Now().Add(d)
	var last routeMsg
	for time.Now().Before(deadline) {
		m, err := a.read(time.Until(deadline))
		if err != nil {
			break
		}
		if m.Key == key && slices.Equal(m.Hosts, want) {
			return
		}
		last = m
	}
	a.t.Fatalf("key %v: no frame with hosts %v within %v (last frame %+v)", key, want, d, last)
}

// closedWithin reports whether the service closed the connection within d.
func (a *agentConn) closedWithin(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if _, err := a.read(time.Until(deadline)); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
	return false
}

func host(ip string, port int32) route.Host {
	v, err := route.ParseWireIP(ip)
	if err != nil {
		panic(err)
	}
	return route.FromWire(v, port)
}

// waitUntil polls cond every few milliseconds, failing the test after d.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// faultyStore passes every call to the store it wraps, or fails them all while down.
// It stands in for a database outage where the engine cannot be stopped for real
// (SQLite is a file inside this process); on MariaDB the tests stop the server itself.
type faultyStore struct {
	Store
	mu   sync.Mutex
	down bool
}

var errStoreDown = errors.New("store down (injected)")

func (f *faultyStore) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *faultyStore) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errStoreDown
	}
	return nil
}

func (f *faultyStore) Stamp(ctx context.Context) (store.Stamp, error) {
	if err := f.err(); err != nil {
		return store.Stamp{}, err
	}
	return f.Store.Stamp(ctx)
}

func (f *faultyStore) ScanRoutes(ctx context.Context, fn func(route.Key, route.Host)) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.ScanRoutes(ctx, fn)
}

func (f *faultyStore) Routes(ctx context.Context, keys []route.Key) (map[route.Key][]route.Host, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Routes(ctx, keys)
}

func (f *faultyStore) ChangesAfter(ctx context.Context, id uint64, limit int) ([]store.Change, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.ChangesAfter(ctx, id, limit)
}

// wip returns h's wire IP (h must be IPv4).
func wip(h route.Host) int32 {
	ip, _, ok := h.Wire()
	if !ok {
		panic("not IPv4: " + h.String())
	}
	return ip
}

// wport returns h's port as the wire's int32.
func wport(h route.Host) int32 { return int32(h.Addr.Port()) }

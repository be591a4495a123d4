package routesvc

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/larsgo/lars/internal/logthrottle"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

// LeaseStore is what the service needs of the store to take registrations;
// *store.DB implements it. A Config.Store without it takes none (no FEATURE_REGISTER).
type LeaseStore interface {
	EnsureLeases(ctx context.Context) error
	ApplyLeases(ctx context.Context, owner string, reqs []store.LeaseRequest) ([]store.Registration, error)
	ApplyLeaseBatches(ctx context.Context, batches []store.LeaseBatch) ([][]store.Registration, error)
	Renew(ctx context.Context, renewals []store.Renewal) (store.RenewReport, error)
	ExpireLeases(ctx context.Context, limit int) ([]store.Lease, error)
	PruneTombstones(ctx context.Context, age time.Duration) (int64, error)
}

var _ LeaseStore = (*store.DB)(nil)

// leaseManager holds the leases this service wrote, so that a renewal (LEASE_KEEP) is
// answered from memory and written to the store only when the lease nears its end
// (flush, in batches); it runs the store calls of Lease frames off the connections'
// readers (worker) and the expiry of leases (loop).
type leaseManager struct {
	svc *Service
	st  LeaseStore
	// now is the clock renewals are timed by (time.Now; tests inject a fake one).
	now  func() time.Time
	jobs chan *leaseJob
	// storeTimeout bounds each store call (leaseStoreTimeout; a test of a storm under
	// -race on a loaded machine gives it longer).
	storeTimeout time.Duration

	mu   sync.Mutex
	held map[store.LeaseKey]*heldLease
	// byKey indexes held by service, for routeChanged.
	byKey map[route.Key]map[route.Host]struct{}

	stats     leaseCounters
	failedLog logthrottle.Throttle
	// ensured and lastPrune are the loop's.
	ensured   bool
	lastPrune time.Time
	// manual, set by tests before Run, leaves the loop to them (tick).
	manual bool
}

// heldLease is a lease the service wrote (or found static), as it knows it.
type heldLease struct {
	conn  *conn  // the connection that keeps it; nil once that closed
	owner string // who registered it (RouteHistory's who)
	ttl   time.Duration
	// last is the agent's last renewal; until is the lease's end in the store as this
	// service wrote it, by now's clock taken before the write (so never later than the
	// store's); gen counts renewals, so a flush knows whether one came meanwhile.
	last, until time.Time
	gen         uint64
	flushed     uint64 // gen as of the last write
	// static: an operator's host, answered LEASE_STATIC from memory until until.
	static bool
}

// dirty reports whether the agent renewed l since it was last written.
func (l *heldLease) dirty() bool { return l.gen != l.flushed }

func newLeaseManager(svc *Service, st LeaseStore) *leaseManager {
	return &leaseManager{
		svc:          svc,
		st:           st,
		now:          time.Now,
		storeTimeout: leaseStoreTimeout,
		jobs:         make(chan *leaseJob, svc.cfg.LeaseQueue),
		held:         make(map[store.LeaseKey]*heldLease),
		byKey:        make(map[route.Key]map[route.Host]struct{}),
		failedLog:    logthrottle.Throttle{Every: 10 * time.Second},
	}
}

// enabled reports whether anyone may register: -allow-register or a policy.
func (m *leaseManager) enabled() bool {
	return m.svc.cfg.AllowRegister || m.svc.cfg.Policy != nil
}

// keep renews from memory the lease lk that c's owner keeps, if this service holds it
// and its end in the store is still ahead: it reports the answer and true; false
// sends the entry to the store.
func (m *leaseManager) keep(c *conn, lk store.LeaseKey, ttl time.Duration) (static, ok bool) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.held[lk]
	if l == nil || l.owner != c.owner || !now.Before(l.until) {
		return false, false
	}
	if !l.static {
		l.last, l.ttl = now, ttl
		l.gen++
	}
	m.attach(l, lk, c)
	return l.static, true
}

// attach makes c the connection that keeps l (a reconnected agent). Under mu.
func (m *leaseManager) attach(l *heldLease, lk store.LeaseKey, c *conn) {
	if l.conn == c {
		return
	}
	if l.conn != nil {
		delete(l.conn.held, lk)
	}
	l.conn = c
	if c != nil {
		if c.held == nil {
			c.held = make(map[store.LeaseKey]struct{})
		}
		c.held[lk] = struct{}{}
	}
}

// dropping forgets lk as its LEASE_DROP goes to the store: from then on it is no lease
// to keep. A flush that finds it gone in the store before the worker is done with the
// drop must not take it for a lease expired under a renewing agent and register it
// again (the instance would come back for a ttl). Should the drop fail, nobody
// writes its renewals any more, and it ends in the store.
func (m *leaseManager) dropping(lk store.LeaseKey) {
	m.mu.Lock()
	m.forget(lk)
	m.mu.Unlock()
}

// forget drops lk from memory. Under mu.
func (m *leaseManager) forget(lk store.LeaseKey) {
	if l := m.held[lk]; l != nil {
		m.attach(l, lk, nil)
		delete(m.held, lk)
		hosts := m.byKey[lk.Key]
		delete(hosts, lk.Host)
		if len(hosts) == 0 {
			delete(m.byKey, lk.Key)
		}
	}
}

// routeChanged is told by the syncer that k's hosts are now hosts. A held lease whose
// host left the route was removed by someone else (an operator: a tombstone; another
// route service's expiry): its end in memory is cleared, so its next renewal goes to
// the store (LEASE_REMOVED, or registered again) and the next flush tells its agent
// if it renewed meanwhile.
func (m *leaseManager) routeChanged(k route.Key, hosts []route.Host) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h := range m.byKey[k] {
		if !slices.Contains(hosts, h) {
			if l := m.held[store.LeaseKey{Key: k, Host: h}]; l != nil {
				l.until = time.Time{}
			}
		}
	}
}

// hold records that the store holds lk for c's owner, written at written (before the
// write) for ttl; static for an operator's host. Under mu.
func (m *leaseManager) hold(c *conn, lk store.LeaseKey, ttl time.Duration, written time.Time, static bool) {
	l := m.held[lk]
	if l == nil {
		l = &heldLease{}
		m.held[lk] = l
		hosts := m.byKey[lk.Key]
		if hosts == nil {
			hosts = make(map[route.Host]struct{})
			m.byKey[lk.Key] = hosts
		}
		hosts[lk.Host] = struct{}{}
	}
	l.owner, l.ttl, l.static = c.owner, ttl, static
	l.last, l.until = written, written.Add(ttl)
	l.flushed = l.gen
	if c.isClosed() {
		c = nil
	}
	m.attach(l, lk, c)
}

// connClosed detaches c's leases: their renewals seen are still written by the next
// flushes, then they are forgotten and end in the store.
func (m *leaseManager) connClosed(c *conn) {
	m.mu.Lock()
	for lk := range c.held {
		if l := m.held[lk]; l != nil {
			l.conn = nil
		}
	}
	c.held = nil
	m.mu.Unlock()
}

// heldBy returns how many leases c keeps, how many the service holds, and whether
// it holds lk already.
func (m *leaseManager) heldBy(c *conn, lk store.LeaseKey) (conn, all int, held bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, held = m.held[lk]
	return len(c.held), len(m.held), held
}

// count returns how many leases the service holds.
func (m *leaseManager) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held)
}

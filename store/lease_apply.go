package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/lb"
)

// LeaseOp is what a LeaseRequest asks.
type LeaseOp int

// What a LeaseRequest asks (the wire's LeaseOp).
const (
	// LeaseKeep registers the instance, or renews its lease; an instance an operator
	// removed stays out (Removed).
	LeaseKeep LeaseOp = iota
	// LeaseNew is LeaseKeep that also undoes an operator's removal: the instance
	// registered anew.
	LeaseNew
	// LeaseDrop removes the instance and its lease (Deregistered).
	LeaseDrop
)

// LeaseRequest is one instance of a batch ApplyLeases takes.
type LeaseRequest struct {
	Key  lb.Key
	Host lb.Host
	TTL  time.Duration // the lease runs until the database's clock plus TTL
	Op   LeaseOp
}

// ApplyLeases registers, renews and removes the instances of reqs for owner (who in
// RouteHistory) and returns what it did to each, in order. One batch (one Lease
// frame) costs one statement when every instance it keeps has a live lease: a renewal
// that takes no route lock. Otherwise its registrations and renewals are one write
// transaction through the one write path ("register"), and its removals another
// ("deregister"). A host an operator wrote stays Static; one an operator removed stays
// Removed unless asked with LeaseNew. An error means nothing is known of the batch:
// its writes are rolled back or, for the renewals of the first statement, only
// extended leases that were live.
// A batch that loses a deadlock (MySQL) is run again whole.
func (db *DB) ApplyLeases(ctx context.Context, owner string, reqs []LeaseRequest) ([]Registration, error) {
	var results []Registration
	err := retryDeadlock(ctx, func() (err error) {
		results, err = db.applyLeases(ctx, owner, reqs)
		return err
	})
	return results, err
}

// applyLeases is one run of ApplyLeases.
func (db *DB) applyLeases(ctx context.Context, owner string, reqs []LeaseRequest) ([]Registration, error) {
	results := make([]Registration, len(reqs))
	var keep, drop []int
	for i, r := range reqs {
		if r.Op == LeaseDrop {
			drop = append(drop, i)
		} else {
			keep = append(keep, i)
		}
	}
	if len(keep) > 0 {
		renewed, err := db.renewLive(ctx, owner, reqs, keep)
		if err != nil {
			return nil, err
		}
		if renewed {
			for _, i := range keep {
				results[i] = Renewed
			}
		} else if err := db.registerBatch(ctx, owner, reqs, keep, results); err != nil {
			return nil, err
		}
	}
	if len(drop) > 0 {
		named := make([]LeaseKey, len(drop))
		for j, i := range drop {
			named[j] = LeaseKey{reqs[i].Key, reqs[i].Host}
			results[i] = Deregistered
		}
		if _, err := db.dropLeases(WithWho(ctx, owner), "deregister", named, false); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// renewLive extends the leases of reqs[idx] for owner, in one UPDATE per distinct ttl
// and without the route lock, if every one of them exists, is live and not removed.
// It reports whether they all did; if not, those that did are extended all the same
// (harmless: the caller registers the batch through the write path, which writes
// them again).
func (db *DB) renewLive(ctx context.Context, owner string, reqs []LeaseRequest, idx []int) (bool, error) {
	byTTL := map[int64][]LeaseKey{}
	for _, i := range idx {
		ms := reqs[i].TTL.Milliseconds()
		byTTL[ms] = append(byTTL[ms], LeaseKey{reqs[i].Key, reqs[i].Host})
	}
	for _, ms := range slices.Sorted(maps.Keys(byTTL)) {
		named := byTTL[ms]
		where, in := db.leaseKeysIn(named)
		now := db.d.nowMsSQL()
		query := "UPDATE LarsLease SET owner = ?, expires_ms = " + now + " + ? WHERE removed_ms = 0 AND expires_ms >= " + now + where
		res, err := db.db.ExecContext(ctx, query, append([]any{owner, ms}, in...)...)
		if err != nil {
			return false, fmt.Errorf("cannot renew leases: %w", err)
		}
		// MySQL counts the rows changed, not matched: a row renewed to the very same
		// millisecond counts 0 and sends the batch the slow way, which is only slower.
		if n, err := res.RowsAffected(); err != nil || n != int64(len(named)) {
			return false, nil
		}
	}
	return true, nil
}

// registerBatch registers or renews reqs[idx] for owner in one write transaction
// ("register"), setting results[idx].
func (db *DB) registerBatch(ctx context.Context, owner string, reqs []LeaseRequest, idx []int, results []Registration) error {
	named := make([]LeaseKey, len(idx))
	byKey := map[lb.Key][]int{}
	for j, i := range idx {
		named[j] = LeaseKey{reqs[i].Key, reqs[i].Host}
		byKey[reqs[i].Key] = append(byKey[reqs[i].Key], i)
	}
	var rows map[LeaseKey]Lease
	hooks := writeHooks{
		lease: true,
		locked: func(ctx context.Context, tx querier) error {
			found, err := db.leasesOf(ctx, tx, named)
			rows = make(map[LeaseKey]Lease, len(found))
			for _, l := range found {
				rows[LeaseKey{l.Key, l.Host}] = l
			}
			return err
		},
		also: func(ctx context.Context, tx querier) error {
			var put []int
			for _, i := range idx {
				if results[i] == Registered || results[i] == Renewed {
					put = append(put, i)
				}
			}
			return db.putLeases(ctx, tx, owner, reqs, put)
		},
	}
	_, err := db.writeWith(WithWho(ctx, owner), "register", distinctKeys(named), hooks, func(k lb.Key, old []lb.Host) []lb.Host {
		hosts := old
		added := map[lb.Host]bool{}
		for _, i := range byKey[k] {
			r := reqs[i]
			l, leased := rows[LeaseKey{r.Key, r.Host}]
			in := slices.Contains(hosts, r.Host)
			switch {
			case added[r.Host]: // named twice in the batch
				results[i] = Registered
			case leased && !l.Removed.IsZero() && r.Op == LeaseKeep && !in:
				results[i] = Removed
			case in && !leased:
				results[i] = Static
			case in:
				results[i] = Renewed
			default:
				hosts = append(slices.Clone(hosts), r.Host)
				added[r.Host] = true
				results[i] = Registered
			}
		}
		return normalizeHosts(hosts)
	})
	return err
}

// putLeases writes the leases of reqs[idx] for owner, each until the database's clock
// plus its ttl, not removed, in multi-row upserts.
func (db *DB) putLeases(ctx context.Context, q querier, owner string, reqs []LeaseRequest, idx []int) error {
	const width = 6
	for len(idx) > 0 {
		n := min(len(idx), maxRowsPerInsert/2)
		var b strings.Builder
		b.WriteString("INSERT INTO LarsLease (modid, cmdid, serverip, serverport, owner, expires_ms, removed_ms) VALUES ")
		args := make([]any, 0, width*n)
		for j, i := range idx[:n] {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, " + db.d.nowMsSQL() + " + ?, 0)")
			r := reqs[i]
			args = append(args, col32(r.Key.Modid), col32(r.Key.Cmdid), col32(r.Host.IP), col32(r.Host.Port), owner, r.TTL.Milliseconds())
		}
		db.d.appendUpsert(&b, []string{"modid", "cmdid", "serverip", "serverport"}, []string{"owner", "expires_ms", "removed_ms"})
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("cannot write LarsLease: %w", err)
		}
		idx = idx[n:]
	}
	return nil
}

package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/route"
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
	Key  route.Key
	Host route.Host
	TTL  time.Duration // the lease runs until the database's clock plus TTL
	Op   LeaseOp
}

// LeaseBatch is one owner's requests (one Lease frame) for ApplyLeaseBatches.
type LeaseBatch struct {
	Owner string // who in RouteHistory, and the owner of the leases it writes
	Reqs  []LeaseRequest
}

// ApplyLeases registers, renews and removes the instances of reqs for owner (who in
// RouteHistory) and returns what it did to each, in order: ApplyLeaseBatches of one
// batch.
func (db *DB) ApplyLeases(ctx context.Context, owner string, reqs []LeaseRequest) ([]Registration, error) {
	res, err := db.ApplyLeaseBatches(ctx, []LeaseBatch{{Owner: owner, Reqs: reqs}})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// ApplyLeaseBatches registers, renews and removes the instances of batches, each for
// its owner, and returns what it did to each request, batch by batch, in order: the
// same as applying the batches one after another. The batches are applied together, a
// run of them at a time (a run ends before the first batch that names an instance an
// earlier batch of the run names, so that no instance is asked twice in one run).
// A run costs one statement per owner (and distinct ttl) when every instance it keeps
// has a live lease: a renewal that takes no route lock. Otherwise the registrations
// and renewals of the owners whose instances were not all live are one write
// transaction through the one write path ("register"), and the run's removals another
// ("deregister"); a changed service's RouteHistory row is by the owners of the
// requests that changed it (sorted, distinct, joined with ", "). A host an operator
// wrote stays Static; one an operator removed stays Removed unless asked with
// LeaseNew. A run that loses a deadlock (MySQL) is run again whole.
// On an error, the results hold the batches applied before it (a prefix of batches);
// nothing is known of the others: their writes are rolled back or, for the renewals of
// the first statements, only extended leases that were live.
func (db *DB) ApplyLeaseBatches(ctx context.Context, batches []LeaseBatch) ([][]Registration, error) {
	for _, b := range batches {
		for _, r := range b.Reqs {
			if !r.Host.Is4() {
				return nil, fmt.Errorf("cannot register %s of %s: %w", r.Host.Addr, r.Key, errNotIPv4)
			}
		}
	}
	results := make([][]Registration, 0, len(batches))
	for len(batches) > 0 {
		n := leaseRun(batches)
		var res [][]Registration
		err := retryDeadlock(ctx, func() (err error) {
			res, err = db.applyLeaseRun(ctx, batches[:n])
			return err
		})
		if err != nil {
			return results, err
		}
		results = append(results, res...)
		batches = batches[n:]
	}
	return results, nil
}

// leaseRun returns how many batches from the first on name no instance an earlier one
// of them names (at least one).
func leaseRun(batches []LeaseBatch) int {
	seen := map[LeaseKey]bool{}
	for n, b := range batches {
		for _, r := range b.Reqs {
			if seen[LeaseKey{r.Key, r.Host}] {
				return n
			}
		}
		for _, r := range b.Reqs {
			seen[LeaseKey{r.Key, r.Host}] = true
		}
	}
	return len(batches)
}

// applyLeaseRun is one run of ApplyLeaseBatches over batches that share no instance.
func (db *DB) applyLeaseRun(ctx context.Context, batches []LeaseBatch) ([][]Registration, error) {
	var (
		reqs   []LeaseRequest
		owners []string // of reqs
	)
	for _, b := range batches {
		reqs = append(reqs, b.Reqs...)
		for range b.Reqs {
			owners = append(owners, b.Owner)
		}
	}
	results := make([]Registration, len(reqs))
	var drop []int
	keep := map[string][]int{} // by owner
	for i, r := range reqs {
		if r.Op == LeaseDrop {
			drop = append(drop, i)
		} else {
			keep[owners[i]] = append(keep[owners[i]], i)
		}
	}
	var slow []int
	for _, owner := range slices.Sorted(maps.Keys(keep)) {
		idx := keep[owner]
		renewed, err := db.renewLive(ctx, owner, reqs, idx)
		if err != nil {
			return nil, err
		}
		if !renewed {
			slow = append(slow, idx...)
			continue
		}
		for _, i := range idx {
			results[i] = Renewed
		}
	}
	if len(slow) > 0 {
		slices.Sort(slow)
		if err := db.registerBatch(ctx, owners, reqs, slow, results); err != nil {
			return nil, err
		}
	}
	if len(drop) > 0 {
		named := make([]LeaseKey, len(drop))
		by := make(map[LeaseKey]string, len(drop))
		for j, i := range drop {
			named[j] = LeaseKey{reqs[i].Key, reqs[i].Host}
			by[named[j]] = owners[i]
			results[i] = Deregistered
		}
		if _, err := db.dropLeases(WithWho(ctx, joinOwners(slices.Collect(maps.Values(by)))), "deregister", named, false, by); err != nil {
			return nil, err
		}
	}
	out := make([][]Registration, len(batches))
	for b, batch := range batches {
		out[b], results = results[:len(batch.Reqs):len(batch.Reqs)], results[len(batch.Reqs):]
	}
	return out, nil
}

// joinOwners returns owners sorted, each once, joined with ", ".
func joinOwners(owners []string) string {
	o := slices.Clone(owners)
	slices.Sort(o)
	return strings.Join(slices.Compact(o), ", ")
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

// registerBatch registers or renews reqs[idx] (idx ascending), each for its owner
// (owners[i]), in one write transaction ("register"), setting results[idx]; a changed
// service's RouteHistory row is by the owners of the instances it gained.
func (db *DB) registerBatch(ctx context.Context, owners []string, reqs []LeaseRequest, idx []int, results []Registration) error {
	named := make([]LeaseKey, len(idx))
	byKey := map[route.Key][]int{}
	var all []string
	for j, i := range idx {
		named[j] = LeaseKey{reqs[i].Key, reqs[i].Host}
		byKey[reqs[i].Key] = append(byKey[reqs[i].Key], i)
		all = append(all, owners[i])
	}
	var rows map[LeaseKey]Lease
	var who []string // the owners of the hosts the last want added
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
			return db.putLeases(ctx, tx, owners, reqs, put)
		},
		who: func(route.Key) string { return joinOwners(who) },
	}
	_, err := db.writeWith(WithWho(ctx, joinOwners(all)), "register", distinctKeys(named), hooks, func(k route.Key, old []route.Host) []route.Host {
		hosts := old
		added := map[route.Host]bool{}
		who = who[:0]
		for _, i := range byKey[k] {
			r := reqs[i]
			l, leased := rows[LeaseKey{r.Key, r.Host}]
			in := slices.ContainsFunc(hosts, func(h route.Host) bool { return h.Addr == r.Host.Addr })
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
				who = append(who, owners[i])
				results[i] = Registered
			}
		}
		return route.Normalize(hosts)
	})
	return err
}

// putLeases writes the leases of reqs[idx], each for its owner (owners[i]), until the
// database's clock plus its ttl, not removed, in multi-row upserts.
func (db *DB) putLeases(ctx context.Context, q querier, owners []string, reqs []LeaseRequest, idx []int) error {
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
			ip, port, err := wireCols(r.Host)
			if err != nil {
				return fmt.Errorf("cannot write LarsLease: %w", err)
			}
			args = append(args, col32(r.Key.Modid), col32(r.Key.Cmdid), ip, port, owners[i], r.TTL.Milliseconds())
		}
		db.d.appendUpsert(&b, []string{"modid", "cmdid", "serverip", "serverport"}, []string{"owner", "expires_ms", "removed_ms"})
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("cannot write LarsLease: %w", err)
		}
		idx = idx[n:]
	}
	return nil
}

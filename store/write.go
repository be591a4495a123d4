package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/larsgo/lars/route"
)

// AddHost adds h to the hosts of k, or gives the host of k at h's address h's weight
// and zone. changed is false if k already had h as it is.
func (db *DB) AddHost(ctx context.Context, k route.Key, h route.Host) (changed bool, err error) {
	keys, err := db.write(ctx, "add host", []route.Key{k}, func(_ route.Key, old []route.Host) []route.Host {
		return route.Normalize(append([]route.Host{h}, old...))
	})
	return len(keys) > 0, err
}

// DelHost removes the host at h's address (every row of it) from the hosts of k.
// changed is false if k did not have it.
func (db *DB) DelHost(ctx context.Context, k route.Key, h route.Host) (changed bool, err error) {
	keys, err := db.write(ctx, "delete host", []route.Key{k}, func(_ route.Key, old []route.Host) []route.Host {
		return slices.DeleteFunc(slices.Clone(old), func(x route.Host) bool { return x.Addr == h.Addr })
	})
	return len(keys) > 0, err
}

// SetHosts replaces the hosts of k with hosts (duplicates ignored); no hosts drops the
// key. changed is false if k had exactly those hosts.
func (db *DB) SetHosts(ctx context.Context, k route.Key, hosts []route.Host) (changed bool, err error) {
	want := route.Normalize(slices.Clone(hosts))
	keys, err := db.write(ctx, "set hosts", []route.Key{k}, func(route.Key, []route.Host) []route.Host { return want })
	return len(keys) > 0, err
}

// DropKey removes every host of k. changed is false if k had none.
func (db *DB) DropKey(ctx context.Context, k route.Key) (changed bool, err error) {
	keys, err := db.write(ctx, "drop key", []route.Key{k}, func(route.Key, []route.Host) []route.Host { return nil })
	return len(keys) > 0, err
}

// ReplaceKeys sets the hosts of every key in routes (an empty list drops the key) in
// one transaction, leaving other keys alone, and returns the keys whose host set
// changed, sorted by (uint32(Modid), uint32(Cmdid)).
func (db *DB) ReplaceKeys(ctx context.Context, routes map[route.Key][]route.Host) (changed []route.Key, err error) {
	want := make(map[route.Key][]route.Host, len(routes))
	for k, hosts := range routes {
		want[k] = route.Normalize(slices.Clone(hosts))
	}
	keys := slices.SortedFunc(maps.Keys(want), route.CompareKeys)
	return db.write(ctx, "replace keys", keys, func(k route.Key, _ []route.Host) []route.Host { return want[k] })
}

// write runs one write transaction in Lars's convention over keys (sorted, distinct):
// lock the version, read the keys' hosts, ask want for each key's new host set (given
// the current one, normalised; want returns a normalised set), write the difference to
// RouteData (IPv4 hosts) and the changed keys' rows of ours (route_ext.go: weights,
// zones, IPv6 hosts), insert one RouteChange row and one RouteHistory row (who: WhoFrom(ctx))
// per changed key and set the version to nextVersion. Nothing changed: nothing is written. It returns the changed keys in the
// order of keys.
func (db *DB) write(ctx context.Context, op string, keys []route.Key, want func(k route.Key, old []route.Host) []route.Host) (changed []route.Key, err error) {
	return db.writeWith(ctx, op, keys, writeHooks{}, want)
}

// writeHooks are more statements in a write's transaction; an error of either rolls
// everything back.
type writeHooks struct {
	// locked, when set, runs first, once the version is locked (every writer waits).
	locked func(ctx context.Context, tx querier) error
	// also, when set, runs last before the commit, whether or not a host changed.
	also func(ctx context.Context, tx querier) error
	// lease says the write is the leases' own (register, deregister, expire); any other
	// is an operator's, which makes the leases of the hosts it removes tombstones
	// (operatorLeases).
	lease bool
	// who, when set, names the writer of k's RouteHistory row, asked after want(k);
	// "" leaves it to WhoFrom(ctx).
	who func(k route.Key) string
}

// writeWith is write with hooks in its transaction.
func (db *DB) writeWith(ctx context.Context, op string, keys []route.Key, hooks writeHooks,
	want func(k route.Key, old []route.Host) []route.Host) (changed []route.Key, err error) {
	also := hooks.also
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: cannot begin a transaction: %w", op, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	current, err := db.d.lockVersion(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	if hooks.locked != nil {
		if err := hooks.locked(ctx, tx); err != nil {
			return nil, fmt.Errorf("cannot %s: %w", op, err)
		}
	}
	old, had, err := db.d.readHosts(ctx, tx, keys, true)
	if err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	var (
		removed, added []keyHost // RouteData's: IPv4 hosts
		history        []historyRow
		afterOf        = map[route.Key][]route.Host{}
	)
	for _, k := range keys {
		after := want(k, old[k])
		r, a, c := route.Diff(old[k], after)
		if len(r) == 0 && len(a) == 0 && len(c) == 0 {
			continue
		}
		if err := storable(k, a, c); err != nil {
			return nil, fmt.Errorf("cannot %s: %w", op, err)
		}
		changed = append(changed, k)
		afterOf[k] = after
		row := historyRow{key: k, before: old[k], after: after}
		if hooks.who != nil {
			row.who = hooks.who(k)
		}
		history = append(history, row)
		for _, h := range r {
			if h.Is4() {
				removed = append(removed, keyHost{k, h})
			}
		}
		for _, h := range a {
			if h.Is4() {
				added = append(added, keyHost{k, h})
			}
		}
	}
	if len(changed) == 0 {
		if also == nil {
			return nil, tx.Rollback()
		}
		if err := also(ctx, tx); err != nil {
			return nil, fmt.Errorf("cannot %s: %w", op, err)
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("cannot %s: cannot commit: %w", op, err)
		}
		return nil, nil
	}
	now := db.now()
	version := nextVersion(current, now)
	if err := db.d.deleteHosts(ctx, tx, removed); err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	if err := db.d.insertHosts(ctx, tx, added); err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	if err := db.d.writeExt(ctx, tx, changed, had, afterOf); err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	if err := insertChanges(ctx, tx, changed, version); err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	if err := insertHistory(ctx, tx, history, version, now, WhoFrom(ctx), op); err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	if err := setVersion(ctx, tx, version); err != nil {
		return nil, fmt.Errorf("cannot %s: %w", op, err)
	}
	if !hooks.lease {
		if err := db.operatorLeases(ctx, tx, removed, added); err != nil {
			return nil, fmt.Errorf("cannot %s: %w", op, err)
		}
	}
	if also != nil {
		if err := also(ctx, tx); err != nil {
			return nil, fmt.Errorf("cannot %s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cannot %s: cannot commit: %w", op, err)
	}
	return changed, nil
}

// storable returns an error unless the hosts k gains (added) and the hosts whose
// weight or zone changes (changed) can be written (checkStored).
func storable(k route.Key, added, changed []route.Host) error {
	for _, hosts := range [][]route.Host{added, changed} {
		for _, h := range hosts {
			if err := checkStored(h); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	return nil
}

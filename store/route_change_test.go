package store

import (
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/route"
)

func TestChangesAfterPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		const n = 25
		for i := range n {
			if _, err := db.AddHost(ctx, route.Key{Modid: int32(i), Cmdid: 1}, route.FromWire(1, 1)); err != nil {
				t.Fatal(err)
			}
		}
		var (
			after uint64
			seen  []Change
			pages int
		)
		for {
			page, err := db.ChangesAfter(ctx, after, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > 10 {
				t.Fatalf("page of %d, limit 10", len(page))
			}
			pages++
			seen = append(seen, page...)
			after = page[len(page)-1].ID
		}
		if pages != 3 || len(seen) != n {
			t.Fatalf("%d pages, %d changes; want 3, %d", pages, len(seen), n)
		}
		for i, c := range seen {
			if c.Key.Modid != int32(i) || (i > 0 && (c.ID <= seen[i-1].ID || c.Version <= seen[i-1].Version)) {
				t.Errorf("change %d = %+v after %+v", i, c, seen[max(i-1, 0)])
			}
		}
		if s := mustStamp(t, db); s.LastChange != seen[n-1].ID || s.Version != seen[n-1].Version {
			t.Errorf("stamp %+v, last change %+v", s, seen[n-1])
		}
		if all := mustChanges(t, db, 0); len(all) != n {
			t.Errorf("limit 0 gave %d changes, want all %d", len(all), n)
		}
		if rest := mustChanges(t, db, seen[n-1].ID); len(rest) != 0 {
			t.Errorf("changes after the newest: %v", rest)
		}
	})
}

func TestDeleteChangesBefore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openT(t, dsn)
		ctx := testContext(t)
		base := time.Unix(1_700_000_000, 0)
		for i := range 5 { // versions base+0, +10, +20, +30, +40
			db.now = func() time.Time { return base.Add(time.Duration(10*i) * time.Second) }
			if _, err := db.AddHost(ctx, route.Key{Modid: 1, Cmdid: 1}, route.FromWire(int32(i), 1)); err != nil {
				t.Fatal(err)
			}
		}
		before := mustStamp(t, db)
		n, err := db.DeleteChangesBefore(ctx, uint64(base.Unix())+20)
		if err != nil || n != 2 {
			t.Fatalf("DeleteChangesBefore(+20) = %d, %v; want 2 rows", n, err)
		}
		left := mustChanges(t, db, 0)
		if len(left) != 3 || left[0].Version != uint64(base.Unix())+20 {
			t.Errorf("left %v, want the rows from version +20 on", left)
		}
		// Everything is older than the horizon, but the newest row stays, so the stamp
		// does not move backwards.
		n, err = db.DeleteChangesBefore(ctx, uint64(base.Unix())+1000)
		if err != nil || n != 2 {
			t.Fatalf("DeleteChangesBefore(+1000) = %d, %v; want 2 rows", n, err)
		}
		if s := mustStamp(t, db); s.Version != before.Version || s.LastChange != before.LastChange || s.FirstChange != 5 {
			t.Errorf("stamp %+v after deleting old changes, want the version and newest id of %+v, oldest id 5", s, before)
		}
		// New ids continue after the deleted ones.
		db.now = time.Now
		if _, err := db.AddHost(ctx, route.Key{Modid: 1, Cmdid: 1}, route.FromWire(99, 1)); err != nil {
			t.Fatal(err)
		}
		if s := mustStamp(t, db); s.LastChange != before.LastChange+1 {
			t.Errorf("next change id %d, want %d", s.LastChange, before.LastChange+1)
		}
		if n, err := db.DeleteChangesBefore(ctx, 0); err != nil || n != 0 {
			t.Errorf("DeleteChangesBefore(0) = %d, %v", n, err)
		}
	})
}

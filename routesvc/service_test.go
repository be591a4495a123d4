package routesvc

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/larsgo/lars/internal/storetest"
	"github.com/larsgo/lars/internal/vectors"
	"github.com/larsgo/lars/route"
	"github.com/larsgo/lars/store"
)

var (
	key11 = route.Key{Modid: 1, Cmdid: 1}
	key12 = route.Key{Modid: 1, Cmdid: 2}
)

// pushWithin bounds how long a change or an answer may take to reach an agent: it
// must arrive at all; how fast is for the benchmarks.
const pushWithin = eventWithin

func TestPullAnswersMatchGoldenFrames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		ctx := context.Background()
		if _, err := db.SetHosts(ctx, key11, []route.Host{host("127.0.0.2", 7001), host("127.0.0.1", 7000)}); err != nil {
			t.Fatal(err)
		}
		svc := startService(t, db, Config{})
		a := dial(t, svc)
		if _, err := a.nc.Write(vectors.Frame("dns_get_route_request")); err != nil {
			t.Fatal(err)
		}
		want := vectors.Frame("dns_get_route_response")
		got := make([]byte, len(want))
		a.nc.SetReadDeadline(time.Now().Add(pushWithin))
		if _, err := io.ReadFull(a.nc, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("answer\n got %x\nwant %x", got, want)
		}
		// An unknown key is answered with no hosts: msgid 2, modid 5, cmdid 5.
		a.pull(5, 5)
		empty := []byte{2, 0, 0, 0, 4, 0, 0, 0, 0x08, 0x05, 0x10, 0x05}
		got = make([]byte, len(empty))
		if _, err := io.ReadFull(a.nc, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, empty) {
			t.Fatalf("unknown key answer %x, want %x", got, empty)
		}
		if st := svc.Stats(); st.Pulls != 2 || st.Subscriptions != 2 || st.Keys != 1 || st.Routes != 2 {
			t.Fatalf("stats %+v: want 2 pulls, 2 subscriptions, 1 key, 2 routes", st)
		}
	})
}

func TestChangesReachEverySubscriber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		ctx := context.Background()
		h1, h2 := host("10.0.0.1", 9000), host("192.168.1.1", 9001)
		if _, err := db.AddHost(ctx, key11, h1); err != nil {
			t.Fatal(err)
		}
		svc := startService(t, db, Config{})
		agents := make([]*agentConn, 3)
		for i := range agents {
			agents[i] = dial(t, svc)
			agents[i].pull(1, 1)
			agents[i].pull(1, 2) // unknown yet: subscribed all the same
			if m := agents[i].next(pushWithin); m.Key != key11 || len(m.Hosts) != 1 || m.Hosts[0] != h1 {
				t.Fatalf("agent %d: first answer %+v", i, m)
			}
			if m := agents[i].next(pushWithin); m.Key != key12 || len(m.Hosts) != 0 {
				t.Fatalf("agent %d: second answer %+v", i, m)
			}
		}
		steps := []struct {
			name  string
			write func() (bool, error)
			key   route.Key
			want  []route.Host
		}{
			{"add", func() (bool, error) { return db.AddHost(ctx, key11, h2) }, key11, []route.Host{h1, h2}},
			{"new key", func() (bool, error) { return db.AddHost(ctx, key12, h1) }, key12, []route.Host{h1}},
			{"del", func() (bool, error) { return db.DelHost(ctx, key11, h1) }, key11, []route.Host{h2}},
			{"set", func() (bool, error) { return db.SetHosts(ctx, key11, []route.Host{h1}) }, key11, []route.Host{h1}},
			{"drop", func() (bool, error) { return db.DropKey(ctx, key11) }, key11, nil},
		}
		for _, s := range steps {
			if changed, err := s.write(); err != nil || !changed {
				t.Fatalf("%s: changed %v, err %v", s.name, changed, err)
			}
			for i, a := range agents {
				m := a.next(pushWithin)
				if m.Key != s.key || !equalHosts(m.Hosts, s.want) {
					t.Fatalf("%s: agent %d got %+v, want %v %v", s.name, i, m, s.key, s.want)
				}
			}
		}
		if st := svc.Stats(); st.Pushes != uint64(3*len(steps)) || st.Keys != 1 {
			t.Fatalf("stats %+v: want %d pushes and 1 key", st, 3*len(steps))
		}
	})
}

func equalHosts(a, b []route.Host) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTwoInstancesBothPushEveryChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		writer := openStore(t, dsn)
		ctx := context.Background()
		// Both instances prune change rows older than 1 s (checked at the end) while the
		// changes come 1.2 s apart: neither may miss a change because the other pruned
		// its row (Lars's service deletes the rows it applied, and a second instance then
		// misses them). No full reload during the test to hide a miss.
		cfg := Config{Retention: time.Second, Reload: time.Hour}
		one := startService(t, openStore(t, dsn), cfg)
		two := startService(t, openStore(t, dsn), cfg)
		a, b := dial(t, one), dial(t, two)
		a.pull(7, 7)
		b.pull(7, 7)
		a.next(pushWithin)
		b.next(pushWithin)
		key := route.Key{Modid: 7, Cmdid: 7}
		for i := range int32(4) {
			if i > 0 {
				// Not a wait for anything: the changes must come more than the
				// retention apart for the earlier rows to be pruned meanwhile, which
				// a slower machine only makes more certain.
				time.Sleep(1200 * time.Millisecond)
			}
			h := host("10.1.0.1", 1000+i)
			if _, err := writer.SetHosts(ctx, key, []route.Host{h}); err != nil {
				t.Fatal(err)
			}
			a.waitFor(key, []route.Host{h}, pushWithin)
			b.waitFor(key, []route.Host{h}, pushWithin)
		}
		// The first rows are seconds older than the retention by now: pruned in a
		// round already, or in one under way, whose end is the event awaited.
		waitUntil(t, eventWithin, "a change row pruned (else the test did not exercise pruning)", func() bool {
			return one.Stats().ChangeRowsDeleted+two.Stats().ChangeRowsDeleted > 0
		})
	})
}

func TestFullReloadCatchesWritersWithoutChangeRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := openStore(t, dsn)
		ctx := context.Background()
		h1, h2 := host("10.0.0.1", 1), host("10.0.0.2", 2)
		if _, err := db.ReplaceKeys(ctx, map[route.Key][]route.Host{key11: {h1}, key12: {h1}}); err != nil {
			t.Fatal(err)
		}
		svc := startService(t, db, Config{Reload: 300 * time.Millisecond})
		a := dial(t, svc)
		a.pull(1, 1)
		a.pull(1, 2)
		a.next(pushWithin)
		a.next(pushWithin)

		// A Lars-style writer that changes RouteData and the version, no RouteChange.
		if _, err := db.SQL().ExecContext(ctx, "INSERT INTO RouteData (modid, cmdid, serverip, serverport) VALUES (?, ?, ?, ?)",
			1, 2, uint32(wip(h2)), wport(h2)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, "UPDATE RouteVersion SET version = version + 1 WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		m := a.next(pushWithin)
		if m.Key != key12 || !equalHosts(m.Hosts, []route.Host{h1, h2}) {
			t.Fatalf("after a write without change rows: %+v", m)
		}
		// A writer that touches neither: only the periodic reload sees it.
		if _, err := db.SQL().ExecContext(ctx, "DELETE FROM RouteData WHERE modid = ? AND cmdid = ?", 1, 1); err != nil {
			t.Fatal(err)
		}
		m = a.next(pushWithin)
		if m.Key != key11 || len(m.Hosts) != 0 {
			t.Fatalf("after a write without version: %+v", m)
		}
		// Only the keys that differed were pushed. The read is a best effort at seeing
		// an extra frame (a short window cannot prove there is none); the exact push
		// count below is the check that holds on any machine.
		if _, err := a.read(500 * time.Millisecond); err == nil {
			t.Fatal("a key that did not change was pushed")
		}
		if st := svc.Stats(); st.Pushes != 2 || st.FullLoads < 2 {
			t.Fatalf("stats %+v: want 2 pushes, at least 2 full loads", st)
		}
	})
}

func TestStoreOutageServesTheSnapshot(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		// SQLite is a file inside this process: the outage is injected in front of it.
		db := openStore(t, storetest.SQLiteDSN(t))
		f := &faultyStore{Store: db}
		testOutage(t, f, db, func() { f.setDown(true) }, func() { f.setDown(false) })
	})
	t.Run("mariadb", func(t *testing.T) {
		storetest.RequireOutage(t)
		dsn, ok := storetest.MySQLDSN(t)
		if !ok {
			t.Skip(storetest.EnvMySQLDSN + " not set: no MariaDB server to stop and start")
		}
		db := openStore(t, dsn)
		testOutage(t, db, db, func() { storetest.StopMySQL(t) }, func() { storetest.StartMySQL(t) })
	})
}

// testOutage serves from read, writes through db, and stops the store with stop while
// agents are connected: answers go on from the snapshot, healthz says degraded, and
// after start a change flows again.
func testOutage(t *testing.T, read Store, db *store.DB, stop, start func()) {
	ctx := context.Background()
	h1, h2 := host("10.0.0.1", 1), host("10.0.0.2", 2)
	if _, err := db.SetHosts(ctx, key11, []route.Host{h1}); err != nil {
		t.Fatal(err)
	}
	svc := startService(t, read, Config{MaxBackoff: 200 * time.Millisecond})
	a := dial(t, svc)
	a.pull(1, 1)
	a.next(pushWithin)
	stop()
	waitUntil(t, eventWithin, "poll errors while the store is down", func() bool { return svc.Stats().PollErrors > 0 })
	if ok, text := svc.healthText(); !ok || !strings.HasPrefix(text, "degraded") {
		t.Fatalf("healthz while the store is down: %v %q", ok, text)
	}
	b := dial(t, svc) // a new agent is answered from the snapshot
	b.pull(1, 1)
	if m := b.next(pushWithin); !equalHosts(m.Hosts, []route.Host{h1}) {
		t.Fatalf("answer while the store is down: %+v, want %v", m, h1)
	}
	start()
	waitUntil(t, 60*time.Second, "a write after the store came back", func() bool {
		_, err := db.SetHosts(ctx, key11, []route.Host{h2})
		return err == nil
	})
	a.waitFor(key11, []route.Host{h2}, eventWithin)
	b.waitFor(key11, []route.Host{h2}, pushWithin)
	waitUntil(t, pushWithin, "healthz ok after the outage", func() bool {
		ok, text := svc.healthText()
		return ok && strings.HasPrefix(text, "ok")
	})
}

func TestNothingAcceptedBeforeFirstLoad(t *testing.T) {
	db := openStore(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	if _, err := db.SetHosts(ctx, key11, []route.Host{host("10.0.0.1", 1)}); err != nil {
		t.Fatal(err)
	}
	f := &faultyStore{Store: db, down: true}
	// A fixed free port, so the test can try to connect before the service listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	svc, err := New(Config{Store: f, Listen: addr, Poll: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(cctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitUntil(t, eventWithin, "failed first loads", func() bool { return svc.Stats().PollErrors >= 3 })
	// Refused at once when nothing listens; the long timeout keeps a stalled machine
	// from passing the check by timing out a dial that would have connected.
	if c, err := net.DialTimeout("tcp", addr, eventWithin); err == nil {
		c.Close()
		t.Fatal("a connection was accepted before the first load")
	}
	rec := httptest.NewRecorder()
	svc.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "loading") {
		t.Fatalf("healthz before the first load: %d %q", rec.Code, rec.Body.String())
	}
	select {
	case <-svc.Ready():
		t.Fatal("ready before the first load")
	default:
	}
	f.setDown(false)
	select {
	case <-svc.Ready():
	case <-time.After(eventWithin):
		t.Fatalf("not ready within %v of the store coming up", eventWithin)
	}
	a := dial(t, svc)
	a.pull(1, 1)
	if m := a.next(pushWithin); len(m.Hosts) != 1 {
		t.Fatalf("first answer %+v", m)
	}
}

package lb

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/route"
)

// noThresholds never changes a host's state: every report only counts.
func noThresholds() Settings {
	s := DefaultSettings()
	s.ErrRate, s.SuccRate = 1, 1
	s.ContinErrLimit, s.ContinSuccLimit = math.MaxInt32, math.MaxInt32
	s.IdleTimeout, s.OverloadTimeout = 1000*time.Hour, 1000*time.Hour
	return s
}

// TestStressCounts runs pickers, reporters and route updaters together and checks
// that picks stay within the key's host universe, routes are well formed, and no
// report on a host that stayed in the route is lost.
func TestStressCounts(t *testing.T) {
	const (
		workers      = 8
		opsPerWorker = 15_000 // 120,000 ops plus the updaters'
	)
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{Settings: noThresholds(), PullQueue: 1 << 16})
	stable := []Host{hostN(1), hostN(2), hostN(3), hostN(4)}
	churn := []Host{hostN(5), hostN(6), hostN(7), hostN(8)}
	inUniverse := func(h Host) bool { return slices.Contains(stable, h) || slices.Contains(churn, h) }
	answer(t, tbl, stable...)
	const churnMod, churnCmd = 50, 60 // a key removed and created again all along

	var stop atomic.Bool
	var updaters sync.WaitGroup
	updaters.Add(2)
	go func() { // route updates of the key: stable hosts plus a random subset of churn
		defer updaters.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; !stop.Load(); i++ {
			hosts := slices.Clone(stable)
			for _, h := range churn {
				if r.IntN(2) == 0 {
					hosts = append(hosts, h)
				}
			}
			r.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
			tbl.ApplyRoute(tmod, tcmd, rhs(hosts))
			if i%16 == 0 {
				tbl.Sweep()
				tbl.Snapshot()
			}
		}
	}()
	go func() { // the churning key comes and goes
		defer updaters.Done()
		for i := 0; !stop.Load(); i++ {
			tbl.GetHost(churnMod, churnCmd)
			if i%2 == 0 {
				tbl.ApplyRoute(churnMod, churnCmd, rhs(churn[:1+i%len(churn)]))
			} else {
				tbl.ApplyRoute(churnMod, churnCmd, nil)
			}
			drainPulls(tbl)
			tbl.Stats()
		}
	}()

	var sentStable [workers]uint64
	var bad atomic.Value
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			rt := make([]route.Host, 0, 16)
			for i := range opsPerWorker {
				switch i % 4 {
				case 0, 1:
					h, ret := tbl.GetHost(tmod, tcmd)
					if ret != codec.RetSucc || !inUniverse(h) {
						bad.Store("GetHost returned " + h.String() + " " + ret.String())
					}
					if h2, ret := tbl.GetHost(churnMod, churnCmd); ret == codec.RetSucc && !slices.Contains(churn, h2) {
						bad.Store("churn key returned " + h2.String())
					}
				case 2:
					rt = tbl.GetRoute(tmod, tcmd, rt[:0])
					route := addrs(rt)
					for _, h := range stable {
						if !slices.Contains(route, h) {
							bad.Store("route misses a stable host")
						}
					}
					for j, h := range route {
						if !inUniverse(h) || (j > 0 && h.Compare(route[j-1]) <= 0) {
							bad.Store("route has a foreign, unsorted or repeated host")
						}
					}
				case 3:
					ret := int32(r.IntN(2))
					if r.IntN(4) == 0 {
						tbl.Report(tmod, tcmd, churn[r.IntN(len(churn))], ret)
					} else {
						tbl.Report(tmod, tcmd, stable[r.IntN(len(stable))], ret)
						sentStable[w]++
					}
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	updaters.Wait()
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	var sent uint64
	for _, n := range sentStable {
		sent += n
	}
	var counted uint64
	for _, h := range stable {
		hi := hostInfo(t, tbl, h)
		if hi.Overloaded || hi.VSucc != 180+hi.RSucc || hi.VErr != hi.RErr {
			t.Fatalf("stable host changed state or lost counts: %+v", hi)
		}
		counted += uint64(hi.RSucc + hi.RErr)
	}
	if counted != sent {
		t.Fatalf("stable hosts counted %d reports, %d were sent", counted, sent)
	}
	checkGauges(t, tbl)
}

// TestStressTransitions drives state changes, windows and timeouts while pickers
// check that every pick comes from the key's universe.
func TestStressTransitions(t *testing.T) {
	const (
		workers      = 8
		opsPerWorker = 15_000
		keys         = 4
	)
	clk := newFakeClock()
	tbl := newDynamic(clk, Config{PullQueue: 1 << 16, StatusQueue: 1 << 16})
	universe := make([][]Host, keys)
	for k := range keys {
		for i := range 6 {
			universe[k] = append(universe[k], hostN(10*k+i))
		}
		tbl.GetHost(int32(k), 1)
		tbl.ApplyRoute(int32(k), 1, rhs(universe[k]))
	}
	drainPulls(tbl)

	var stop atomic.Bool
	var updater sync.WaitGroup
	updater.Add(1)
	go func() {
		defer updater.Done()
		r := rand.New(rand.NewPCG(3, 4))
		for !stop.Load() {
			k := r.IntN(keys)
			n := 1 + r.IntN(len(universe[k]))
			tbl.ApplyRoute(int32(k), 1, rhs(universe[k][:n]))
			clk.Advance(time.Duration(r.IntN(500)) * time.Millisecond)
			tbl.Sweep()
			drainPulls(tbl)
			drainStatuses(tbl)
		}
	}()
	var bad atomic.Value
	var picks, overloads atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := range opsPerWorker {
				k := r.IntN(keys)
				if i%2 == 0 {
					h, ret := tbl.GetHost(int32(k), 1)
					switch ret {
					case codec.RetSucc:
						picks.Add(1)
						if !slices.Contains(universe[k], h) {
							bad.Store("foreign host " + h.String())
						}
					case codec.RetOverload:
						overloads.Add(1)
					default:
						bad.Store("unexpected " + ret.String())
					}
					continue
				}
				// Failures dominate on the low hosts so that states keep changing.
				h := universe[k][r.IntN(len(universe[k]))]
				ret := int32(0)
				if r.IntN(10) < 8-int(h.Addr().As4()[3]%6) {
					ret = 1
				}
				tbl.Report(int32(k), 1, h, ret)
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	updater.Wait()
	if msg := bad.Load(); msg != nil {
		t.Fatal(msg)
	}
	if picks.Load() == 0 {
		t.Fatal("no host picked")
	}
	t.Logf("picks %d, overload answers %d, stats %+v", picks.Load(), overloads.Load(), tbl.Stats())
	checkGauges(t, tbl)
}

// checkGauges compares the host gauges with a walk of the table.
func checkGauges(t *testing.T, tbl *Table) {
	t.Helper()
	var idle, over, keys int64
	for _, ki := range tbl.Snapshot() {
		keys++
		for _, h := range ki.Hosts {
			if h.Overloaded {
				over++
			} else {
				idle++
			}
		}
	}
	if st := tbl.Stats(); st.Keys != keys || st.HostsIdle != idle || st.HostsOverloaded != over {
		t.Fatalf("gauges %+v, walk: keys %d idle %d overloaded %d", st, keys, idle, over)
	}
}

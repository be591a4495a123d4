package chaos

import (
	"fmt"
	"os/exec"
	"slices"
	"time"

	"github.com/larsgo/lars/internal/proctest"
)

// changeLimit is how long a route change may take to reach the agent before it counts
// as lost. Changes take a poll of lars-dns (100 ms here) and a push; the limit is
// eventLimit because the machine is shared: a change later than that is lost, not slow.
const changeLimit = eventLimit

// changeStats are the route changes of a soak.
type changeStats struct {
	made, seen int
	took       []time.Duration // from the end of each write to the agent answering with it
	failures   []string        // writes that failed, changes not seen within changeLimit
}

// latencies summarises the time changes took to reach the agent.
func (c changeStats) latencies() string {
	if len(c.took) == 0 {
		return "none seen"
	}
	sorted := slices.Clone(c.took)
	slices.Sort(sorted)
	at := func(q float64) time.Duration { return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))] }
	return fmt.Sprintf("seen after p50 %v, p99 %v, max %v", at(0.5).Round(time.Millisecond), at(0.99).Round(time.Millisecond),
		sorted[len(sorted)-1].Round(time.Millisecond))
}

// changeRoutesEverySecond changes the route of one of the changing keys every second
// until end, in turn, as an operator would (larsctl route set: two new hosts), and
// after each write asks the agent (get_route) until it answers with the new hosts, for
// changeLimit at most. It runs on a goroutine of its own, so it reports failures
// instead of failing the test.
func (s *system) changeRoutesEverySecond(asker *routeAsker, end time.Time) changeStats {
	var c changeStats
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 1; ; i++ {
		now := <-tick.C
		if now.After(end) {
			return c
		}
		key := int32(changingFirst + i%changingKeys)
		port := 20000 + i%40000
		want := []string{fmt.Sprintf("10.20.%d.1:%d", i%changingKeys, port), fmt.Sprintf("10.20.%d.2:%d", i%changingKeys, port)}
		out, err := exec.Command(proctest.Bin("larsctl"), "-db", s.db, "route", "set", fmt.Sprint(key), "1", want[0], want[1]).CombinedOutput()
		if err != nil {
			c.failures = append(c.failures, fmt.Sprintf("route set %d/1: %v: %s", key, err, out))
			continue
		}
		c.made++
		written := time.Now()
		for {
			hosts, err := asker.hosts(key, 1, 200*time.Millisecond)
			if err == nil && slices.Equal(hosts, want) {
				c.seen++
				c.took = append(c.took, time.Since(written))
				break
			}
			if time.Since(written) > changeLimit {
				c.failures = append(c.failures, fmt.Sprintf("change %d of %d/1 to %v not seen within %v: the agent answers %v, %v", i, key, want, changeLimit, hosts, err))
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

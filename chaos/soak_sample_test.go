package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/larsgo/lars/internal/proctest"
)

// proc is one process of the system the soak samples.
type proc struct {
	name  string
	pid   int
	admin string // its admin endpoint, for /metrics
}

// sample is one process's figures at one moment.
type sample struct {
	rssMiB     float64 // resident memory, /proc/PID/status VmRSS
	heapMiB    float64 // Go heap in use, go_memstats_heap_inuse_bytes
	goroutines float64 // go_goroutines
	fds        float64 // open file descriptors, entries of /proc/PID/fd
}

// takeSample reads p's figures.
func takeSample(p proc) (sample, error) {
	m, err := proctest.Scrape(p.admin)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", p.name, err)
	}
	rss, err := rssMiB(p.pid)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", p.name, err)
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(p.pid) + "/fd")
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w", p.name, err)
	}
	heap, ok := m["go_memstats_heap_inuse_bytes"]
	gor, ok2 := m["go_goroutines"]
	if !ok || !ok2 {
		return sample{}, fmt.Errorf("%s: no go_memstats_heap_inuse_bytes or go_goroutines in /metrics", p.name)
	}
	return sample{rssMiB: rss, heapMiB: heap / (1 << 20), goroutines: gor, fds: float64(len(fds))}, nil
}

// rssMiB returns the resident memory of process pid in MiB.
func rssMiB(pid int) (float64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// String gives the sample as a table cell: RSS MiB / heap MiB / goroutines / fds.
func (s sample) String() string {
	return fmt.Sprintf("%.1f / %.1f / %.0f / %.0f", s.rssMiB, s.heapMiB, s.goroutines, s.fds)
}

// growthBound is how much one figure may grow after the warm-up: the mean of the last
// quarter of the samples may exceed the mean of the first quarter (at least 3 samples
// each) by factor times it plus slack, no more. The slack absorbs what is not a leak:
// the garbage collector's sawtooth (the heap may double between collections), the
// pools of database connections, the admin endpoint's keep-alive connections.
type growthBound struct {
	what   string
	unit   string
	value  func(sample) float64
	factor float64
	slack  float64
}

// soakBounds are the soak's growth bounds, for every process.
var soakBounds = []growthBound{
	{"RSS", "MiB", func(s sample) float64 { return s.rssMiB }, 1.25, 8},
	{"Go heap in use", "MiB", func(s sample) float64 { return s.heapMiB }, 1.5, 4},
	{"goroutines", "", func(s sample) float64 { return s.goroutines }, 1, 10},
	{"open fds", "", func(s sample) float64 { return s.fds }, 1, 10},
}

// describe states the bound for the tables.
func (b growthBound) describe() string {
	return fmt.Sprintf("%s: last quarter's mean <= %.2f x first quarter's + %g%s", b.what, b.factor, b.slack, b.unit)
}

// growth compares the first and last quarter of one process's post-warm-up samples
// under b: their means, and whether the last stays within the bound.
func (b growthBound) growth(post []sample) (first, last float64, ok bool) {
	q := max(3, len(post)/4)
	mean := func(ss []sample) float64 {
		sum := 0.0
		for _, s := range ss {
			sum += b.value(s)
		}
		return sum / float64(len(ss))
	}
	first, last = mean(post[:q]), mean(post[len(post)-q:])
	return first, last, last <= b.factor*first+b.slack
}

// minPostWarmup is the fewest post-warm-up samples the growth check needs: two
// quarters of at least 3 that do not overlap.
const minPostWarmup = 6

// soakWarmup is the part of a soak of d whose samples the growth check leaves out:
// start-up, the first pulls, caches and pools filling. A tenth of the run, at least
// 30 s.
func soakWarmup(d time.Duration) time.Duration { return max(30*time.Second, d/10) }

package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Health checks (issue 31), run by the agent as Consul's agent runs them: "tcp" is a
// connect to the instance, an http:// URL a GET that must be answered 2xx (redirects
// are not followed: a 3xx fails). One failure makes the check failing, one pass
// passing. A check's timeout is its interval, at most maxCheckTimeout.
const (
	maxCheckTimeout = 2 * time.Second
	// maxChecksRunning bounds the checks running at once; those due beyond it wait
	// for the next step.
	maxChecksRunning = 64
	// maxCheckBody is how much of an HTTP check's answer is read, so that its
	// connection can be reused.
	maxCheckBody = 4 << 10
)

// checkJob is one check to run.
type checkJob struct {
	id      regID
	e       *regEntry
	gen     uint64
	check   string
	host    netip.AddrPort
	timeout time.Duration
}

// checker runs health checks, at most maxChecksRunning at once.
type checker struct {
	sem    chan struct{}
	wg     sync.WaitGroup
	client *http.Client
	run    atomic.Uint64 // checks run
	failed atomic.Uint64 // checks failed
}

func newChecker() *checker {
	tr := &http.Transport{
		Proxy:               nil, // a check goes to the instance, never through a proxy
		DialContext:         (&net.Dialer{}).DialContext,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &checker{
		sem: make(chan struct{}, maxChecksRunning),
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

// start runs j in a goroutine of its own and calls done with its outcome, unless
// maxChecksRunning checks run already: then it returns false.
func (c *checker) start(ctx context.Context, j checkJob, done func(checkJob, error)) bool {
	select {
	case c.sem <- struct{}{}:
	default:
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() { <-c.sem }()
		err := c.do(ctx, j)
		if ctx.Err() != nil {
			return // shutting down: the outcome means nothing
		}
		c.run.Add(1)
		if err != nil {
			c.failed.Add(1)
		}
		done(j, err)
	}()
	return true
}

// wait waits for every check running, then closes the HTTP checks' idle connections.
func (c *checker) wait() {
	c.wg.Wait()
	c.client.CloseIdleConnections()
}

// do runs one check: nil if it passes.
func (c *checker) do(ctx context.Context, j checkJob) error {
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	if j.check == "tcp" {
		addr := j.host.String()
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.check, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "lars-agent health check")
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxCheckBody)
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s answered %s", j.check, resp.Status)
	}
	return nil
}

// errCheckTimeout names a check that took its whole timeout.
var errCheckTimeout = errors.New("no answer within the check's timeout")

// checkDone applies a check's outcome to its registration, if it is still the check
// that registration has. A change of outcome wakes the loop: a failing check
// withdraws the instance (LEASE_DROP), a passing one registers it again.
func (r *registry) checkDone(j checkJob, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries[j.id] != j.e || j.e.checkGen != j.gen {
		return
	}
	e := j.e
	e.checking = false
	prev := e.check
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = errCheckTimeout
		}
		e.check, e.checkErr = checkFailing, err.Error()
	} else {
		e.check, e.checkErr = checkPassing, ""
	}
	if e.check != prev {
		r.wake()
		if ok, held := r.checkLog.Allow(time.Now()); ok && (prev != checkUnknown || e.check == checkFailing) {
			r.log.Info("registration's health check changed", "modid", j.id.key.Modid, "cmdid", j.id.key.Cmdid,
				"host", j.id.host.String(), "check", e.Check, "state", e.check.String(), "err", e.checkErr, "changes_not_logged", held)
		}
	}
}

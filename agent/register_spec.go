package agent

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/larsgo/lars/route"
)

// Bounds and defaults of a registration (issue 31; codec/larspb RegisterRequest).
const (
	// DefaultRegisterTTL is a registration's ttl when its request gives none: how long
	// it lasts without a keepalive from its owner, and the lease asked of the route
	// service, renewed at a third of it.
	DefaultRegisterTTL = 10 * time.Second
	MinRegisterTTL     = time.Second // shortest ttl taken
	MaxRegisterTTL     = time.Hour   // longest ttl taken
	// DefaultCheckInterval is how often a registration's health check runs when its
	// request gives no interval.
	DefaultCheckInterval = time.Second
	MinCheckInterval     = 100 * time.Millisecond // shortest check interval taken
	MaxCheckInterval     = time.Minute            // longest check interval taken
	// DefaultMaxRegistrations bounds the registrations one agent keeps
	// (Config.MaxRegistrations): beyond it a new one is refused, counted.
	DefaultMaxRegistrations = 10_000
	// maxCheckLen bounds a check's text: an http:// URL of this many bytes at most.
	maxCheckLen = 512
)

// Registration is one instance registered through the agent: by a process (the Go
// client, larsctl register) or by a [register] line of its INI file.
type Registration struct {
	Key  route.Key
	Host netip.AddrPort // IPv4: registrations carry no other
	// TTL: how long the registration lasts without a keepalive from its owner (INI
	// registrations never expire), and the lease asked of the route service. 0: the
	// default.
	TTL time.Duration
	// Check is the health check the agent runs: "" none, "tcp" (a connect to Host),
	// or an http:// URL (a GET answered 2xx).
	Check string
	// CheckInterval is how often Check runs. 0: the default.
	CheckInterval time.Duration
}

// normalize returns r with its defaults filled in, or an error saying what is out of
// range: the port (1..65535), the address (not 0), the ttl, the check or its interval.
func (r Registration) normalize() (Registration, error) {
	if r.Host.Port() == 0 {
		return r, errors.New("port 0 is not in 1..65535")
	}
	if a := r.Host.Addr(); !a.Is4() {
		return r, fmt.Errorf("address %s cannot be registered: want IPv4", a)
	} else if a.IsUnspecified() {
		return r, errors.New("address 0.0.0.0 cannot be registered")
	}
	if r.TTL == 0 {
		r.TTL = DefaultRegisterTTL
	}
	if r.TTL < MinRegisterTTL || r.TTL > MaxRegisterTTL {
		return r, fmt.Errorf("ttl %v is not in %v..%v", r.TTL, MinRegisterTTL, MaxRegisterTTL)
	}
	if r.CheckInterval == 0 {
		r.CheckInterval = DefaultCheckInterval
	}
	if r.CheckInterval < MinCheckInterval || r.CheckInterval > MaxCheckInterval {
		return r, fmt.Errorf("check interval %v is not in %v..%v", r.CheckInterval, MinCheckInterval, MaxCheckInterval)
	}
	if err := ValidateCheck(r.Check); err != nil {
		return r, err
	}
	return r, nil
}

// ValidateCheck says whether check is one the agent runs: "" (none), "tcp", or an
// absolute http:// URL with a host (and a port in 1..65535 if it gives one), no user
// information and no fragment, of at most 512 bytes.
func ValidateCheck(check string) error {
	switch {
	case check == "" || check == "tcp":
		return nil
	case len(check) > maxCheckLen:
		return fmt.Errorf("check is %d bytes long, over %d", len(check), maxCheckLen)
	}
	u, err := url.Parse(check)
	if err != nil {
		return fmt.Errorf("check %q: want \"tcp\" or an http:// URL: %v", check, err)
	}
	switch {
	case u.Scheme != "http":
		return fmt.Errorf("check %q: want \"tcp\" or an http:// URL", check)
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("check %q: the URL has no host", check)
	case u.User != nil:
		return fmt.Errorf("check %q: user information is not taken", check)
	case u.Fragment != "" || u.RawFragment != "":
		return fmt.Errorf("check %q: a fragment is not taken", check)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("check %q: port %q is not in 1..65535", check, p)
		}
	} else if _, _, err := net.SplitHostPort(u.Host); err == nil {
		return fmt.Errorf("check %q: empty port", check)
	}
	return nil
}

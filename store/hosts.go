package store

import (
	"errors"
	"fmt"
	"math"

	"github.com/larsgo/lars/route"
)

// The int unsigned columns hold uint32(x) of the wire int32 x; reading converts back
// with int32(uint32), so addresses from 128.0.0.0 up (negative on the wire) round-trip.

// col32 returns x as the value of an int unsigned column.
func col32(x int32) int64 { return int64(uint32(x)) }

// wire32 scans an int unsigned column (or a signed one) into a wire int32 without
// allocating: SQLite hands int64, MySQL []byte (text protocol) or int64/uint64 (binary
// protocol).
type wire32 struct{ dst *int32 }

// errNotInt32 is wrapped by wire32.Scan for values outside both int32 and uint32.
var errNotInt32 = errors.New("value is not a 32-bit integer")

// Scan implements sql.Scanner.
func (w wire32) Scan(src any) error {
	var v int64
	switch s := src.(type) {
	case int64:
		v = s
	case uint64:
		if s > math.MaxUint32 {
			return fmt.Errorf("%w: %d", errNotInt32, s)
		}
		v = int64(s)
	case []byte:
		var err error
		if v, err = parseInt64(s); err != nil {
			return err
		}
	case string:
		var err error
		if v, err = parseInt64([]byte(s)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: %T", errNotInt32, src)
	}
	if v < math.MinInt32 || v > math.MaxUint32 {
		return fmt.Errorf("%w: %d", errNotInt32, v)
	}
	*w.dst = int32(uint32(v))
	return nil
}

// parseInt64 parses a decimal integer without the string conversion strconv needs.
func parseInt64(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, fmt.Errorf("%w: %q", errNotInt32, b)
	}
	var v int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: %q", errNotInt32, b)
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, nil
}

// errNotIPv4 is wrapped by the errors of writes of hosts that are not IPv4 to Lars's
// IPv4 columns (RouteData, ServerCallStatus, LarsLease).
var errNotIPv4 = errors.New("IPv6 hosts cannot be stored in Lars's IPv4 columns")

// wireCols returns h's address as the values of Lars's int unsigned IPv4 and port
// columns, and an error for a host that is not IPv4.
func wireCols(h route.Host) (ip, port int64, err error) {
	wip, wport, ok := h.Wire()
	if !ok {
		return 0, 0, fmt.Errorf("%w: %s", errNotIPv4, h.Addr)
	}
	return col32(wip), col32(wport), nil
}

// hostScan scans Lars's IPv4 and port columns into a route.Host without allocating.
type hostScan struct{ ip, port int32 }

// host returns the scanned host.
func (s *hostScan) host() route.Host { return route.FromWire(s.ip, s.port) }

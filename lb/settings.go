package lb

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Settings are the balancing parameters of LB-SEMANTICS.md, section [loadbalance] of a
// Lars-style INI file. Each field comment names its INI key and its Lars default;
// DefaultSettings returns them all.
type Settings struct {
	// ProbeNum (probe_num, default 10): while some host is overloaded, a call whose
	// access_cnt has reached ProbeNum goes to an overloaded host as a probe. With
	// ProbeNum 10 and every host overloaded, calls 1..10 get RetOverload and the 11th
	// probes. At least 1.
	ProbeNum int
	// InitSuccCnt (init_succ_cnt, default 180): virtual successes a new or recovered
	// host starts with. At least 0.
	InitSuccCnt int
	// InitErrCnt (init_err_cnt, default 5): virtual failures a host starts with when it
	// becomes overloaded. At least 0.
	InitErrCnt int
	// ErrRate (err_rate, default 0.1): an idle host whose virtual failure rate rises
	// above this after a failure becomes overloaded. In [0, 1]; 1 disables the rule.
	ErrRate float64
	// SuccRate (succ_rate, default 0.5): an overloaded host whose virtual success rate
	// rises above this after a success becomes idle. In [0, 1]; 1 disables the rule.
	SuccRate float64
	// ContinErrLimit (contin_err_limit, default 15): an idle host with this many
	// consecutive failures becomes overloaded. At least 1.
	ContinErrLimit int
	// ContinSuccLimit (contin_succ_limit, default 15): an overloaded host with this many
	// consecutive successes becomes idle. At least 1.
	ContinSuccLimit int
	// WindowErrRate (window_err_rate, default 0.7): at the end of an idle host's
	// window, a real failure rate at or above this makes it overloaded. In [0, 1].
	WindowErrRate float64
	// IdleTimeout (idle_timeout, default 15s): length of an idle host's window.
	IdleTimeout time.Duration
	// OverloadTimeout (overload_timeout, default 15s): an overloaded host goes back to
	// idle after this long, whatever its counts.
	OverloadTimeout time.Duration
	// UpdateTimeout (update_timeout, default 15s): a key's route older than this is
	// pulled again from the route service, in the background.
	UpdateTimeout time.Duration
	// PullTimeout (pull_timeout, default 1s, not in Lars): a pull unanswered after
	// this long is queued again by Table.Sweep.
	PullTimeout time.Duration
	// ReportInterval (report_interval, default 1s, not in Lars): the status of a key is
	// sent to the report service at most once per interval, and only after new reports.
	ReportInterval time.Duration
}

// Defaults of Settings, as Lars ships them (plus the two additions).
const (
	DefaultProbeNum        = 10
	DefaultInitSuccCnt     = 180
	DefaultInitErrCnt      = 5
	DefaultErrRate         = 0.1
	DefaultSuccRate        = 0.5
	DefaultContinErrLimit  = 15
	DefaultContinSuccLimit = 15
	DefaultWindowErrRate   = 0.7
	DefaultIdleTimeout     = 15 * time.Second
	DefaultOverloadTimeout = 15 * time.Second
	DefaultUpdateTimeout   = 15 * time.Second
	DefaultPullTimeout     = time.Second
	DefaultReportInterval  = time.Second
)

// maxCount bounds the integer settings so that counters starting from them cannot
// overflow their uint32 storage in any realistic window.
const maxCount = math.MaxInt32

// ErrInvalidSettings is wrapped by every error Settings.Validate returns.
var ErrInvalidSettings = errors.New("invalid loadbalance settings")

// DefaultSettings returns the Lars defaults.
func DefaultSettings() Settings {
	return Settings{
		ProbeNum:        DefaultProbeNum,
		InitSuccCnt:     DefaultInitSuccCnt,
		InitErrCnt:      DefaultInitErrCnt,
		ErrRate:         DefaultErrRate,
		SuccRate:        DefaultSuccRate,
		ContinErrLimit:  DefaultContinErrLimit,
		ContinSuccLimit: DefaultContinSuccLimit,
		WindowErrRate:   DefaultWindowErrRate,
		IdleTimeout:     DefaultIdleTimeout,
		OverloadTimeout: DefaultOverloadTimeout,
		UpdateTimeout:   DefaultUpdateTimeout,
		PullTimeout:     DefaultPullTimeout,
		ReportInterval:  DefaultReportInterval,
	}
}

// Validate reports the first setting out of range, naming its INI key. The error
// wraps ErrInvalidSettings.
func (s Settings) Validate() error {
	count := func(key string, v, lo int) error {
		if v < lo || v > maxCount {
			return fmt.Errorf("%w: %s is %d, want %d..%d", ErrInvalidSettings, key, v, lo, maxCount)
		}
		return nil
	}
	rate := func(key string, v float64) error {
		if !(v >= 0 && v <= 1) { // also rejects NaN
			return fmt.Errorf("%w: %s is %v, want a rate in [0, 1]", ErrInvalidSettings, key, v)
		}
		return nil
	}
	timeout := func(key string, v time.Duration) error {
		if v <= 0 {
			return fmt.Errorf("%w: %s is %v, want a positive duration", ErrInvalidSettings, key, v)
		}
		return nil
	}
	for _, err := range []error{
		count("probe_num", s.ProbeNum, 1),
		count("init_succ_cnt", s.InitSuccCnt, 0),
		count("init_err_cnt", s.InitErrCnt, 0),
		rate("err_rate", s.ErrRate),
		rate("succ_rate", s.SuccRate),
		count("contin_err_limit", s.ContinErrLimit, 1),
		count("contin_succ_limit", s.ContinSuccLimit, 1),
		rate("window_err_rate", s.WindowErrRate),
		timeout("idle_timeout", s.IdleTimeout),
		timeout("overload_timeout", s.OverloadTimeout),
		timeout("update_timeout", s.UpdateTimeout),
		timeout("pull_timeout", s.PullTimeout),
		timeout("report_interval", s.ReportInterval),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

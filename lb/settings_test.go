package lb

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestSettingsValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Settings)
		want string // substring of the error; "" for valid
	}{
		{"defaults", func(*Settings) {}, ""},
		{"rates at bounds", func(s *Settings) { s.ErrRate, s.SuccRate, s.WindowErrRate = 0, 1, 1 }, ""},
		{"zero init counts", func(s *Settings) { s.InitSuccCnt, s.InitErrCnt = 0, 0 }, ""},
		{"probe_num zero", func(s *Settings) { s.ProbeNum = 0 }, "probe_num"},
		{"probe_num negative", func(s *Settings) { s.ProbeNum = -1 }, "probe_num"},
		{"init_succ_cnt negative", func(s *Settings) { s.InitSuccCnt = -1 }, "init_succ_cnt"},
		{"init_err_cnt negative", func(s *Settings) { s.InitErrCnt = -5 }, "init_err_cnt"},
		{"init_succ_cnt too large", func(s *Settings) { s.InitSuccCnt = math.MaxInt32 + 1 }, "init_succ_cnt"},
		{"err_rate above one", func(s *Settings) { s.ErrRate = 1.5 }, "err_rate"},
		{"err_rate negative", func(s *Settings) { s.ErrRate = -0.1 }, "err_rate"},
		{"err_rate NaN", func(s *Settings) { s.ErrRate = math.NaN() }, "err_rate"},
		{"succ_rate above one", func(s *Settings) { s.SuccRate = 2 }, "succ_rate"},
		{"window_err_rate negative", func(s *Settings) { s.WindowErrRate = -1 }, "window_err_rate"},
		{"contin_err_limit zero", func(s *Settings) { s.ContinErrLimit = 0 }, "contin_err_limit"},
		{"contin_succ_limit negative", func(s *Settings) { s.ContinSuccLimit = -3 }, "contin_succ_limit"},
		{"idle_timeout zero", func(s *Settings) { s.IdleTimeout = 0 }, "idle_timeout"},
		{"overload_timeout negative", func(s *Settings) { s.OverloadTimeout = -time.Second }, "overload_timeout"},
		{"update_timeout zero", func(s *Settings) { s.UpdateTimeout = 0 }, "update_timeout"},
		{"pull_timeout zero", func(s *Settings) { s.PullTimeout = 0 }, "pull_timeout"},
		{"report_interval zero", func(s *Settings) { s.ReportInterval = 0 }, "report_interval"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := DefaultSettings()
			c.mod(&s)
			err := s.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error naming %s, got nil", c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrInvalidSettings) {
				t.Fatalf("error %q: want it to name %s and wrap ErrInvalidSettings", err, c.want)
			}
			if msg := strings.ReplaceAll(err.Error(), "NaN", ""); strings.ToLower(msg) != msg {
				t.Fatalf("error %q is not lowercase", msg)
			}
		})
	}
}

func TestDefaultSettingsValues(t *testing.T) {
	s := DefaultSettings()
	want := Settings{10, 180, 5, 0.1, 0.5, 15, 15, 0.7, 15 * time.Second, 15 * time.Second, 15 * time.Second, time.Second, time.Second}
	if s != want {
		t.Fatalf("DefaultSettings() = %+v, want %+v", s, want)
	}
	if got := NewTable(Config{}).Settings(); got != want {
		t.Fatalf("zero Config settings = %+v, want %+v", got, want)
	}
}

func TestNewTableInvalidSettingsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewTable with invalid settings did not panic")
		}
	}()
	s := DefaultSettings()
	s.ErrRate = 2
	NewTable(Config{Settings: s})
}

func TestKeyPacking(t *testing.T) {
	for _, k := range []Key{{Modid: 0, Cmdid: 0}, {Modid: 1, Cmdid: 2}, {Modid: -1, Cmdid: 7}, {Modid: math.MaxInt32, Cmdid: math.MinInt32}} {
		m, c := UnpackKey(PackKey(k.Modid, k.Cmdid))
		if m != k.Modid || c != k.Cmdid || k.Pack() != PackKey(k.Modid, k.Cmdid) {
			t.Errorf("round trip of %v gave %d/%d", k, m, c)
		}
	}
	if got := (wireHost(2130706433, 80)).String(); got != "127.0.0.1:80" {
		t.Errorf("Host.String() = %q", got)
	}
	if got := (wireHost(-1062731775, 8080)).String(); got != "192.168.0.1:8080" {
		t.Errorf("Host.String() negative ip = %q", got)
	}
}

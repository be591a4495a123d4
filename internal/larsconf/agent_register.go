package larsconf

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"
)

// SectionRegister is the agent conf's [register] section (ours; Lars has none): the
// instances the agent registers itself, for processes that cannot link the client.
const SectionRegister = "register"

// Registration is one "instance" line of [register]:
//
//	instance = MODID CMDID IP PORT [ttl=DURATION] [check=tcp|check=http://URL] [interval=DURATION]
//
// Options may come in any order, each at most once; a duration is a Go duration
// ("10s", "500ms") or whole seconds. IP is an IPv4 address. The ranges of ttl,
// check and interval are the agent's to check (agent.Registration).
type Registration struct {
	Modid, Cmdid int32
	IP           netip.Addr
	Port         int           // 1..65535
	TTL          time.Duration // ttl=; 0 when absent (the agent's default)
	Check        string        // check=; "" when absent
	Interval     time.Duration // interval=; 0 when absent (the agent's default)
}

// String returns the line's value as ParseRegistration reads it.
func (r Registration) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d %s %d", r.Modid, r.Cmdid, r.IP, r.Port)
	if r.TTL != 0 {
		fmt.Fprintf(&b, " ttl=%s", r.TTL)
	}
	if r.Check != "" {
		fmt.Fprintf(&b, " check=%s", r.Check)
	}
	if r.Interval != 0 {
		fmt.Fprintf(&b, " interval=%s", r.Interval)
	}
	return b.String()
}

// maxRegisterLine bounds one instance line.
const maxRegisterLine = 1024

// ParseRegistration reads the value of one instance line (see Registration).
func ParseRegistration(line string) (Registration, error) {
	var r Registration
	if len(line) > maxRegisterLine {
		return r, fmt.Errorf("line of %d bytes, over %d", len(line), maxRegisterLine)
	}
	f := strings.Fields(line)
	if len(f) < 4 {
		return r, errors.New("want MODID CMDID IP PORT [ttl=D] [check=tcp|check=http://URL] [interval=D]")
	}
	modid, err := strconv.ParseInt(f[0], 10, 32)
	if err != nil {
		return r, fmt.Errorf("modid %q is not a 32-bit integer", f[0])
	}
	cmdid, err := strconv.ParseInt(f[1], 10, 32)
	if err != nil {
		return r, fmt.Errorf("cmdid %q is not a 32-bit integer", f[1])
	}
	r.Modid, r.Cmdid = int32(modid), int32(cmdid)
	if r.IP, err = netip.ParseAddr(f[2]); err != nil || !r.IP.Is4() {
		return r, fmt.Errorf("ip %q is not an IPv4 address", f[2])
	}
	if r.Port, err = strconv.Atoi(f[3]); err != nil || r.Port < 1 || r.Port > 65535 {
		return r, fmt.Errorf("port %q is not in 1..65535", f[3])
	}
	seen := map[string]bool{}
	for _, opt := range f[4:] {
		name, v, ok := strings.Cut(opt, "=")
		if !ok || v == "" {
			return r, fmt.Errorf("option %q: want name=value", opt)
		}
		if seen[name] {
			return r, fmt.Errorf("option %s given twice", name)
		}
		seen[name] = true
		switch name {
		case "ttl":
			r.TTL, err = positiveDuration(v)
		case "interval":
			r.Interval, err = positiveDuration(v)
		case "check":
			r.Check = v
		default:
			return r, fmt.Errorf("unknown option %q: want ttl, check or interval", name)
		}
		if err != nil {
			return r, fmt.Errorf("option %s: %w", name, err)
		}
	}
	return r, nil
}

// positiveDuration parses a duration of more than 0: a Go duration or whole seconds.
func positiveDuration(v string) (time.Duration, error) {
	d, err := seconds(v)
	if err == nil && d <= 0 {
		err = fmt.Errorf("%q is not more than 0", v)
	}
	return d, err
}

// applyRegister reads [register] of data into cfg: its instance lines (the key may
// repeat), allow_remote and max_registrations. An absent section leaves cfg as it
// is. A '#' or ';' starts a comment only after a space, so that a check's URL may
// hold them.
func applyRegister(data []byte, cfg *AgentSettings) error {
	f, err := ini.LoadSources(ini.LoadOptions{AllowShadows: true, SpaceBeforeInlineComment: true}, data)
	if err != nil {
		return err
	}
	sec, err := f.GetSection(SectionRegister)
	if err != nil {
		return nil // no [register]
	}
	var regs []Registration
	for _, k := range sec.Keys() {
		switch k.Name() {
		case "instance":
			for i, v := range k.ValueWithShadows() {
				r, err := ParseRegistration(strings.TrimSpace(v))
				if err != nil {
					return fmt.Errorf("[register] instance %d %q: %w", i+1, v, err)
				}
				regs = append(regs, r)
			}
		case "allow_remote":
			if cfg.AllowRemoteRegister, err = strconv.ParseBool(strings.TrimSpace(k.Value())); err != nil {
				return fmt.Errorf("[register] allow_remote %q: want true or false", k.Value())
			}
		case "max_registrations":
			if cfg.MaxRegistrations, err = positive(strings.TrimSpace(k.Value())); err != nil {
				return fmt.Errorf("[register] max_registrations %q: %w", k.Value(), err)
			}
		default:
			return fmt.Errorf("[register]: unknown key %q: want instance, allow_remote or max_registrations", k.Name())
		}
	}
	cfg.Registrations = regs
	return nil
}

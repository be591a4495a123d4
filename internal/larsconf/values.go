package larsconf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/ini.v1"
)

// fill reads the known sections and keys of f into c, checking each value.
func (c *Conf) fill(f *ini.File) error {
	if sec, err := f.GetSection(SectionReactor); err == nil {
		r := &c.Reactor
		r.Present = true
		r.IP = c.text(sec, "ip")
		if r.IP != "" {
			if _, err := netip.ParseAddr(r.IP); err != nil {
				return valueError(sec, "ip", r.IP, "not an IP address")
			}
		}
		var err error
		if r.Port, err = c.port(sec, "port"); err != nil {
			return err
		}
		if r.MaxConn, err = c.number(sec, "maxConn", 1); err != nil {
			return err
		}
		if r.ThreadNum, err = c.number(sec, "threadNum", 0); err != nil {
			return err
		}
	}
	if sec, err := f.GetSection(SectionMySQL); err == nil {
		m := &c.MySQL
		m.Present = true
		m.Host = c.text(sec, "db_host")
		if m.Host != "" && !validHost(m.Host) {
			return valueError(sec, "db_host", m.Host, "not an IP address or host name")
		}
		var err error
		if m.Port, err = c.port(sec, "db_port"); err != nil {
			return err
		}
		m.User = c.text(sec, "db_user")
		if strings.Contains(m.User, ":") {
			return valueError(sec, "db_user", m.User, "a user name cannot contain ':' in a MySQL DSN")
		}
		m.Password = c.text(sec, "db_passwd")
		m.Name = c.text(sec, "db_name")
	}
	if sec, err := f.GetSection(SectionReporter); err == nil {
		c.Reporter.Present = true
		var err error
		if c.Reporter.DBThreadCnt, err = c.number(sec, "db_thread_cnt", 1); err != nil {
			return err
		}
	}
	if sec, err := f.GetSection(SectionTLS); err == nil {
		c.TLS = TLS{Present: true, Cert: c.text(sec, "cert"), Key: c.text(sec, "key"), CA: c.text(sec, "ca")}
	}
	return nil
}

// text returns a string key's value, "" when absent or empty; a non-empty value
// is recorded as present.
func (c *Conf) text(sec *ini.Section, key string) string {
	k, err := sec.GetKey(key)
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(k.Value())
	if v != "" {
		c.keys[sec.Name()+"."+key] = true
	}
	return v
}

// number returns an integer key's value, 0 when absent; a present value must be a
// 32-bit integer no less than least.
func (c *Conf) number(sec *ini.Section, key string, least int) (int, error) {
	k, err := sec.GetKey(key)
	if err != nil {
		return 0, nil
	}
	v := strings.TrimSpace(k.Value())
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, valueError(sec, key, v, "not a 32-bit integer")
	}
	if n < int64(least) {
		return 0, valueError(sec, key, v, fmt.Sprintf("must be at least %d", least))
	}
	c.keys[sec.Name()+"."+key] = true
	return int(n), nil
}

// port returns a port key's value, 0 when absent; a present value must be in
// 1..65535.
func (c *Conf) port(sec *ini.Section, key string) (int, error) {
	k, err := sec.GetKey(key)
	if err != nil {
		return 0, nil
	}
	v := strings.TrimSpace(k.Value())
	p, err := strconv.ParseUint(v, 10, 16)
	if err != nil || p == 0 {
		return 0, valueError(sec, key, v, "not a port number (1..65535)")
	}
	c.keys[sec.Name()+"."+key] = true
	return int(p), nil
}

// valueError names the section, key and bad value. It is never called for
// db_passwd, but a value spanning lines (an unterminated `quote) may have swallowed
// the password's line, so such a value, or a long one, is not quoted.
func valueError(sec *ini.Section, key, value, reason string) error {
	if len(value) > maxQuotedValue || strings.ContainsAny(value, "\n\r") {
		return fmt.Errorf("[%s] %s: %s", sec.Name(), key, reason)
	}
	return fmt.Errorf("[%s] %s = %q: %s", sec.Name(), key, value, reason)
}

// maxQuotedValue is the longest bad value an error quotes.
const maxQuotedValue = 64

// validHost reports whether s is an IP address or a DNS host name: letters, digits,
// '-', '_' and dots, at most 253 bytes. Anything else could not be written into a
// DSN's "tcp(host:port)" and read back.
func validHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return !strings.ContainsAny(s, "()/") // a zone could hold them
	}
	if len(s) > 253 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

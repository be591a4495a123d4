package larsconf

import (
	"net"
	"strconv"

	"github.com/go-sql-driver/mysql"
)

// Defaults for [mysql] keys the file leaves out.
const (
	DefaultDBHost = "127.0.0.1"
	DefaultDBPort = 3306
	DefaultDBUser = "root"
	DefaultDBName = "lars_dns" // the database Lars's SQL scripts create
)

// DefaultListenIP is the [reactor] ip when the file gives none: loopback, because
// the Lars protocol has no authentication.
const DefaultListenIP = "127.0.0.1"

// DSN returns the go-sql-driver/mysql DSN of the [mysql] section,
// "user:password@tcp(host:port)/name", with DefaultDBHost, DefaultDBPort,
// DefaultDBUser and DefaultDBName for the keys left out. ok is false when the file
// has no [mysql] section. The DSN holds the password: pass it to store.Redact before
// showing it.
func (c *Conf) DSN() (dsn string, ok bool) {
	m := c.MySQL
	if !m.Present {
		return "", false
	}
	cfg := mysql.NewConfig()
	cfg.User = or(m.User, DefaultDBUser)
	cfg.Passwd = m.Password
	cfg.Net = "tcp"
	port := m.Port
	if port == 0 {
		port = DefaultDBPort
	}
	cfg.Addr = net.JoinHostPort(or(m.Host, DefaultDBHost), strconv.Itoa(port))
	cfg.DBName = or(m.Name, DefaultDBName)
	return cfg.FormatDSN(), true
}

// ListenAddr returns "ip:port" from [reactor], with DefaultListenIP when ip is left
// out. ok is false when the file has no [reactor] port.
func (c *Conf) ListenAddr() (addr string, ok bool) {
	if c.Reactor.Port == 0 {
		return "", false
	}
	return net.JoinHostPort(or(c.Reactor.IP, DefaultListenIP), strconv.Itoa(c.Reactor.Port)), true
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

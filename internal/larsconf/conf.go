// Package larsconf reads Lars's conf files: the control plane's, lars_dns.conf and
// lars_reporter.conf ([reactor], [mysql] and [repoter], and our [tls]; see Parse), and
// the agent's ([reporter], [dnsserver], [loadbalance], and our [tls] and [register];
// see ParseAgent).
package larsconf

import (
	"fmt"
	"os"

	"gopkg.in/ini.v1"
)

// Conf is a parsed Lars conf file. A section or key the file does not have leaves its
// fields at their zero value; Present and Has say what the file had.
type Conf struct {
	// Name is the file name that errors and messages use.
	Name     string
	Reactor  Reactor
	MySQL    MySQL
	Reporter Reporter
	TLS      TLS

	keys map[string]bool // "section.key" of every known key present
}

// Reactor is the [reactor] section: where a service listens.
type Reactor struct {
	Present bool   // the file has a [reactor] section
	IP      string // ip: the listen address, an IPv4 or IPv6 address; "" when absent
	Port    int    // port, 1..65535; 0 when absent
	// MaxConn is maxConn, the most connections the service accepts, at least 1;
	// 0 when absent.
	MaxConn int
	// ThreadNum is threadNum, the number of I/O threads; 0 when absent, and in Lars
	// 0 means "no thread pool" (use Has to tell the two apart).
	ThreadNum int
}

// MySQL is the [mysql] section: the route store.
type MySQL struct {
	Present bool   // the file has a [mysql] section
	Host    string // db_host: an IP address or host name; "" when absent
	Port    int    // db_port, 1..65535; 0 when absent
	User    string // db_user; "" when absent
	// Password is db_passwd, taken as written. It never appears in an error.
	Password string
	Name     string // db_name: the database; "" when absent
}

// Reporter is the [repoter] section (Lars's spelling) of lars_reporter.conf.
type Reporter struct {
	Present bool // the file has a [repoter] section
	// DBThreadCnt is db_thread_cnt, the number of database writers, at least 1; 0
	// when absent.
	DBThreadCnt int
}

// TLS is the [tls] section, ours (Lars has none): the PEM files of the service's TLS
// end, as -tls-cert, -tls-key and -tls-ca name them. A relative path is taken from the
// directory the service runs in, as the flags' are.
type TLS struct {
	Present bool   // the file has a [tls] section
	Cert    string // cert: the service's certificate; "" when absent
	Key     string // key: its private key; "" when absent
	CA      string // ca: the CA every client's certificate must be signed by; "" when absent
}

// Section names as Lars spells them.
const (
	SectionReactor  = "reactor"
	SectionMySQL    = "mysql"
	SectionReporter = "repoter"
	// SectionTLS is ours: Lars has no TLS.
	SectionTLS = "tls"
)

// Has reports whether the file set key in section, for example Has("reactor",
// "threadNum"). Only the keys this package knows are recorded.
func (c *Conf) Has(section, key string) bool { return c.keys[section+"."+key] }

// Load reads and parses the conf file at path (see Parse).
func Load(path string) (*Conf, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read lars conf: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a Lars conf file's content; name is used in errors. Lines are
// "[section]", "key = value" (or "key: value") and comments starting with '#' or
// ';'. As in Lars, a value is taken literally to the end of its line, spaces around
// it removed: no inline comments, no continuation lines, quotes kept (except that a
// value starting with a backquote or three double quotes is read as an INI quoted
// string). Unknown sections and keys are ignored. The first bad line or value gives
// an error naming the file, the line or the section and key; the db_passwd value
// never appears in it.
func Parse(data []byte, name string) (*Conf, error) {
	if err := checkLines(data); err != nil {
		return nil, fmt.Errorf("lars conf %s: %w", name, err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{
		IgnoreInlineComment:     true,
		IgnoreContinuation:      true,
		PreserveSurroundedQuote: true,
	}, data)
	if err != nil {
		// ini's messages quote the offending line, which may hold the password.
		return nil, fmt.Errorf("lars conf %s: unterminated quoted value", name)
	}
	c := &Conf{Name: name, keys: map[string]bool{}}
	if err := c.fill(f); err != nil {
		return nil, fmt.Errorf("lars conf %s: %w", name, err)
	}
	return c, nil
}

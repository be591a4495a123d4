package main

import (
	"flag"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/larsgo/lars/internal/tlsgen"
)

// tlsCertGroup is "tls cert"; its synopsis is its one subcommand's, so that larsctl -h
// lists that with its flags.
var tlsCertGroup = &command{
	name:        "tls cert",
	args:        "create " + tlsCertCreateCmd.args,
	summary:     tlsCertCreateCmd.summary,
	flags:       tlsCertCreateCmd.flags,
	subcommands: []*command{tlsCertCreateCmd},
}

// certOptions are tls cert create's flags.
type certOptions struct {
	caDir, dir, name               string
	server, console, agent, client bool
	dns                            []string
	ips                            []netip.Addr
	loopback, force                bool
	days                           int
}

var tlsCertCreateCmd = &command{
	name: "tls cert create",
	args: "-server|-console|-agent|-client -name NAME [-dns A,B] [-ip A,B] [-ca-dir D] [-dir D] [-days N] [-force]",
	summary: "make a certificate signed by the CA in -ca-dir, for the holder called NAME (its identity):\n" +
		"ROLE-NAME.pem and ROLE-NAME-key.pem in -dir, mode 0600; an existing file is kept unless -force.\n" +
		"A -server (lars-dns, lars-reporter) or -console certificate proves a service to its clients and\n" +
		"names the DNS names and IPs they reach it by (loopback unless -loopback=false); an -agent or\n" +
		"-client certificate proves its holder to the services",
	flags: func(fs *flag.FlagSet) any {
		o := &certOptions{}
		fs.StringVar(&o.caDir, "ca-dir", ".", "directory `D` of the CA ("+tlsgen.CACertFile+", "+tlsgen.CAKeyFile+")")
		fs.StringVar(&o.dir, "dir", ".", "write the files in directory `D` (created 0700 if missing)")
		fs.StringVar(&o.name, "name", "", "the holder's name `NAME`, its identity: letters, digits, '.', '-', '_' (required)")
		fs.BoolVar(&o.server, "server", false, "a certificate for lars-dns or lars-reporter (server authentication)")
		fs.BoolVar(&o.console, "console", false, "a certificate for lars-console serving HTTPS (server authentication)")
		fs.BoolVar(&o.agent, "agent", false, "a certificate for lars-agent (client authentication)")
		fs.BoolVar(&o.client, "client", false, "a certificate for another client: larsctl, a script (client authentication)")
		fs.Func("dns", "DNS names `A,B`, comma-separated, the holder is reached by (repeatable)", func(s string) error {
			for d := range strings.SplitSeq(s, ",") {
				if err := tlsgen.CheckDNSName(strings.TrimSpace(d)); err != nil {
					return err
				}
				o.dns = append(o.dns, strings.TrimSpace(d))
			}
			return nil
		})
		fs.Func("ip", "IP addresses `A,B`, comma-separated, the holder is reached at (repeatable)", func(s string) error {
			for a := range strings.SplitSeq(s, ",") {
				ip, err := netip.ParseAddr(strings.TrimSpace(a))
				if err != nil || ip.Zone() != "" {
					return fmt.Errorf("%q is not an IP address", a)
				}
				o.ips = append(o.ips, ip.Unmap())
			}
			return nil
		})
		fs.BoolVar(&o.loopback, "loopback", true, "give a -server or -console certificate the names localhost, 127.0.0.1 and ::1 too")
		fs.IntVar(&o.days, "days", tlsgen.DefaultCertDays, "`N` days of validity (within the CA's)")
		fs.BoolVar(&o.force, "force", false, "overwrite existing files")
		return o
	},
	run: func(e *env, opts any, args []string) error {
		o := opts.(*certOptions)
		if err := wantArgs(args, 0); err != nil {
			return err
		}
		req, err := o.request()
		if err != nil {
			return err
		}
		ca, err := tlsgen.LoadCA(o.caDir)
		if err != nil {
			return fmt.Errorf("%w (larsctl tls ca create makes one)", err)
		}
		pair, err := ca.Issue(req, time.Now())
		if err != nil {
			return err
		}
		cf, kf := tlsgen.CertFiles(req.Role, req.Name)
		cert, key := filepath.Join(o.dir, cf), filepath.Join(o.dir, kf)
		if err := tlsgen.WritePair(pair, cert, key, o.force); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s: %s certificate of %q%s, valid until %s\n", cert, req.Role, req.Name, sanNote(pair), validUntil(pair))
		fmt.Fprintf(e.stdout, "wrote %s: its private key\n", key)
		return nil
	},
}

// request checks the flags and returns the certificate they ask for.
func (o *certOptions) request() (tlsgen.Request, error) {
	var roles []tlsgen.Role
	for r, set := range map[tlsgen.Role]bool{tlsgen.RoleServer: o.server, tlsgen.RoleConsole: o.console, tlsgen.RoleAgent: o.agent, tlsgen.RoleClient: o.client} {
		if set {
			roles = append(roles, r)
		}
	}
	if len(roles) != 1 {
		return tlsgen.Request{}, usagef("want exactly one of -server, -console, -agent and -client")
	}
	if o.name == "" {
		return tlsgen.Request{}, usagef("-name is required: the holder's identity")
	}
	if err := tlsgen.CheckName(o.name); err != nil {
		return tlsgen.Request{}, usagef("-name: %v", err)
	}
	if err := checkDaysFlag(o.days); err != nil {
		return tlsgen.Request{}, err
	}
	req := tlsgen.Request{Role: roles[0], Name: o.name, DNSNames: o.dns, IPs: o.ips, Days: o.days}
	if req.Role.Serves() && o.loopback {
		dns, ips := tlsgen.Loopback()
		req.DNSNames = appendNew(req.DNSNames, dns...)
		req.IPs = appendNew(req.IPs, ips...)
	}
	if req.Role.Serves() && len(req.DNSNames) == 0 && len(req.IPs) == 0 {
		return tlsgen.Request{}, usagef("a -%s certificate needs -dns or -ip (or -loopback)", req.Role)
	}
	return req, nil
}

// appendNew appends to s each of vs it does not hold yet.
func appendNew[T comparable](s []T, vs ...T) []T {
	for _, v := range vs {
		if !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	return s
}

// sanNote returns " (DNS a, b; IP c)" listing the certificate's names, "" if none.
func sanNote(pair tlsgen.Pair) string {
	var parts []string
	if len(pair.Cert.DNSNames) > 0 {
		parts = append(parts, "DNS "+strings.Join(pair.Cert.DNSNames, ", "))
	}
	if len(pair.Cert.IPAddresses) > 0 {
		ips := make([]string, len(pair.Cert.IPAddresses))
		for i, ip := range pair.Cert.IPAddresses {
			ips[i] = ip.String()
		}
		parts = append(parts, "IP "+strings.Join(ips, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

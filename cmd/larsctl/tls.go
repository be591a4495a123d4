package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/larsgo/lars/internal/tlsgen"
)

// tlsCmd makes the certificates of a site: a CA, then one certificate per server,
// console, agent or client, as consul tls does.
var tlsCmd = &command{
	name:        "tls",
	subcommands: []*command{tlsCAGroup, tlsCertGroup},
}

// tlsCAGroup is "tls ca"; its synopsis is its one subcommand's, so that larsctl -h
// lists that with its flags.
var tlsCAGroup = &command{
	name:        "tls ca",
	args:        "create " + tlsCACreateCmd.args,
	summary:     tlsCACreateCmd.summary,
	flags:       tlsCACreateCmd.flags,
	subcommands: []*command{tlsCACreateCmd},
}

// caOptions are tls ca create's flags.
type caOptions struct {
	dir, name string
	days      int
	force     bool
}

var tlsCACreateCmd = &command{
	name: "tls ca create",
	args: "[-dir D] [-name N] [-days N] [-force]",
	summary: "make a site CA: D/" + tlsgen.CACertFile + " (its certificate, for every server, console and agent\n" +
		"to trust) and D/" + tlsgen.CAKeyFile + " (its key, which signs the site's certificates: keep it\n" +
		"away from the servers), both mode 0600; an existing file is kept unless -force",
	flags: func(fs *flag.FlagSet) any {
		o := &caOptions{}
		fs.StringVar(&o.dir, "dir", ".", "write the files in directory `D` (created 0700 if missing)")
		fs.StringVar(&o.name, "name", tlsgen.DefaultCAName, "the CA's name `N` (subject common name)")
		fs.IntVar(&o.days, "days", tlsgen.DefaultCADays, "`N` days of validity")
		fs.BoolVar(&o.force, "force", false, "overwrite existing files (every certificate the old CA signed stops being trusted)")
		return o
	},
	run: func(e *env, opts any, args []string) error {
		o := opts.(*caOptions)
		if err := wantArgs(args, 0); err != nil {
			return err
		}
		if err := tlsgen.CheckCAName(o.name); err != nil {
			return usagef("-name: %v", err)
		}
		if err := checkDaysFlag(o.days); err != nil {
			return err
		}
		_, pair, err := tlsgen.NewCA(o.name, o.days, time.Now())
		if err != nil {
			return err
		}
		cert, key := filepath.Join(o.dir, tlsgen.CACertFile), filepath.Join(o.dir, tlsgen.CAKeyFile)
		if err := tlsgen.WritePair(pair, cert, key, o.force); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s: CA %q, valid until %s\n", cert, o.name, validUntil(pair))
		fmt.Fprintf(e.stdout, "wrote %s: its private key; keep it secret, it signs the site's certificates\n", key)
		return nil
	},
}

// checkDaysFlag checks a -days value.
func checkDaysFlag(days int) error {
	if days < 1 || days > tlsgen.MaxDays {
		return usagef("-days %d: want 1 to %d", days, tlsgen.MaxDays)
	}
	return nil
}

// validUntil returns the day and time in UTC when pair's certificate expires.
func validUntil(pair tlsgen.Pair) string {
	return pair.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST")
}

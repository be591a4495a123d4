package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/larsgo/lars/console"
	"github.com/larsgo/lars/store"
)

// userCmd manages the accounts of lars-console in the route store.
var userCmd = &command{
	name:        "user",
	subcommands: []*command{userListCmd, userAddCmd, userDelCmd, userPasswdCmd},
}

// withAccounts opens the route store, makes the accounts' tables if missing and runs
// fn.
func (e *env) withAccounts(fn func(ctx context.Context, db *store.DB) error) error {
	return e.withStore(func(ctx context.Context, db *store.DB) error {
		if err := db.EnsureAccounts(ctx); err != nil {
			return err
		}
		return fn(ctx, db)
	})
}

// userAddOptions are user add's flags.
type userAddOptions struct {
	role string
}

var userAddCmd = &command{
	name: "user add",
	args: "NAME [-role viewer|editor|admin]",
	summary: "add an account of lars-console; its password is read from stdin (first line) or,\n" +
		"on a terminal, asked for twice without echo (never a flag: it would show in the process list)",
	flags: func(fs *flag.FlagSet) any {
		o := &userAddOptions{}
		fs.StringVar(&o.role, "role", string(store.RoleViewer), "the account's `role`: viewer (reads), editor (and changes routes), admin (and manages accounts)")
		return o
	},
	run: func(e *env, opts any, args []string) error {
		o := opts.(*userAddOptions)
		if err := wantArgs(args, 1); err != nil {
			return err
		}
		role, err := store.ParseRole(o.role)
		if err != nil {
			return usagef("-role: %v", err)
		}
		if err := store.CheckAccountName(args[0]); err != nil {
			return usagef("NAME: %v", err)
		}
		hash, err := e.newPasswordHash()
		if err != nil {
			return err
		}
		return e.withAccounts(func(ctx context.Context, db *store.DB) error {
			if err := db.AddAccount(ctx, store.Account{Name: args[0], Role: role, Hash: hash}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "added %s (%s)\n", args[0], role)
			return nil
		})
	},
}

var userDelCmd = &command{
	name:    "user del",
	args:    "NAME",
	summary: "delete an account of lars-console and end its sessions",
	run: func(e *env, _ any, args []string) error {
		if err := wantArgs(args, 1); err != nil {
			return err
		}
		return e.withAccounts(func(ctx context.Context, db *store.DB) error {
			if err := db.DeleteAccount(ctx, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted %s\n", args[0])
			return nil
		})
	},
}

var userPasswdCmd = &command{
	name:    "user passwd",
	args:    "NAME",
	summary: "set an account's password (read as user add reads it) and end its sessions",
	run: func(e *env, _ any, args []string) error {
		if err := wantArgs(args, 1); err != nil {
			return err
		}
		hash, err := e.newPasswordHash()
		if err != nil {
			return err
		}
		return e.withAccounts(func(ctx context.Context, db *store.DB) error {
			if err := db.SetPassword(ctx, args[0], hash); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "set the password of %s; its sessions ended\n", args[0])
			return nil
		})
	},
}

var userListCmd = &command{
	name:    "user list",
	args:    "",
	summary: "list the accounts of lars-console: name, role, when added, when last changed",
	run: func(e *env, _ any, args []string) error {
		if err := wantArgs(args, 0); err != nil {
			return err
		}
		return e.withAccounts(func(ctx context.Context, db *store.DB) error {
			accounts, err := db.Accounts(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tROLE\tADDED\tCHANGED")
			for _, a := range accounts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.Role, a.Created.UTC().Format("2006-01-02 15:04"), a.Changed.UTC().Format("2006-01-02 15:04"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%d accounts\n", len(accounts))
			return nil
		})
	},
}

// newPasswordHash reads a new password (see readPassword) and returns its hash.
func (e *env) newPasswordHash() (string, error) {
	pw, err := e.readPassword()
	if err != nil {
		return "", err
	}
	hash, err := console.HashPassword(pw, 0)
	if err != nil {
		return "", usagef("%v", err)
	}
	return hash, nil
}

// errPasswordsDiffer is a terminal's two entries that differ.
var errPasswordsDiffer = errors.New("the two passwords differ")

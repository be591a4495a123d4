package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/larsgo/lars/store"
)

// accountsBody is the accounts page's data.
type accountsBody struct {
	Accounts []store.Account
	Roles    []store.Role
	Self     string
	// Form refills the add form after an error.
	Form struct{ Name, Role string }
}

// adminOnly wraps an accounts handler: it reads the form and refuses an identity that
// is not an admin with 403, counted.
func (s *Server) adminOnly(h func(w http.ResponseWriter, r *http.Request, id identity)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if err := r.ParseForm(); err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "The form cannot be read: "+err.Error())
			return
		}
		id, ok := identityOf(r)
		if !ok || id.role != store.RoleAdmin {
			s.metrics.denied[deniedRole].Inc()
			s.log.Warn("the accounts refused: not an admin", "account", id.name, "client", clientText(r))
			s.errorPage(w, r, http.StatusForbidden, "Only an admin manages the accounts.")
			return
		}
		h(w, r, id)
	}
}

// accountsPage lists the accounts with forms to add, change and delete them.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request, id identity) {
	s.renderAccounts(w, r, http.StatusOK, id, "", nil)
}

// renderAccounts renders the accounts page with status and an error message.
func (s *Server) renderAccounts(w http.ResponseWriter, r *http.Request, status int, id identity, msg string, form func(*accountsBody)) {
	accounts, err := s.db.Accounts(r.Context())
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	b := accountsBody{Accounts: accounts, Roles: store.Roles, Self: id.name}
	b.Form.Role = string(store.RoleViewer)
	if form != nil {
		form(&b)
	}
	s.render(w, r, status, "accounts", page{Title: "Accounts", Nav: "accounts", Flash: accountsFlash(r.URL.Query()), Error: msg, Body: b})
}

// accountsFlash says what the last change of the accounts did.
func accountsFlash(q url.Values) string {
	name := q.Get("name")
	switch q.Get("done") {
	case "added":
		return "Added " + name + "."
	case "passwd":
		return "Set the password of " + name + "; its sessions ended."
	case "role":
		return "Set the role of " + name + "; its sessions ended."
	case "deleted":
		return "Deleted " + name + "."
	}
	return ""
}

// addAccount adds an account.
func (s *Server) addAccount(w http.ResponseWriter, r *http.Request, id identity) {
	name, roleText, pw := r.PostFormValue("name"), r.PostFormValue("role"), r.PostFormValue("password")
	refill := func(b *accountsBody) { b.Form.Name, b.Form.Role = name, roleText }
	role, err := store.ParseRole(roleText)
	if err == nil {
		err = store.CheckAccountName(name)
	}
	var hash string
	if err == nil {
		hash, err = HashPassword(pw, s.hashCost)
	}
	if err == nil {
		err = s.db.AddAccount(r.Context(), store.Account{Name: name, Role: role, Hash: hash})
		if err != nil && !errors.Is(err, store.ErrAccountExists) {
			s.storeError(w, r, err)
			return
		}
		if err != nil {
			err = errors.New("an account named " + name + " exists")
		}
	}
	if err != nil {
		s.renderAccounts(w, r, http.StatusBadRequest, id, "The account was not added: "+err.Error()+".", refill)
		return
	}
	s.log.Info("account added", "account", name, "role", string(role), "by", id.name)
	redirect(w, r, "/accounts", url.Values{"done": {"added"}, "name": {name}})
}

// changeAccount sets an account's password or role, or deletes it; an admin may not
// demote or delete their own account (so that one admin is always left).
func (s *Server) changeAccount(w http.ResponseWriter, r *http.Request, id identity) {
	name, op := r.PostFormValue("name"), r.PostFormValue("op")
	err := s.applyAccountChange(r, id, name, op)
	var ie inputError
	switch {
	case errors.As(err, &ie):
		s.renderAccounts(w, r, http.StatusBadRequest, id, "Nothing changed: "+ie.msg+".", nil)
		return
	case err != nil:
		s.storeError(w, r, err)
		return
	}
	s.log.Info("account changed", "account", name, "change", op, "by", id.name)
	if name == id.name && op == "passwd" { // the admin's own sessions ended too
		clearSessionCookie(w, r)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if op == "delete" {
		op = "deleted"
	}
	redirect(w, r, "/accounts", url.Values{"done": {op}, "name": {name}})
}

// applyAccountChange makes the change op of the account name; a refused change is an
// inputError.
func (s *Server) applyAccountChange(r *http.Request, id identity, name, op string) error {
	if (op == "role" || op == "delete") && name == id.name {
		return inputErrorf("an admin may not demote or delete their own account")
	}
	var err error
	switch op {
	case "passwd":
		hash, herr := HashPassword(r.PostFormValue("password"), s.hashCost)
		if herr != nil {
			return inputErrorf("%v", herr)
		}
		err = s.db.SetPassword(r.Context(), name, hash)
	case "role":
		role, rerr := store.ParseRole(r.PostFormValue("role"))
		if rerr != nil {
			return inputErrorf("%v", rerr)
		}
		err = s.db.SetRole(r.Context(), name, role)
	case "delete":
		err = s.db.DeleteAccount(r.Context(), name)
	default:
		return inputErrorf("unknown change %q", op)
	}
	if errors.Is(err, store.ErrNoAccount) {
		return inputErrorf("no account %s", name)
	}
	return err
}
